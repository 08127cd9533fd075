"""``benchmarks/import_cost.py``: the importtime breakdown and the budget verdicts (no timing thresholds)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).resolve().parents[2]


def _module() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "import_cost_under_test", REPO / "benchmarks" / "import_cost.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


LOG = """\
import time: self [us] | cumulative | imported package
import time:       500 |        500 |   airflow.configuration
import time:        10 |        510 | airflow.sdk
import time:      3000 |       3000 |       botocore.exceptions
import time:      1000 |       4000 |     boto3
import time:       200 |       4200 |   airflow.providers.amazon.aws.hooks.base_aws
import time:       100 |       4300 | airflow_provider_smtrain.operators.model_trainer
import time:        50 |         50 | airflow.providers.amazon.aws.links
"""


def test_offenders_sum_self_time_per_package_after_airflow_sdk_only() -> None:
    offenders = _module().offenders(LOG)
    assert offenders == [
        {"package": "botocore", "self_ms": 3.0},
        {"package": "boto3", "self_ms": 1.0},
        {"package": "airflow.providers.amazon", "self_ms": 0.25},
        {"package": "airflow_provider_smtrain", "self_ms": 0.1},
    ]  # airflow.configuration, imported before airflow.sdk finished, is not counted


def _row(name: str, side: str, wall: float, cpu: float) -> dict[str, Any]:
    return {
        "name": name,
        "side": side,
        "sdk_ms": 900.0,
        "wall_ms": wall,
        "cpu_ms": cpu,
        "rss_mib": 1.0,
        "new_modules": 3,
        "loaded_watched": [],
        "offenders": [],
    }


def test_example_dags_are_judged_on_their_cost_over_an_empty_dag() -> None:
    report = {
        "runs": 1,
        "budget_ms": 50.0,
        "cpus": 2,
        "loadavg_end": [1.0, 1.0, 1.0],
        "results": [
            _row("import airflow.sdk (baseline)", "baseline", 0.0, 0.0),
            _row("dag reference", "reference", 80.0, 30.0),
            _row("example_dags/cheap.py", "ours", 120.0, 40.0),
            _row("example_dags/dear.py", "ours", 200.0, 150.0),
            _row("from x import Y", "amazon", 60.0, 45.0),
        ],
    }
    lines = {
        line.split("|")[1].strip(): line for line in _module().render(report).splitlines() if "|" in line
    }
    assert lines["`example_dags/cheap.py`"].endswith("| yes / yes (+10 / +40 ms over the reference) |")
    assert lines["`example_dags/dear.py`"].endswith("| **no** / **no** (+120 / +120 ms over the reference) |")
    assert lines["`from x import Y`"].endswith("| yes / **no** |")

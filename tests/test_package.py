"""Package-level guarantees: parse-time purity and provider registration."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

from airflow.sdk.module_loading import import_string

from airflow_provider_smtrain.get_provider_info import get_provider_info

REPO = Path(__file__).resolve().parents[1]

PURITY_PROBE = r"""
import importlib, json, pkgutil, socket, sys, runpy, glob, os
opened = []
def guard(self, address):
    opened.append(repr(address))
    raise OSError("no sockets at import time")
socket.socket.connect = guard
import airflow_provider_smtrain as pkg
modules = []
for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
    if info.name.startswith(("airflow_provider_smtrain.sdk", "airflow_provider_smtrain.testing")):
        continue
    importlib.import_module(info.name)
    modules.append(info.name)
from airflow.sdk import DAG
dags = []
for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.py"))):
    namespace = runpy.run_path(path)
    dags += [v.dag_id for v in namespace.values() if isinstance(v, DAG)]
heavy = sorted({m.split(".")[0] for m in sys.modules if m.split(".")[0] in ("sagemaker", "pandas", "mlflow")})
print(json.dumps({"modules": modules, "dags": dags, "heavy": heavy, "opened": opened}))
"""


def test_importing_operators_sensors_triggers_and_example_dags_is_pure() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PURITY_PROBE, str(REPO / "example_dags")],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
        env={"PATH": "/usr/bin:/bin", "HOME": "/tmp", "AIRFLOW_HOME": "/tmp/smtrain-purity"},
    )
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert "airflow_provider_smtrain.operators.model_trainer" in report["modules"]
    assert "airflow_provider_smtrain.operators.tuner" in report["modules"]
    assert "airflow_provider_smtrain.sensors.jobs" in report["modules"]
    assert "airflow_provider_smtrain.triggers.jobs" in report["modules"]
    assert "airflow_provider_smtrain.triggers.training" in report["modules"]  # kept for stored triggers
    assert {"smtrain_train_evaluate_deploy", "smtrain_tuning"} <= set(report["dags"])
    assert report["heavy"] == [], f"parse-time imports of heavy modules: {report['heavy']}"
    assert report["opened"] == [], f"sockets opened at import time: {report['opened']}"


PARSE_PROBE = r"""
import glob, json, os, runpy, sys
for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.py"))):
    runpy.run_path(path)
print(json.dumps(sorted(m for m in sys.modules if m.startswith("airflow_provider_smtrain."))))
"""


def test_parsing_the_example_dags_loads_no_specs_sdk_or_triggers() -> None:
    """Operators import specs (~90 ms), triggers (~35 ms) and the SDK only inside their methods."""
    out = subprocess.run(
        [sys.executable, "-c", PARSE_PROBE, str(REPO / "example_dags")],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
        env={"PATH": "/usr/bin:/bin", "HOME": "/tmp", "AIRFLOW_HOME": "/tmp/smtrain-purity"},
    )
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert "airflow_provider_smtrain.operators.model_trainer" in loaded
    late = ("airflow_provider_smtrain.specs", "airflow_provider_smtrain.sdk", "airflow_provider_smtrain.triggers")
    assert [module for module in loaded if module.startswith(late)] == []


def test_provider_info_lists_importable_classes_and_modules() -> None:
    info = get_provider_info()
    assert info["package-name"] == "airflow-provider-smtrain"
    for section in ("hooks", "operators", "sensors", "triggers"):
        for entry in info[section]:
            for module in entry["python-modules"]:
                __import__(module)
    for link in info["extra-links"]:
        assert import_string(link).name
    assert "connection-types" not in info, "the connection type is the amazon provider's 'aws'"


def test_airflow_lists_the_provider() -> None:
    out = subprocess.run(
        [str(Path(sys.executable).with_name("airflow")), "providers", "list", "--output", "json"],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", "HOME": "/tmp", "AIRFLOW_HOME": "/tmp/smtrain-providers"},
    )
    start = out.stdout.index("[")
    names = {p["package_name"] for p in json.loads(out.stdout[start:])}
    assert "airflow-provider-smtrain" in names


def test_testing_extra_declares_what_the_testing_package_imports() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    declared = {
        re.split(r"[\[<>=!~ ;]", requirement, maxsplit=1)[0].lower()
        for requirement in [*project["dependencies"], *project["optional-dependencies"]["testing"]]
    }
    testing = REPO / "airflow_provider_smtrain" / "testing"
    imports_pytest = [
        path.name for path in testing.rglob("*.py") if re.search(r"^(import|from) pytest\b", path.read_text(), re.M)
    ]
    assert "moto" in declared
    assert not imports_pytest or "pytest" in declared, f"{imports_pytest} import pytest"


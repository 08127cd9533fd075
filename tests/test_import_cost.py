"""Parse-time cost, checked without timing: what DAG-facing imports load beyond ``import airflow.sdk``.

``benchmarks/import_cost.py`` measures the milliseconds; this test pins what makes them (boto3 and
botocore alone were ~70 ms of the ~85 ms an operator import cost). Every module under the DAG-facing
packages is found by walking them, so an operator module added later is covered without editing this file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DAG_FACING = ("operators", "sensors", "triggers", "links", "specs")
# Never loaded by a DAG-facing import (airflow.sdk loads none of them either).
FORBIDDEN = ("boto3", "botocore", "aiobotocore", "s3transfer", "sagemaker", "pandas", "numpy", "mlflow")
# Non-stdlib top-level packages a DAG-facing module may load that airflow.sdk did not: none.
ALLOWED_NEW: set[str] = set()

PROBE = r"""
import importlib, importlib.util, json, pkgutil, sys
import airflow.sdk
baseline = set(sys.modules)
forbidden = json.loads(sys.argv[1])
heavy_at_baseline = sorted({m.split(".")[0] for m in baseline} & set(forbidden))
culprits, imported = {}, []
def note(what):
    imported.append(what)
    for name in set(sys.modules) - baseline:
        if name.split(".")[0] in forbidden or name.startswith("airflow.providers.amazon"):
            culprits.setdefault(name.split(".")[0] if not name.startswith("airflow.providers") else
                                "airflow.providers.amazon", what)
for sub in json.loads(sys.argv[2]):
    package = importlib.import_module(f"airflow_provider_smtrain.{sub}")
    note(package.__name__)
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        importlib.import_module(info.name)
        note(info.name)
    for name in getattr(package, "__all__", []):  # lazy (PEP 562) exports resolve too
        getattr(package, name)
    note(package.__name__ + ".__all__")
tops = lambda names: {n.split(".")[0] for n in names}
new_top = sorted(tops(sys.modules) - tops(baseline) - set(sys.stdlib_module_names))
for path in sys.argv[3:]:
    spec = importlib.util.spec_from_file_location("dag_" + str(len(imported)), path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    note(path)
print(json.dumps({"imported": imported, "culprits": culprits, "new_top": new_top,
                  "heavy_at_baseline": heavy_at_baseline}))
"""


def _probe() -> dict[str, object]:
    env = {**os.environ, "AIRFLOW_HOME": "/tmp/smtrain-import-cost", "PYTHONPATH": str(REPO)}
    dags = sorted(str(path) for path in (REPO / "example_dags").glob("*.py"))
    out = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(FORBIDDEN), json.dumps(DAG_FACING), *dags],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
        env=env,
    )
    report: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return report


def test_dag_facing_imports_load_no_aws_sdk_pandas_or_amazon_provider_modules() -> None:
    report = _probe()
    imported = report["imported"]
    assert isinstance(imported, list)
    # the walk really covered the DAG-facing modules and the example DAGs
    for module in (
        "airflow_provider_smtrain.operators.model_trainer",
        "airflow_provider_smtrain.operators.tuner",
        "airflow_provider_smtrain.sensors.jobs",
        "airflow_provider_smtrain.triggers.jobs",
        "airflow_provider_smtrain.links.sagemaker",
        "airflow_provider_smtrain.specs.training",
    ):
        assert module in imported
    assert sum(1 for entry in imported if entry.endswith(".py")) == len(
        list((REPO / "example_dags").glob("*.py"))
    )
    # the check is meaningful only if airflow.sdk itself does not load them
    assert report["heavy_at_baseline"] == []
    assert report["culprits"] == {}, f"first module that loaded each forbidden package: {report['culprits']}"
    assert set(report["new_top"]) <= ALLOWED_NEW, f"new top-level packages: {report['new_top']}"


def test_the_probe_catches_a_module_that_imports_boto3(tmp_path: Path) -> None:
    """The same probe, given a DAG file that imports the amazon operator, names the culprit."""
    dag = tmp_path / "amazon_dag.py"
    dag.write_text("from airflow.providers.amazon.aws.operators.sagemaker import SageMakerTrainingOperator\n")
    env = {**os.environ, "AIRFLOW_HOME": "/tmp/smtrain-import-cost", "PYTHONPATH": str(REPO)}
    out = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(FORBIDDEN), json.dumps(["links"]), str(dag)],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
        env=env,
    )
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["culprits"].get("boto3") == str(dag)
    assert report["culprits"].get("airflow.providers.amazon") == str(dag)
    assert report["new_top"] == []  # the links modules alone add nothing; the DAG file is what loaded boto3

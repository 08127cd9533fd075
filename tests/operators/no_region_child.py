"""Run one operator in a process whose environment has no AWS region (``python -m`` from a test).

The region comes only from the Airflow connection's ``region_name`` extra or the operator's
``region_name``. Prints one JSON line: ``{"ok": true, "result": ...}`` or ``{"ok": false, "error": ...}``.
Usage: ``python -m tests.operators.no_region_child <operator dotted path> '<json kwargs>'``.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime
from typing import Any


def main(argv: list[str]) -> int:
    path, kwargs = argv[0], json.loads(argv[1])
    present = sorted(name for name in ("AWS_REGION", "AWS_DEFAULT_REGION") if name in os.environ)
    if present:
        print(json.dumps({"ok": False, "error": f"the environment has {present}"}))
        return 2
    from airflow_provider_smtrain.testing.network import install_loopback_guard

    install_loopback_guard("no_region_child")
    from airflow.sdk import DAG

    from tests.operators.runner import FakeTI, MemoryStateStore, import_string, run_operator

    operator_class = import_string(path)
    with DAG(dag_id="dag", schedule=None, start_date=datetime(2026, 1, 1)) as dag:
        dag.fileloc = kwargs.pop("dag_file", dag.fileloc)
        operator = operator_class(task_id="no_region", **kwargs)
    try:
        result: Any = run_operator(operator, FakeTI(task_id="no_region"), MemoryStateStore())
    except Exception as err:  # the parent asserts on it
        print(json.dumps({"ok": False, "error": f"{type(err).__name__}: {err}"[:2000]}))
        return 1
    print(json.dumps({"ok": True, "result": result}, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Register one AI Registry dataset in step with registrations in other processes (``python -m`` from a test).

Two Airflow workers running two DAG runs are two processes; within one process the credentials scope
serialises registrations, so the race only exists between processes. The first ``CreateHub`` and the
first ``ImportHubContent`` of each process wait at a file barrier until every sibling reached the same
call (or ``WAIT_SECONDS`` passed), so both have listed the versions and both ask for the same hub and the
same version number: the interleaving that makes the create race happen on every run.
Registers once per round (the rounds' barriers are the subfolders ``0``, ``1``, ... of the barrier folder).
Prints one JSON line: ``{"ok": true, "results": [...]}`` or ``{"ok": false, "error": ...}``.
Usage: ``python -m tests.operators.registry_race_child <barrier dir> <me> <parties> '<json list of kwargs>'``.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

#: The calls both processes make in step.
IN_STEP = ("CreateHub", "ImportHubContent")
#: How long a process waits for its siblings at a barrier before going on alone (a loaded machine can
#: take tens of seconds to start a worker that imports the SDK; the race must still happen).
WAIT_SECONDS = 90.0


def wait_for_siblings(folder: Path, operation: str, me: str, parties: int) -> None:
    """
    Mark this process as at ``operation`` and wait until ``parties`` processes are.

    :param folder: the shared barrier folder.
    :param operation: the call about to be made.
    :param me: this process's name.
    :param parties: how many processes meet.
    """
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{operation}.{me}").touch()
    deadline = time.monotonic() + WAIT_SECONDS
    while len(list(folder.glob(f"{operation}.*"))) < parties and time.monotonic() < deadline:
        time.sleep(0.02)


def in_step(original: Callable[..., Any], folder: Path, me: str, parties: int) -> Callable[..., Any]:
    """
    ``BaseClient._make_api_call`` whose first call of each :data:`IN_STEP` operation waits for the siblings.

    :param original: the botocore method.
    :param folder: the shared barrier folder.
    :param me: this process's name.
    :param parties: how many processes meet.
    """
    met: set[str] = set()

    def call(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        if operation_name in IN_STEP and operation_name not in met:
            met.add(operation_name)
            wait_for_siblings(folder, operation_name, me, parties)
        return original(self, operation_name, api_params)

    return call


def register(kwargs: dict[str, Any], me: str) -> Any:
    """
    Run one ``CreateDataSetOperator`` (its constructor arguments and ``dag_file``); its result.

    :param kwargs: the operator's arguments plus ``dag_file`` (relative sources resolve next to it).
    :param me: the participant's name (its DAG run id).
    """
    from airflow.sdk import DAG

    from airflow_provider_smtrain.operators.registry import CreateDataSetOperator
    from tests.operators.runner import FakeTI, MemoryStateStore, run_operator

    kwargs = dict(kwargs)
    with DAG(dag_id="dag", schedule=None, start_date=datetime(2026, 1, 1)) as dag:
        dag.fileloc = kwargs.pop("dag_file")
        operator = CreateDataSetOperator(task_id="register", **kwargs)
    return run_operator(operator, FakeTI(task_id="register", run_id=f"run_{me}"), MemoryStateStore())


def main(argv: list[str]) -> int:
    folder, me, parties, rounds = Path(argv[0]), argv[1], int(argv[2]), json.loads(argv[3])
    from botocore.client import BaseClient

    original = BaseClient._make_api_call
    results = []
    try:
        for number, kwargs in enumerate(rounds):
            BaseClient._make_api_call = in_step(original, folder / str(number), me, parties)  # type: ignore[method-assign]
            results.append(register(kwargs, f"{me}_{number}"))
    except Exception as err:  # the parent asserts on it
        print(json.dumps({"ok": False, "error": f"{type(err).__name__}: {err}"[:2000]}))
        return 1
    print(json.dumps({"ok": True, "results": results}, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

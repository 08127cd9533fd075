"""
Task state store across tries for the AirflowStack harness tests.

Try 1 writes ``k`` to the AIP-103 task state store and fails; try 2 (``retries=1``, no delay) must read it
back, which proves the store survives retries in this deployment.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG, task

with DAG(dag_id="stack_state_store", schedule=None, start_date=datetime(2025, 1, 1), catchup=False):

    @task(retries=1, retry_delay=timedelta(seconds=0))
    def remember(task_state_store=None, ti=None):
        if ti.try_number == 1:
            task_state_store.set("k", "v")
            task_state_store.set("seen_tries", [1])
            raise RuntimeError("stack_state_store: failing try 1 on purpose")
        value = task_state_store.get("k")
        print(f"stack_state_store: try {ti.try_number} read k={value!r}")
        if value != "v":
            raise AssertionError(f"task_state_store lost k across tries: {value!r}")
        task_state_store.set("seen_tries", [*task_state_store.get("seen_tries"), ti.try_number])
        return {"k": value, "try_number": ti.try_number}

    remember()

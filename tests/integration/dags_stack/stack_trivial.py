"""Trivial DAG for the AirflowStack harness tests: one PythonOperator returning a JSON value."""

from __future__ import annotations

from datetime import datetime

from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG, BaseHook


def _answer(**context):
    print("stack_trivial says hello from the worker")
    # Connections given to the harness as AIRFLOW_CONN_* env vars reach the worker.
    conn = BaseHook.get_connection("stack_test")
    return {
        "answer": 42,
        "conf": dict(context["dag_run"].conf or {}),
        "items": [1, "two", None],
        "conn": [conn.conn_type, conn.host, conn.port, conn.login],
    }


with DAG(dag_id="stack_trivial", schedule=None, start_date=datetime(2025, 1, 1), catchup=False):
    PythonOperator(task_id="answer", python_callable=_answer)

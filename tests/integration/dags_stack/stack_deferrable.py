"""
Deferrable DAGs for the AirflowStack harness tests.

* ``stack_deferrable``: a real provider sensor (``WaitSensor(deferrable=True)``) that defers to the
  triggerer and finishes there (``end_from_trigger``), followed by a normal task.
* ``stack_defer_long``: the same sensor waiting 10 minutes -- to be marked failed while deferred.
* ``stack_defer_resume``: a custom operator that defers with a ``DateTimeTrigger`` and resumes on a worker
  (``execute_complete``) -- used to restart the triggerer while the task is deferred.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.providers.standard.operators.python import PythonOperator
from airflow.providers.standard.sensors.time_delta import WaitSensor
from airflow.providers.standard.triggers.temporal import DateTimeTrigger
from airflow.sdk import DAG, BaseOperator

START = datetime(2025, 1, 1)


class DeferThenResume(BaseOperator):
    """Defer for ``seconds`` to the triggerer, then resume on a worker and return the trigger payload."""

    def __init__(self, *, seconds: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.seconds = seconds

    def execute(self, context: Any) -> None:
        moment = datetime.now(UTC) + timedelta(seconds=self.seconds)
        self.log.info("Deferring until %s", moment.isoformat())
        self.defer(trigger=DateTimeTrigger(moment=moment), method_name="execute_complete")

    def execute_complete(self, context: Any, event: Any = None) -> dict[str, Any]:
        self.log.info("Resumed after trigger event %r", event)
        return {"resumed": True, "try_number": context["ti"].try_number}


with DAG(dag_id="stack_deferrable", schedule=None, start_date=START, catchup=False):
    wait = WaitSensor(task_id="wait", time_to_wait=timedelta(seconds=3), deferrable=True)
    after = PythonOperator(task_id="after", python_callable=lambda: "after-wait")
    wait >> after

with DAG(dag_id="stack_defer_long", schedule=None, start_date=START, catchup=False):
    WaitSensor(task_id="wait", time_to_wait=timedelta(minutes=10), deferrable=True)

with DAG(dag_id="stack_defer_resume", schedule=None, start_date=START, catchup=False):
    DeferThenResume(task_id="defer", seconds=30)

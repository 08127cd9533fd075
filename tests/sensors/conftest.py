"""The sensors use the operators' local SageMaker fixtures; helpers the sensor tests share."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from airflow.sdk import DAG

from tests.operators.conftest import Env, env, store, ti  # noqa: F401

SensorT = TypeVar("SensorT")


def sensor_in_dag(sensor_class: type[SensorT], local: Env, deferrable: bool, **kwargs: Any) -> SensorT:
    """
    The sensor (task ``wait``) in a DAG, on the test connection, poking every 0.2 s.

    :param sensor_class: the sensor class.
    :param local: the local SageMaker environment.
    :param deferrable: whether it defers.
    :param kwargs: the sensor's own arguments.
    """
    with DAG(dag_id="dag", schedule=None, start_date=datetime(2026, 1, 1)):
        return sensor_class(  # type: ignore[call-arg]
            task_id="wait", aws_conn_id=local.conn_id, deferrable=deferrable, poke_interval=0.2, **kwargs
        )


def signers(local: Env) -> set[str]:
    """The access keys that signed the AWS requests so far (the local control API's left out)."""
    return {r["access_key_id"] for r in local.sm.requests() if r["service"] != "local"}

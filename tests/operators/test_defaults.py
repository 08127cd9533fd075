"""Operators are deferrable by default, and an explicit deployment setting wins."""

from __future__ import annotations

from datetime import datetime

import pytest
from airflow.sdk import DAG

from airflow_provider_smtrain.operators.defaults import default_deferrable
from airflow_provider_smtrain.operators.model_trainer import ModelTrainerOperator
from airflow_provider_smtrain.sensors.jobs import TrainingJobSensor


def build() -> tuple[ModelTrainerOperator, TrainingJobSensor]:
    with DAG(dag_id="d", schedule=None, start_date=datetime(2026, 1, 1)):
        operator = ModelTrainerOperator(task_id="t", role="r", output_path="s3://b/o")
        sensor = TrainingJobSensor(task_id="s", job_name="j")
    return operator, sensor


def test_deferrable_by_default_even_though_airflow_defaults_to_blocking(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIRFLOW__SMTRAIN__DEFAULT_DEFERRABLE", raising=False)
    monkeypatch.setenv("AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE", "false")
    assert default_deferrable() is True
    operator, sensor = build()
    assert operator.deferrable is True and sensor.deferrable is True


@pytest.mark.parametrize(("value", "expected"), [("false", False), ("true", True)])
def test_the_provider_setting_decides(monkeypatch: pytest.MonkeyPatch, value: str, expected: bool) -> None:
    monkeypatch.setenv("AIRFLOW__SMTRAIN__DEFAULT_DEFERRABLE", value)
    assert default_deferrable() is expected
    operator, sensor = build()
    assert operator.deferrable is expected and sensor.deferrable is expected

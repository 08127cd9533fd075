"""A named connection that does not exist is an error; only ``aws_conn_id=None`` uses the default chain."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowNotFoundException

from airflow_provider_smtrain.hooks.sagemaker_train import SageMakerTrainHook
from airflow_provider_smtrain.jobs.kinds import TRAINING
from airflow_provider_smtrain.operators.model_trainer import ModelTrainerOperator
from airflow_provider_smtrain.sensors.jobs import TrainingJobSensor
from airflow_provider_smtrain.triggers import TrainingJobTrigger

MISSING = "does_not_exist"
ENV_KEY = "AKIAENVIRONMENTCHAIN"


def test_a_hook_with_a_missing_connection_raises_naming_it(local_sagemaker: Any) -> None:
    local_sagemaker.clear_requests()
    hook = SageMakerTrainHook(aws_conn_id=MISSING)
    with pytest.raises(AirflowNotFoundException, match=MISSING):
        hook.find_job(TRAINING, "any-job")
    with pytest.raises(AirflowNotFoundException, match="aws_conn_id=None"):
        hook.boto_session  # noqa: B018 - the message says how to ask for the default chain
    assert local_sagemaker.requests() == []


def test_an_operator_with_a_missing_connection_fails_before_any_aws_call(local_sagemaker: Any) -> None:
    local_sagemaker.clear_requests()
    operator = ModelTrainerOperator(
        task_id="train",
        aws_conn_id=MISSING,
        role="arn:aws:iam::123456789012:role/r",
        training_image="123456789012.dkr.ecr.us-east-1.amazonaws.com/train:latest",
        output_path="s3://bucket/models",
        deferrable=False,
    )
    context: dict[str, Any] = {"ti": object(), "task_state_store": None, "params": {}}
    with pytest.raises(AirflowNotFoundException, match=MISSING):
        operator.execute(context)  # type: ignore[arg-type]
    assert local_sagemaker.requests() == []


def test_a_sensor_with_a_missing_connection_fails_naming_it(local_sagemaker: Any) -> None:
    local_sagemaker.clear_requests()
    sensor = TrainingJobSensor(task_id="wait", job_name="any-job", aws_conn_id=MISSING, deferrable=False)
    with pytest.raises(AirflowNotFoundException, match=MISSING):
        sensor.poke({})  # type: ignore[arg-type]
    assert local_sagemaker.requests() == []


def test_a_trigger_with_a_missing_connection_fires_an_error_naming_it(local_sagemaker: Any) -> None:
    local_sagemaker.clear_requests()
    trigger = TrainingJobTrigger(job_name="any-job", aws_conn_id=MISSING, poll_interval=0.1)

    async def first() -> dict[str, Any]:
        async for event in trigger.run():
            return dict(event.payload)
        raise AssertionError("no event")

    event = asyncio.run(first())
    assert event["status"] == "error"
    assert f"connection {MISSING!r} does not exist" in event["message"]
    assert local_sagemaker.requests() == []


def test_no_connection_id_uses_the_default_credential_chain(
    local_sagemaker: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in local_sagemaker.aws_env(access_key_id=ENV_KEY).items():
        monkeypatch.setenv(name, value)
    local_sagemaker.clear_requests()
    hook = SageMakerTrainHook(aws_conn_id=None)
    assert hook.find_job(TRAINING, "no-such-job") is None
    assert [r["access_key_id"] for r in local_sagemaker.requests(operation="DescribeTrainingJob")] == [
        ENV_KEY
    ]

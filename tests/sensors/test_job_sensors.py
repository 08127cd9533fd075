"""Training and tuning sensors for jobs started elsewhere."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from airflow.sdk.exceptions import AirflowSensorTimeout

from airflow_provider_smtrain.exceptions import SageMakerJobFailed
from airflow_provider_smtrain.sensors.jobs import TrainingJobSensor
from tests.operators.conftest import Env
from tests.operators.runner import FakeTI, run_operator
from tests.sensors.conftest import sensor_in_dag


def start_job(env: Env, name: str) -> None:
    client = boto3.client(
        "sagemaker", endpoint_url=env.sm.endpoint_url, region_name="us-east-1",
        aws_access_key_id="AKIAELSEWHERE", aws_secret_access_key="x",
    )
    client.create_training_job(
        TrainingJobName=name,
        AlgorithmSpecification={"TrainingImage": "img:latest", "TrainingInputMode": "File"},
        RoleArn=env.role_arn,
        OutputDataConfig={"S3OutputPath": f"s3://{env.bucket}/elsewhere"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
        StoppingCondition={"MaxRuntimeInSeconds": 600},
    )


def make_sensor(env: Env, name: str, deferrable: bool, **kwargs: Any) -> TrainingJobSensor:
    return sensor_in_dag(TrainingJobSensor, env, deferrable, job_name=name, **kwargs)


@pytest.mark.parametrize("deferrable", [True, False])
def test_sensor_returns_the_training_result(env: Env, deferrable: bool) -> None:
    start_job(env, "started-elsewhere")
    result = run_operator(make_sensor(env, "started-elsewhere", deferrable), FakeTI(task_id="wait"), None)
    assert result["job_name"] == "started-elsewhere"
    assert result["status"] == "Completed"


@pytest.mark.parametrize("deferrable", [True, False])
def test_sensor_fails_with_the_jobs_reason(env: Env, deferrable: bool) -> None:
    env.sm.add_rule(kind="training", name_glob="doomed*", outcome="Failed", failure_reason="ClientError: bad data")
    start_job(env, "doomed-job")
    with pytest.raises(SageMakerJobFailed, match="bad data"):
        run_operator(make_sensor(env, "doomed-job", deferrable), FakeTI(task_id="wait"), None)


def test_sensor_timeout_never_stops_the_watched_job(env: Env) -> None:
    env.sm.configure(training_seconds=60)
    start_job(env, "long-job")
    with pytest.raises(AirflowSensorTimeout, match="timeout"):
        run_operator(make_sensor(env, "long-job", True, timeout=1), FakeTI(task_id="wait"), None)
    assert env.sm.requests(operation="StopTrainingJob") == []

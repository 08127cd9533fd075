"""The triggers against the project's LocalSageMaker (moto subprocess with job lifecycles, Stop* APIs, faults)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from airflow_provider_smtrain.testing import LocalSageMaker
from airflow_provider_smtrain.triggers import TrainingJobTrigger
from tests.triggers.trigger_fakes import NO_BOTO_RETRIES, run_trigger, unique_name

CONN_ID = "smtrain_local_sagemaker"
ACCESS_KEY = "AKIDLOCALSMTRIGGER"


@pytest.fixture
def local_sm(local_sagemaker: LocalSageMaker, monkeypatch: pytest.MonkeyPatch) -> LocalSageMaker:
    monkeypatch.setenv(
        f"AIRFLOW_CONN_{CONN_ID.upper()}", local_sagemaker.airflow_connection_json(ACCESS_KEY, "secret")
    )
    return local_sagemaker


def start_training_job(sm: LocalSageMaker, name: str) -> None:
    sm.boto3_client("sagemaker", access_key_id="AKIDSETUP").create_training_job(
        TrainingJobName=name,
        AlgorithmSpecification={"TrainingImage": "img:latest", "TrainingInputMode": "File"},
        RoleArn="arn:aws:iam::123456789012:role/r",
        OutputDataConfig={"S3OutputPath": "s3://bucket/out"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
        StoppingCondition={"MaxRuntimeInSeconds": 600},
    )


def trigger(name: str, **kwargs: Any) -> TrainingJobTrigger:
    return TrainingJobTrigger(
        job_name=name,
        aws_conn_id=CONN_ID,
        botocore_config=NO_BOTO_RETRIES,
        poll_interval=0.1,
        retry_base_delay=0.01,
        retry_max_delay=0.05,
        **kwargs,
    )


def test_job_lifecycle_with_30_percent_throttling(local_sm: LocalSageMaker) -> None:
    local_sm.configure(training_seconds=1.0)
    name = unique_name("throttled")
    start_training_job(local_sm, name)
    local_sm.set_faults(throttle_rate=0.3, operations=["DescribeTrainingJob"], seed=1)

    event = run_trigger(trigger(name))

    assert event["status"] == "succeeded", event
    assert event["job_status"] == "Completed"
    describes = local_sm.requests(operation="DescribeTrainingJob")
    assert len(describes) >= 5
    assert any(r["fault"] == "throttle" for r in describes)
    assert {r["access_key_id"] for r in describes} == {ACCESS_KEY}  # the connection signs, not ambient creds


def test_deadline_stop_reaches_local_sagemaker(local_sm: LocalSageMaker) -> None:
    local_sm.configure(training_seconds=60.0)
    name = unique_name("deadline")
    start_training_job(local_sm, name)

    event = run_trigger(trigger(name, deadline=time.time() + 0.5))

    assert event["status"] == "deadline"
    stops = local_sm.requests(operation="StopTrainingJob")
    assert [r["access_key_id"] for r in stops] == [ACCESS_KEY]
    status = local_sm.boto3_client("sagemaker").describe_training_job(TrainingJobName=name)[
        "TrainingJobStatus"
    ]
    assert status in ("Stopping", "Stopped")
    json.dumps(event)

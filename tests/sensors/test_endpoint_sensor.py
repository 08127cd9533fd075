"""EndpointSensor: waits for an endpoint created or updated elsewhere."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_smtrain.exceptions import SageMakerJobFailed
from airflow_provider_smtrain.sensors.endpoint import EndpointSensor
from tests.operators.conftest import CONNECTION_ACCESS_KEY, Env
from tests.operators.runner import FakeTI, run_operator
from tests.sensors.conftest import sensor_in_dag, signers


def create_elsewhere(env: Env, name: str) -> None:
    client = env.sm.boto3_client("sagemaker", access_key_id="AKIAELSEWHERE")
    client.create_model(ModelName=name, ExecutionRoleArn=env.role_arn,
                        PrimaryContainer={"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/serve:1"})
    client.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[
        {"VariantName": "AllTraffic", "ModelName": name, "InstanceType": "ml.m5.large", "InitialInstanceCount": 1}])
    client.create_endpoint(EndpointName=name, EndpointConfigName=name)


def make_sensor(env: Env, deferrable: bool, **kwargs: Any) -> EndpointSensor:
    return sensor_in_dag(EndpointSensor, env, deferrable, **kwargs)


@pytest.mark.parametrize("deferrable", [True, False])
def test_sensor_returns_the_endpoint_result_once_in_service(env: Env, deferrable: bool) -> None:
    env.sm.configure(endpoint_seconds=0.6)
    create_elsewhere(env, "shared-endpoint")
    env.sm.clear_requests()
    result = run_operator(make_sensor(env, deferrable, endpoint_name="shared-endpoint"), FakeTI(task_id="wait"), None)
    assert (result["kind"], result["status"], result["endpoint_config_name"]) == (
        "endpoint", "InService", "shared-endpoint")
    assert signers(env) == {CONNECTION_ACCESS_KEY}
    assert env.sm.requests(operation="UpdateEndpoint") == []  # the sensor never changes the endpoint


@pytest.mark.parametrize("deferrable", [True, False])
def test_sensor_fails_with_the_reason_of_a_failed_endpoint(env: Env, deferrable: bool) -> None:
    env.sm.configure(endpoint_seconds=0.4)
    env.sm.add_rule(kind="endpoint", name_glob="broken-*", outcome="Failed", failure_reason="CapacityError: none left")
    create_elsewhere(env, "broken-endpoint")
    with pytest.raises(SageMakerJobFailed, match="CapacityError: none left"):
        run_operator(make_sensor(env, deferrable, endpoint_name="broken-endpoint"), FakeTI(task_id="wait"), None)

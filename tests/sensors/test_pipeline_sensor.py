"""PipelineExecutionSensor: an evaluation started elsewhere, waited for until it succeeds or fails; never stopped."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_smtrain.exceptions import SageMakerJobFailed
from airflow_provider_smtrain.sensors import PipelineExecutionSensor
from tests.operators.conftest import Env
from tests.operators.runner import FakeTI, run_operator
from tests.sensors.conftest import sensor_in_dag
from tests.testing import evaluation_pipelines as ep


def start_elsewhere(env: Env, name: str) -> str:
    """An evaluation pipeline created and started by someone else (another key)."""
    client = env.sm.boto3_client("sagemaker", access_key_id="AKIAELSEWHERE")
    ep.create(env.sm, client, name, "DETERMINISTIC_TEMPLATE", env.bucket)
    return str(client.start_pipeline_execution(
        PipelineName=name, PipelineExecutionDisplayName="nightly", ClientRequestToken=ep.token(3)
    )["PipelineExecutionArn"])


def make_sensor(env: Env, arn: str, deferrable: bool) -> PipelineExecutionSensor:
    return sensor_in_dag(PipelineExecutionSensor, env, deferrable, job_name=arn)


@pytest.mark.parametrize("deferrable", [True, False])
def test_sensor_returns_the_evaluation_result(env: Env, deferrable: bool) -> None:
    arn = start_elsewhere(env, "SagemakerEvaluation-BenchmarkEvaluation-elsewhere")
    result: dict[str, Any] = run_operator(make_sensor(env, arn, deferrable), FakeTI(task_id="wait"), None)
    assert (result["kind"], result["job_name"], result["status"]) == ("pipeline_execution", arn, "Succeeded")
    assert result["evaluation_type"] == "benchmark"
    assert result["console_url"].endswith(arn.rsplit("/", 1)[-1])
    assert env.sm.requests(operation="StopPipelineExecution") == []


def test_sensor_fails_with_the_executions_reason(env: Env) -> None:
    env.sm.add_rule(kind="pipeline_execution", name_glob="*doomed*", outcome="Failed",
                    failure_reason="ClientError: judge quota exceeded")
    arn = start_elsewhere(env, "SagemakerEvaluation-BenchmarkEvaluation-doomed")
    with pytest.raises(SageMakerJobFailed, match="Failed"):
        run_operator(make_sensor(env, arn, True), FakeTI(task_id="wait"), None)
    assert env.sm.requests(operation="StopPipelineExecution") == []

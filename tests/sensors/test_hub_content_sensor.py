"""HubContentSensor: waits for AI Registry content registered elsewhere."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

import pytest
from airflow.sdk import DAG

from airflow_provider_smtrain.exceptions import SageMakerJobFailed
from airflow_provider_smtrain.sensors.registry import HubContentSensor
from tests.operators.conftest import CONNECTION_ACCESS_KEY, Env
from tests.operators.runner import FakeTI, run_operator
from tests.sensors.conftest import sensor_in_dag, signers


def registry_hub_name(account: str = "123456789012", region: str = "us-east-1") -> str:
    """The AI Registry hub name the SDK derives (``AIRHub._generate_hub_names``)."""
    from sagemaker.ai_registry.utils import base32_encode

    return str(base32_encode(hashlib.sha256(f"AiRegistry-{region}-{account}".encode()).digest()).strip("="))


def register_elsewhere(env: Env, name: str, version: str = "1.0.0", content_type: str = "DataSet") -> None:
    client = env.sm.boto3_client("sagemaker", access_key_id="AKIAELSEWHERE")
    hub = registry_hub_name()
    if not client.list_hubs()["HubSummaries"]:
        client.create_hub(HubName=hub, HubDescription="AI Registry Hub")
    document = (
        {"DatasetS3Bucket": "b", "DatasetS3Prefix": "d.jsonl"} if content_type == "DataSet"
        else {"SubType": "AWS/Evaluator", "JsonContent": json.dumps({"Reference": "s3://b/p.txt",
                                                                       "EvaluatorType": "RewardPrompt"})}
    )
    client.import_hub_content(
        HubName=hub, HubContentType=content_type, HubContentName=name, HubContentVersion=version,
        DocumentSchemaVersion="2.0.0", HubContentDocument=json.dumps(document),
    )


def make_sensor(env: Env, deferrable: bool, **kwargs: Any) -> HubContentSensor:
    return sensor_in_dag(HubContentSensor, env, deferrable, **kwargs)


@pytest.mark.parametrize("deferrable", [True, False])
def test_sensor_returns_the_registry_result_once_available(env: Env, deferrable: bool) -> None:
    env.sm.configure(hub_import_seconds=0.6)
    register_elsewhere(env, "shared-data")
    env.sm.clear_requests()
    result = run_operator(make_sensor(env, deferrable, hub_content_name="shared-data"), FakeTI(task_id="wait"), None)
    assert (result["status"], result["name"], result["version"]) == ("Available", "shared-data", "1.0.0")
    assert result["reference"] == "s3://b/d.jsonl" and result["content_sha256"] is None
    assert signers(env) == {CONNECTION_ACCESS_KEY}


@pytest.mark.parametrize("deferrable", [True, False])
def test_sensor_fails_with_the_import_failure_reason(env: Env, deferrable: bool) -> None:
    env.sm.add_rule(kind="hub_content", name_glob="judge", outcome="Failed", failure_reason="Prompt not found")
    env.sm.configure(hub_import_seconds=0.3)
    register_elsewhere(env, "judge", content_type="JsonDoc")
    with pytest.raises(SageMakerJobFailed, match="ImportFailed: Prompt not found"):
        run_operator(make_sensor(env, deferrable, hub_content_name="judge", hub_content_type="evaluator"),
                     FakeTI(task_id="wait"), None)


def test_sensor_watches_a_given_version(env: Env) -> None:
    register_elsewhere(env, "shared-data", "1.0.0")
    register_elsewhere(env, "shared-data", "2.0.0")
    env.sm.configure(hub_import_seconds=0.1)
    result = run_operator(make_sensor(env, True, hub_content_name="shared-data", hub_content_version="1.0.0"),
                          FakeTI(task_id="wait"), None)
    assert result["version"] == "1.0.0"


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"hub_content_name": "-bad-"}, "hub_content_name"),
        ({"hub_content_name": "ok", "hub_content_type": "Model"}, "hub_content_type"),
        ({"hub_content_name": "ok", "hub_content_version": "latest"}, "hub_content_version"),
    ],
)
def test_bad_arguments_fail_before_any_aws_call(env: Env, arguments: dict[str, Any], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        run_operator(make_sensor(env, True, **arguments), FakeTI(task_id="wait"), None)
    assert [r for r in env.sm.requests() if r["service"] != "local"] == []


def test_an_operator_that_does_not_wait_hands_over_to_the_sensor(env: Env, tmp_path: Any) -> None:
    from airflow_provider_smtrain.operators.registry import CreateEvaluatorOperator

    env.sm.configure(hub_import_seconds=1.0)
    with DAG(dag_id="dag", schedule=None, start_date=datetime(2026, 1, 1)):
        register = CreateEvaluatorOperator(
            task_id="register", aws_conn_id=env.conn_id, name="judge", type="RewardPrompt",
            source=f"s3://{env.bucket}/data/train/train.csv", wait_for_completion=False,
        )
    started = run_operator(register, FakeTI(task_id="register"), None)
    assert started["status"] == "Importing" and started["version"] == "1.0.0"
    sensor = make_sensor(env, True, hub_content_name="judge", hub_content_type="Evaluator",
                         hub_content_version=started["version"])
    done = run_operator(sensor, FakeTI(task_id="wait"), None)
    assert (done["arn"], done["status"]) == (started["arn"], "Available")
    assert done["content_sha256"] == started["content_sha256"] is not None

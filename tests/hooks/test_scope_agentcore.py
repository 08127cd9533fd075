"""MultiTurnRL's direct ``bedrock-agentcore-control`` clients are signed by the connection inside the scope."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_smtrain.hooks.sagemaker_train import SageMakerTrainHook
from airflow_provider_smtrain.specs.multi_turn_rl import AGENT_RUNTIME_ARN, AGENT_RUNTIME_ID
from tests.hooks.conftest import connection_hook

CONN_KEY = "AKIAAGENTCORESCOPE01"
SETUP_KEY = "AKIAAGENTCORESETUP01"


@pytest.fixture
def hook(local_sagemaker: Any, monkeypatch: pytest.MonkeyPatch) -> SageMakerTrainHook:
    return connection_hook(local_sagemaker, monkeypatch, "agentcore_test", CONN_KEY, "agentcore-bucket")


@pytest.fixture
def runtime(local_sagemaker: Any) -> dict[str, Any]:
    import boto3

    client = boto3.session.Session(
        aws_access_key_id=SETUP_KEY, aws_secret_access_key="setup-secret", region_name="us-east-1"
    ).client("bedrock-agentcore-control", endpoint_url=local_sagemaker.endpoint_url)
    created: dict[str, Any] = client.create_agent_runtime(
        agentRuntimeName="travelAgent",
        agentRuntimeArtifact={
            "containerConfiguration": {"containerUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/a:1"}
        },
        roleArn="arn:aws:iam::123456789012:role/AgentRole",
        networkConfiguration={"networkMode": "PUBLIC"},
    )
    local_sagemaker.clear_requests()
    return created


def agentcore_signers(local_sagemaker: Any) -> list[str]:
    return [r["access_key_id"] for r in local_sagemaker.requests(service="bedrock-agentcore")]


def test_local_runtimes_have_the_shapes_the_sdk_checks(runtime: dict[str, Any]) -> None:
    import re

    assert re.fullmatch(AGENT_RUNTIME_ID, runtime["agentRuntimeId"])
    assert runtime["agentRuntimeId"].startswith("travelAgent-")
    assert re.fullmatch(AGENT_RUNTIME_ARN, runtime["agentRuntimeArn"])
    assert runtime["agentRuntimeArn"].endswith(f":runtime/{runtime['agentRuntimeId']}")


def test_sdk_runtime_lookups_without_a_session_use_the_connection(
    hook: SageMakerTrainHook, runtime: dict[str, Any], local_sagemaker: Any, ambient_access_key: str
) -> None:
    with hook.sdk_scope():
        from sagemaker.train.multi_turn_rl_trainer import MultiTurnRLTrainer, _resolve_agent_runtime_arn

        # exactly as MultiTurnRLTrainer.__init__ calls it: no session, so a fresh boto3.Session()
        arn = _resolve_agent_runtime_arn(runtime["agentRuntimeId"])
        listed = MultiTurnRLTrainer.list_bedrock_agentcore_runtimes()
    assert arn == runtime["agentRuntimeArn"]
    assert [r["runtime_id"] for r in listed] == [runtime["agentRuntimeId"]]
    signers = agentcore_signers(local_sagemaker)
    assert len(signers) == 2 and set(signers) == {CONN_KEY}, signers
    assert ambient_access_key not in signers


def test_outside_the_scope_the_sdk_would_sign_with_ambient_credentials(
    runtime: dict[str, Any], local_sagemaker: Any, ambient_access_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hazard the scope closes: the SDK's own client ignores the task's connection."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", local_sagemaker.endpoint_url)
    from sagemaker.train.multi_turn_rl_trainer import _resolve_agent_runtime_arn

    assert _resolve_agent_runtime_arn(runtime["agentRuntimeId"]) == runtime["agentRuntimeArn"]
    assert agentcore_signers(local_sagemaker) == [ambient_access_key]


def test_the_provider_resolves_a_bare_runtime_id_on_the_connection_session(
    hook: SageMakerTrainHook, runtime: dict[str, Any], local_sagemaker: Any
) -> None:
    from airflow_provider_smtrain.sdk.multi_turn_rl import resolve_agent_env

    with hook.sdk_scope() as session:
        resolved = resolve_agent_env(session.boto_session, runtime["agentRuntimeId"])
        unchanged = resolve_agent_env(session.boto_session, runtime["agentRuntimeArn"])
    assert resolved == unchanged == runtime["agentRuntimeArn"]
    assert agentcore_signers(local_sagemaker) == [CONN_KEY], "one lookup, for the bare id only"

"""The credentials scope pins every SDK client to the connection's session and restores the process."""

from __future__ import annotations

import os
import sys
from typing import Any

import boto3
import pytest

from airflow_provider_smtrain.hooks.credentials import sdk_credentials_scope
from airflow_provider_smtrain.hooks.sagemaker_train import SageMakerTrainHook
from tests.hooks.conftest import connection_hook

CONN_KEY = "AKIASCOPECONNECTION1"


@pytest.fixture
def hook(local_sagemaker: Any, monkeypatch: pytest.MonkeyPatch) -> SageMakerTrainHook:
    return connection_hook(local_sagemaker, monkeypatch, "scope_test", CONN_KEY, "scope-bucket")


def test_inside_the_scope_every_way_of_making_a_client_uses_the_connection(
    hook: SageMakerTrainHook, local_sagemaker: Any, ambient_access_key: str
) -> None:
    local_sagemaker.clear_requests()
    with hook.sdk_scope() as session:
        # the three ways the SDK makes clients: the given session, boto3's default session, a fresh one
        session.sagemaker_client.list_training_jobs()
        boto3.client("sagemaker").list_training_jobs()
        boto3.session.Session().client("sagemaker").list_training_jobs()
        assert os.environ["AWS_ACCESS_KEY_ID"] == CONN_KEY
        assert os.environ["AWS_ENDPOINT_URL"] == local_sagemaker.endpoint_url
    signers = [r["access_key_id"] for r in local_sagemaker.requests(operation="ListTrainingJobs")]
    assert signers == [CONN_KEY] * 3
    assert ambient_access_key not in signers


def test_the_process_is_restored_after_the_scope(hook: SageMakerTrainHook, ambient_access_key: str) -> None:
    before_env = dict(os.environ)
    before_default = boto3.DEFAULT_SESSION
    with hook.sdk_scope():
        assert boto3.DEFAULT_SESSION is hook.boto_session
        assert boto3._get_default_session() is hook.boto_session
    assert dict(os.environ) == before_env
    assert os.environ["AWS_ACCESS_KEY_ID"] == ambient_access_key
    assert boto3.DEFAULT_SESSION is before_default


def test_the_process_is_restored_when_the_sdk_call_raises(hook: SageMakerTrainHook) -> None:
    before_env = dict(os.environ)
    with pytest.raises(RuntimeError, match="boom"), hook.sdk_scope():
        raise RuntimeError("boom")
    assert dict(os.environ) == before_env


def test_sdk_telemetry_and_class_level_clients_are_patched_only_inside(hook: SageMakerTrainHook) -> None:
    with hook.sdk_scope():
        import sagemaker.ai_registry.air_hub as air_hub_module  # creates class-level clients at import
        import sagemaker.core.telemetry.telemetry_logging as telemetry

        assert telemetry._send_telemetry_request(0, [], None) is None
    original_send = telemetry._send_telemetry_request
    air_hub = air_hub_module.AIRHub
    with hook.sdk_scope():
        assert telemetry._send_telemetry_request is not original_send
        client = air_hub._sagemaker_client
        assert client.meta.endpoint_url == hook.conn_config.endpoint_url
        assert client._request_signer._credentials.access_key == CONN_KEY
    assert telemetry._send_telemetry_request is original_send


def test_the_sdk_session_is_built_once_and_shared(hook: SageMakerTrainHook) -> None:
    with hook.sdk_scope() as first:
        pass
    with hook.sdk_scope() as second:
        pass
    assert first is second
    assert first.boto_session is hook.boto_session
    assert first.default_bucket() == "scope-bucket"


def test_a_connection_without_credentials_is_refused() -> None:
    class NoCredentials:
        region_name = "us-east-1"

        def get_credentials(self) -> None:
            return None

    with pytest.raises(RuntimeError, match="no credentials"), sdk_credentials_scope(NoCredentials()):
        pass


def test_importing_the_hook_imports_no_sdk() -> None:
    import subprocess

    code = "import sys, airflow_provider_smtrain.hooks.sagemaker_train; print(any(m.startswith('sagemaker') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "False"


def test_air_hub_class_clients_sign_with_the_connection_and_its_hub_name_never_outlives_a_scope(
    hook: SageMakerTrainHook, local_sagemaker: Any, monkeypatch: pytest.MonkeyPatch, ambient_access_key: str
) -> None:
    with hook.sdk_scope():
        from sagemaker.ai_registry.air_hub import AIRHub

        AIRHub._generate_hub_names("us-east-1", "111111111111")  # cached by an earlier caller, another account
    assert "hubName" not in AIRHub.__dict__, "a hub name cached inside a scope is forgotten on exit"
    monkeypatch.setattr(AIRHub, "hubName", "OtherAccountsHub", raising=False)
    for attr, service in (("_s3_client", "s3"), ("_sagemaker_client", "sagemaker")):  # as built at import
        ambient = boto3.client(service, endpoint_url=local_sagemaker.endpoint_url, region_name="us-east-1")
        monkeypatch.setattr(AIRHub, attr, ambient)
    local_sagemaker.clear_requests()
    with hook.sdk_scope():
        assert "hubName" not in AIRHub.__dict__, "a hub name cached outside is not used inside"
        name = AIRHub.get_hub_name()  # STS with the connection: the connection's account
        AIRHub._s3_client.list_buckets()
        AIRHub._sagemaker_client.list_hubs()
    assert name != "OtherAccountsHub" and AIRHub.hubName == "OtherAccountsHub"  # restored
    signers = {(r["operation"], r["access_key_id"]) for r in local_sagemaker.requests() if r["service"] != "local"}
    assert signers == {("GetCallerIdentity", CONN_KEY), ("ListBuckets", CONN_KEY), ("ListHubs", CONN_KEY)}

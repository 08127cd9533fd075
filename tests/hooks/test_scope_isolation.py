"""The credentials scope is invisible to other threads, and ``verify`` reaches every client made inside it."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from airflow_provider_smtrain.hooks.sagemaker_train import SageMakerTrainHook

CONN_KEY = "AKIASCOPEISOLATION01"
SCOPE_REGION = "eu-west-1"


def connection_json(sm: Any, **extra: Any) -> str:
    conn = json.loads(sm.airflow_connection_json(access_key_id=CONN_KEY, secret_access_key="iso-secret"))
    conn["extra"].update(extra)
    return json.dumps(conn)


@pytest.fixture
def hook(local_sagemaker: Any, monkeypatch: pytest.MonkeyPatch) -> SageMakerTrainHook:
    monkeypatch.setenv("AIRFLOW_CONN_ISOLATION_TEST", connection_json(local_sagemaker))
    return SageMakerTrainHook(aws_conn_id="isolation_test", region_name=SCOPE_REGION, default_bucket="b")


def _signing_key(client: Any) -> str:
    return str(client._request_signer._credentials.access_key)


def _what_a_thread_sees() -> dict[str, Any]:
    return {
        "env_key": os.environ.get("AWS_ACCESS_KEY_ID"),
        "env_region": os.environ.get("AWS_DEFAULT_REGION"),
        "env_endpoint": os.environ.get("AWS_ENDPOINT_URL"),
        "getenv_key": os.getenv("AWS_ACCESS_KEY_ID"),
        "fresh_session_key": boto3.session.Session().get_credentials().access_key,
        "fresh_session_region": boto3.session.Session().region_name,
        "default_client_key": _signing_key(boto3.client("sagemaker")),
        "default_client_region": boto3.client("sagemaker").meta.region_name,
    }


def _run_in_thread_while_scoped(
    hook: SageMakerTrainHook, probe: Callable[[], dict[str, Any]]
) -> dict[str, Any]:
    """Run ``probe`` in another thread while this thread is inside the scope; return what it saw."""
    seen: dict[str, Any] = {}
    inside = threading.Event()

    def other() -> None:
        inside.wait(10)
        seen.update(probe())

    thread = threading.Thread(target=other)
    thread.start()
    with hook.sdk_scope():
        inside.set()
        thread.join(10)
        # and the scope's own thread still sees the scope, after the other thread looked
        assert os.environ["AWS_ACCESS_KEY_ID"] == CONN_KEY
        assert _signing_key(boto3.client("sagemaker")) == CONN_KEY
    assert not thread.is_alive()
    return seen


def test_another_thread_keeps_its_own_credentials_region_and_endpoint_during_the_scope(
    hook: SageMakerTrainHook, ambient_access_key: str
) -> None:
    seen = _run_in_thread_while_scoped(hook, _what_a_thread_sees)
    assert seen == {
        "env_key": ambient_access_key,
        "env_region": "us-east-1",
        "env_endpoint": None,
        "getenv_key": ambient_access_key,
        "fresh_session_key": ambient_access_key,
        "fresh_session_region": "us-east-1",
        "default_client_key": ambient_access_key,
        "default_client_region": "us-east-1",
    }


def test_a_thread_the_scope_starts_works_with_the_scope(hook: SageMakerTrainHook) -> None:
    seen: dict[str, Any] = {}
    with hook.sdk_scope():
        thread = threading.Thread(target=lambda: seen.update(_what_a_thread_sees()))
        thread.start()
        thread.join(10)
    assert seen["env_key"] == seen["fresh_session_key"] == seen["default_client_key"] == CONN_KEY
    assert seen["env_region"] == seen["fresh_session_region"] == seen["default_client_region"] == SCOPE_REGION


def test_another_threads_environment_writes_are_kept(hook: SageMakerTrainHook) -> None:
    def write() -> dict[str, Any]:
        os.environ["SMTRAIN_ISOLATION_PROBE"] = "set-by-other-thread"
        return {}

    try:
        _run_in_thread_while_scoped(hook, write)
        assert os.environ["SMTRAIN_ISOLATION_PROBE"] == "set-by-other-thread"
    finally:
        os.environ.pop("SMTRAIN_ISOLATION_PROBE", None)


@pytest.mark.parametrize("where", ["connection", "operator"])
def test_verify_false_reaches_every_client_made_inside_the_scope(
    local_sagemaker: Any, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    extra = {"verify": False} if where == "connection" else {}
    monkeypatch.setenv("AIRFLOW_CONN_VERIFY_TEST", connection_json(local_sagemaker, **extra))
    kwargs: dict[str, Any] = {"verify": False} if where == "operator" else {}
    hook = SageMakerTrainHook(aws_conn_id="verify_test", default_bucket="b", **kwargs)
    assert hook.verify is False
    with hook.sdk_scope() as session:
        clients = {
            "sdk session": session.sagemaker_client,
            "sdk s3": session.s3_client,
            "boto3.client": boto3.client("sagemaker"),
            "fresh session": boto3.session.Session().client("s3"),
        }
        assert {name: c._endpoint.http_session._verify for name, c in clients.items()} == dict.fromkeys(
            clients, False
        )
        # an explicit verify given by the caller still wins (botocore then verifies with its bundle)
        assert boto3.client("s3", verify=True)._endpoint.http_session._verify not in (False, None)
    assert boto3.client("sagemaker")._endpoint.http_session._verify not in (False, None)


def test_a_ca_bundle_path_reaches_the_sdk_clients(
    local_sagemaker: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    bundle = str(tmp_path / "ca.pem")
    monkeypatch.setenv("AIRFLOW_CONN_BUNDLE_TEST", connection_json(local_sagemaker, verify=bundle))
    hook = SageMakerTrainHook(aws_conn_id="bundle_test", default_bucket="b")
    with hook.sdk_scope() as session:
        assert session.sagemaker_client._endpoint.http_session._verify == bundle
        assert boto3.client("s3")._endpoint.http_session._verify == bundle


def test_nested_scopes_of_two_connections_restore_the_outer_one(
    hook: SageMakerTrainHook, local_sagemaker: Any, monkeypatch: pytest.MonkeyPatch, ambient_access_key: str
) -> None:
    conn = json.loads(local_sagemaker.airflow_connection_json(access_key_id="AKIAINNERSCOPE000001"))
    monkeypatch.setenv("AIRFLOW_CONN_INNER_TEST", json.dumps(conn))
    inner = SageMakerTrainHook(aws_conn_id="inner_test", region_name="us-west-2")
    with hook.sdk_scope():
        with inner.sdk_scope():
            assert (os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_REGION"]) == (
                "AKIAINNERSCOPE000001",
                "us-west-2",
            )
            assert _signing_key(boto3.client("sagemaker")) == "AKIAINNERSCOPE000001"
        assert (os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_REGION"]) == (CONN_KEY, SCOPE_REGION)
        assert _signing_key(boto3.client("sagemaker")) == CONN_KEY
    assert os.environ["AWS_ACCESS_KEY_ID"] == ambient_access_key
    assert "AWS_REGION" not in os.environ

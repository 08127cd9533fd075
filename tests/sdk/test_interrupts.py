"""The interruption guard (``sdk/interrupts.py``) against the SDK's real telemetry decorator.

SDK functions here are made with ``_telemetry_emitter`` itself, so the swallowing is the SDK's own; the alarm
is Airflow's own execution timeout (:mod:`tests.operators.interruptions`). Requests go to a closed local port:
one that were sent would fail with a connection error, an ``Exception`` the decorator lets through.
"""

from __future__ import annotations

import signal
from types import SimpleNamespace
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowTaskTimeout

from airflow_provider_smtrain.sdk.interrupts import SIGNALS, sdk_call
from tests.operators.interruptions import armed_execution_timeout

#: Telemetry off, as the hook's SDK session has it.
SESSION = SimpleNamespace(
    sagemaker_config={"SchemaVersion": "1.0", "SageMaker": {"PythonSDK": {"Modules": {"TelemetryOptOut": True}}}},
    local_mode=False,
    endpoint_arn=None,
)


def telemetry(func: Any) -> Any:
    from sagemaker.core.telemetry.constants import Feature
    from sagemaker.core.telemetry.telemetry_logging import _telemetry_emitter

    return _telemetry_emitter(feature=Feature.MODEL_CUSTOMIZATION, func_name=func.__name__)(func)


def closed_port_client() -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3", region_name="us-east-1", endpoint_url="http://127.0.0.1:9", aws_access_key_id="AKIDTEST",
        aws_secret_access_key="secret", config=Config(retries={"max_attempts": 1}, connect_timeout=2),
    )


class FakeSdk:
    """An SDK entry point whose nested, decorated step is interrupted; the SDK then carries on."""

    sagemaker_session = SESSION

    def __init__(self, ring: Any) -> None:
        self.ring = ring
        self.carried_on = False

    @telemetry
    def step(self) -> str:
        self.ring()  # Airflow's SIGALRM handler raises AirflowTaskTimeout here
        return "done"

    @telemetry
    def entry(self) -> str:
        result = self.step()  # None: the decorator swallowed the timeout
        self.carried_on = True
        closed_port_client().list_buckets()  # more requests after the timeout
        return f"step returned {result}"


def test_the_sdk_swallows_the_timeout_without_the_guard() -> None:
    """The SDK behaviour the guard exists for: the timeout vanishes and the SDK sends its next request."""
    from botocore.exceptions import EndpointConnectionError

    with armed_execution_timeout() as ring:
        sdk = FakeSdk(ring)
        with pytest.raises(EndpointConnectionError):
            sdk.entry()
    assert sdk.carried_on


def test_a_timeout_swallowed_inside_the_sdk_reaches_the_caller_and_no_request_follows_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from botocore.endpoint import Endpoint

    send = Endpoint._send
    sent: list[Any] = []
    monkeypatch.setattr(Endpoint, "_send", lambda self, request: sent.append(request) or send(self, request))
    with armed_execution_timeout() as ring:
        sdk = FakeSdk(ring)
        with pytest.raises(AirflowTaskTimeout, match="Timeout, PID"), sdk_call():
            sdk.entry()
    assert sdk.carried_on  # the SDK did carry on; its request was refused before anything was sent
    assert sent == []


def test_a_timeout_after_the_sdk_call_returned_normally_is_raised_when_the_block_ends() -> None:
    """The decorated call returns ``None`` and the SDK's caller (ours) goes on without any request."""
    with armed_execution_timeout() as ring:
        sdk = FakeSdk(ring)
        with pytest.raises(AirflowTaskTimeout), sdk_call():
            assert sdk.step() is None


def test_another_error_after_a_swallowed_timeout_gives_way_to_the_timeout() -> None:
    with armed_execution_timeout() as ring:
        sdk = FakeSdk(ring)
        with pytest.raises(AirflowTaskTimeout) as raised, sdk_call():
            sdk.step().upper()  # the SDK's error about the None it got
    assert isinstance(raised.value.__cause__, AttributeError)


def test_errors_pass_unchanged_and_everything_is_put_back() -> None:
    from botocore.endpoint import Endpoint

    make_request = Endpoint.make_request
    handlers = {name: signal.getsignal(getattr(signal, name)) for name in SIGNALS}
    with pytest.raises(KeyError), sdk_call():
        raise KeyError("x")
    with sdk_call() as guard:
        with sdk_call():
            assert Endpoint.make_request is not make_request
    assert guard.interruption is None
    assert Endpoint.make_request is make_request
    assert {name: signal.getsignal(getattr(signal, name)) for name in SIGNALS} == handlers

"""Pin every AWS client the SageMaker SDK creates to one boto3 session for the duration of a call.

The SDK ignores the session it is given in many places (module-level ``boto3.client(...)`` calls,
fresh ``boto3.Session()`` objects, clients created in class bodies at import time, an explicit STS
endpoint, a telemetry thread). :func:`sdk_credentials_scope` closes those holes for the code it runs
(see the limits below) and restores the process afterwards:

* ``boto3.DEFAULT_SESSION`` and ``boto3.client(...)``'s default session are the hook's session;
* the hook's frozen credentials, region, endpoints and CA bundle are the AWS variables of
  ``os.environ`` (fresh ``boto3.Session()`` paths and clients built without an endpoint);
* clients created without ``verify`` get the connection's ``verify`` (``False`` or a CA bundle);
* the SDK's cached ``SageMakerClient`` instances are dropped on entry and exit;
* class-level clients of ``AIRHub`` are replaced with clients of the hook's session, and its cached
  hub name (derived from the account that asked first) is forgotten on entry and exit;
* the explicit regional STS endpoint follows the connection's endpoint, when it has one;
* SDK telemetry is switched off.

Isolation, precisely. The first four apply to the *scope's threads* only: the thread that entered
the scope and the threads it starts inside it (:mod:`~airflow_provider_smtrain.hooks.thread_scope`).
Every other thread of the process keeps seeing its own environment variables, default session and
``verify`` while a scope is active, and its writes to ``os.environ`` are kept. The last four are
process-wide patches of SageMaker SDK internals, so SDK code must only run inside a scope. Scopes
are serialised by a process-wide re-entrant lock: a second thread that enters a scope (even for
another connection) waits until the first has left. A child process started inside the scope without
``env=`` inherits the process's real environment, not the scope's, and a thread that already existed
before the scope (a long-lived thread pool's worker) is not one of the scope's threads: SDK calls that
hand work to such a pool, or start a CLI without ``env=``, would not see the connection (the SDK
paths this provider calls today do neither; new ones must be checked against this rule).
"""

from __future__ import annotations

import contextlib
import importlib
import sys
import threading
from collections.abc import Iterator, Mapping
from typing import Any

from airflow_provider_smtrain.hooks import thread_scope

_LOCK = threading.RLock()


def _service_env_name(service: str) -> str:
    return "AWS_ENDPOINT_URL_" + service.upper().replace("-", "_").replace(" ", "_")


def scope_environment(
    credentials: Any,
    region_name: str,
    endpoint_url: str | None,
    service_endpoints: Mapping[str, str],
    ca_bundle: str | None = None,
) -> dict[str, str]:
    """
    Environment variables that make a fresh ``boto3.Session()`` equal to the hook's session.

    :param credentials: frozen botocore credentials (``access_key``, ``secret_key``, ``token``).
    :param region_name: the region of the hook.
    :param endpoint_url: the connection's global endpoint URL, if any.
    :param service_endpoints: per-service endpoint URLs from the connection's ``service_config``.
    :param ca_bundle: the connection's CA bundle path (``verify`` given as a path), if any.
    """
    env = {
        "AWS_ACCESS_KEY_ID": credentials.access_key,
        "AWS_SECRET_ACCESS_KEY": credentials.secret_key,
        "AWS_DEFAULT_REGION": region_name,
        "AWS_REGION": region_name,
    }
    if credentials.token:
        env["AWS_SESSION_TOKEN"] = credentials.token
    if endpoint_url:
        env["AWS_ENDPOINT_URL"] = endpoint_url
    for service, url in service_endpoints.items():
        env[_service_env_name(service)] = url
    if ca_bundle:
        env["AWS_CA_BUNDLE"] = ca_bundle
    return env


@contextlib.contextmanager
def _patched_attr(target: Any, name: str, value: Any) -> Iterator[None]:
    missing = object()
    old = target.__dict__.get(name, missing) if hasattr(target, "__dict__") else getattr(target, name)
    setattr(target, name, value)
    try:
        yield
    finally:
        if old is missing:
            with contextlib.suppress(AttributeError):
                delattr(target, name)
        else:
            setattr(target, name, old)


def _mask(*secrets: str | None) -> None:
    from airflow.sdk.log import mask_secret

    for secret in secrets:
        if secret:
            mask_secret(secret)


def _reset_sdk_client_cache() -> None:
    module = sys.modules.get("sagemaker.core.utils.utils")
    client_cls = getattr(module, "SageMakerClient", None)
    if client_cls is not None and hasattr(client_cls, "reset"):
        client_cls.reset()


def _sdk_patches(stack: contextlib.ExitStack, boto_session: Any, endpoint_url: str | None) -> None:
    """Patch the SDK modules that are loaded; modules loaded later are built inside the scope."""

    def _no_telemetry(*args: Any, **kwargs: Any) -> None:
        return None

    telemetry: Any = None
    with contextlib.suppress(ImportError):
        telemetry = importlib.import_module("sagemaker.core.telemetry.telemetry_logging")
    if telemetry is not None and hasattr(telemetry, "_send_telemetry_request"):
        stack.enter_context(_patched_attr(telemetry, "_send_telemetry_request", _no_telemetry))

    if endpoint_url:
        helper = sys.modules.get("sagemaker.core.helper.session_helper")
        if helper is not None and hasattr(helper, "sts_regional_endpoint"):
            stack.enter_context(_patched_attr(helper, "sts_regional_endpoint", lambda region: endpoint_url))

    air_hub_module = sys.modules.get("sagemaker.ai_registry.air_hub")
    air_hub = getattr(air_hub_module, "AIRHub", None)
    if air_hub is not None:
        stack.enter_context(_patched_attr(air_hub, "_sagemaker_client", boto_session.client("sagemaker")))
        stack.enter_context(_patched_attr(air_hub, "_s3_client", boto_session.client("s3")))
        for name in _AIR_HUB_NAMES:  # derived from the account of whoever asked first: never shared
            stack.enter_context(_patched_attr(air_hub, name, None))
            delattr(air_hub, name)
    else:  # imported inside the scope: its class clients are the hook's; its hub name must not outlive it
        stack.callback(_forget_air_hub_names)


#: Class attributes in which ``AIRHub`` caches the hub name of the first account that asked.
_AIR_HUB_NAMES = ("hubName", "hubDisplayName")


def _forget_air_hub_names() -> None:
    air_hub = getattr(sys.modules.get("sagemaker.ai_registry.air_hub"), "AIRHub", None)
    for name in _AIR_HUB_NAMES if air_hub is not None else ():
        if name in air_hub.__dict__:
            delattr(air_hub, name)


@contextlib.contextmanager
def sdk_credentials_scope(
    boto_session: Any,
    *,
    endpoint_url: str | None = None,
    service_endpoints: Mapping[str, str] | None = None,
    verify: bool | str | None = None,
) -> Iterator[None]:
    """
    Run SageMaker SDK code with every AWS client pinned to ``boto_session``.

    The frozen credentials are registered with Airflow's secrets masker, so they are redacted should
    anything print the environment.

    :param boto_session: the ``boto3.session.Session`` built by the Airflow hook.
    :param endpoint_url: the connection's global endpoint URL (e.g. a local SageMaker), if any.
    :param service_endpoints: per-service endpoint URLs from the connection, if any.
    :param verify: the connection's ``verify``: clients created in the scope without ``verify`` get
        it (``False`` or a CA bundle path, also exported as ``AWS_CA_BUNDLE``); None keeps botocore's.
    """
    credentials = boto_session.get_credentials()
    if credentials is None:
        raise RuntimeError(
            "The Airflow AWS connection resolved no credentials; the SageMaker SDK would fall back "
            "to the process's ambient credentials, which this provider never does."
        )
    frozen = credentials.get_frozen_credentials()
    region = boto_session.region_name
    if not region:
        raise ValueError("region_name: the AWS connection or the operator must name a region")
    _mask(frozen.secret_key, frozen.token)
    ca_bundle = verify if isinstance(verify, str) else None
    env = scope_environment(frozen, region, endpoint_url, service_endpoints or {}, ca_bundle)
    with _LOCK, contextlib.ExitStack() as stack:
        frame = thread_scope.enter(env, boto_session, verify)
        stack.callback(thread_scope.leave, frame)
        _reset_sdk_client_cache()
        stack.callback(_reset_sdk_client_cache)
        _sdk_patches(stack, boto_session, endpoint_url)
        yield

"""
pytest fixtures for the LocalSageMaker server.

Enable with ``pytest_plugins = ["airflow_provider_smtrain.testing.pytest_plugin"]`` in a conftest.
Set ``LOCAL_SAGEMAKER_URL=http://127.0.0.1:PORT`` to use an already running server instead of starting one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from airflow_provider_smtrain.testing.client import LocalSageMaker


@pytest.fixture(scope="session")
def local_sagemaker_server() -> Iterator[LocalSageMaker]:
    """One LocalSageMaker server for the whole test session."""
    url = os.environ.get("LOCAL_SAGEMAKER_URL")
    if url:
        yield LocalSageMaker.attach(url)
        return
    with LocalSageMaker() as server:
        yield server


@pytest.fixture
def local_sagemaker(local_sagemaker_server: LocalSageMaker) -> Iterator[LocalSageMaker]:
    """The session server, reset (no moto state, rules, faults, request log; default config)."""
    local_sagemaker_server.reset()
    yield local_sagemaker_server


@pytest.fixture
def local_sagemaker_env(local_sagemaker: LocalSageMaker, monkeypatch: pytest.MonkeyPatch) -> LocalSageMaker:
    """Like ``local_sagemaker``, with AWS_ENDPOINT_URL / credentials / region env vars pointing at it."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    for name, value in local_sagemaker.aws_env().items():
        monkeypatch.setenv(name, value)
    return local_sagemaker

"""Fixtures of the trigger tests: an in-process moto server and an Airflow connection to it."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.triggers.trigger_fakes import (
    ACCESS_KEY,
    CONN_ID,
    REGION,
    FakeSageMaker,
    patch_responses,
    unique_name,
)


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def sm(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> FakeSageMaker:
    """The fake SageMaker, with an Airflow connection ``CONN_ID`` pointing at it."""
    monkeypatch.setenv(
        f"AIRFLOW_CONN_{CONN_ID.upper()}",
        json.dumps(
            {
                "conn_type": "aws",
                "login": ACCESS_KEY,
                "password": "secret",
                "extra": {"endpoint_url": moto_endpoint, "region_name": REGION},
            }
        ),
    )
    fake = FakeSageMaker(endpoint=moto_endpoint)
    patch_responses(fake, monkeypatch)
    return fake


@pytest.fixture
def job_name(request: pytest.FixtureRequest) -> str:
    """A unique job name."""
    return unique_name(request.node.name)

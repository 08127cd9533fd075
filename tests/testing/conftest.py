"""
Fixtures for the LocalSageMaker tests: one server per session, dummy credentials, no real AWS.

The plugin is registered in ``pytest_configure`` when needed, because pytest only honours ``pytest_plugins``
in the root conftest (``test_pytest_plugin_fixtures_via_pytest_plugins`` covers that path).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from airflow_provider_smtrain.testing.client import LocalSageMaker
from tests.testing import shapes

# Dummy credentials / region for anything that reads the environment (the root conftest normally sets
# them already; never override it). Every client here also gets an explicit endpoint_url pointing at the
# local server, so nothing can reach real AWS.
os.environ.setdefault("AWS_ACCESS_KEY_ID", "AKIADUMMYENVIRONMENT")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "dummy-secret")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")

PLUGIN = "airflow_provider_smtrain.testing.pytest_plugin"


def pytest_configure(config: pytest.Config) -> None:
    """Register the LocalSageMaker fixtures unless the root conftest's ``pytest_plugins`` already did."""
    if not config.pluginmanager.has_plugin(PLUGIN):
        config.pluginmanager.import_plugin(PLUGIN)


@pytest.fixture(autouse=True)
def responses_match_botocore_shapes(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every awsJson response a ``LocalSageMaker.boto3_client`` client receives matches botocore's output shape."""
    original = LocalSageMaker.boto3_client

    def checked_client(self: LocalSageMaker, service: str, *args: Any, **kwargs: Any) -> Any:
        return shapes.install(original(self, service, *args, **kwargs))

    monkeypatch.setattr(LocalSageMaker, "boto3_client", checked_client)
    before = len(shapes.VIOLATIONS)
    yield
    assert shapes.VIOLATIONS[before:] == []


ROLE_ARN = "arn:aws:iam::123456789012:role/SageMakerRole"
BUCKET = "local-sm-tests"


@pytest.fixture
def sm(local_sagemaker: LocalSageMaker) -> LocalSageMaker:
    """Reset server with fast job durations and a bucket for outputs."""
    local_sagemaker.configure(training_seconds=0.8, tuning_seconds=1.6, stop_seconds=0.3)
    local_sagemaker.create_bucket(BUCKET)
    return local_sagemaker


@pytest.fixture
def sagemaker(sm: LocalSageMaker) -> Any:
    """boto3 SageMaker client signed with ``AKIATESTSAGEMAKER``, no retries."""
    return sm.boto3_client("sagemaker", access_key_id="AKIATESTSAGEMAKER", retries={"total_max_attempts": 1})


def _training_job_args(name: str, **overrides: Any) -> dict[str, Any]:
    """Minimal valid CreateTrainingJob arguments."""
    args: dict[str, Any] = {
        "TrainingJobName": name,
        "AlgorithmSpecification": {
            "TrainingImage": "123456789012.dkr.ecr.us-east-1.amazonaws.com/train:latest",
            "TrainingInputMode": "File",
        },
        "RoleArn": ROLE_ARN,
        "HyperParameters": {"epochs": "3", "lr": "0.01"},
        "OutputDataConfig": {"S3OutputPath": f"s3://{BUCKET}/output"},
        "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 10},
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
    }
    args.update(overrides)
    return args


def _wait_for(predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.1) -> Any:
    """Poll ``predicate`` until it returns something truthy; return it."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last: {result!r})")
        time.sleep(interval)


def _clock_waiter(sm: LocalSageMaker) -> Callable[..., Any]:
    """``wait_for`` on simulated time: freeze the clock, then advance it by ``interval`` between polls."""
    sm.clock.freeze()

    def wait(predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.1) -> Any:
        waited = 0.0
        while True:
            result = predicate()
            if result:
                return result
            if waited > timeout:
                raise AssertionError(f"condition not met within {timeout} simulated s (last: {result!r})")
            sm.clock.advance(interval)
            waited += interval

    return wait


@pytest.fixture
def clock_wait_for(sm: LocalSageMaker) -> Callable[..., Any]:
    """
    ``clock_wait_for(predicate, timeout=10, interval=0.1)``: like ``wait_for``, but in simulated time.

    The clock is frozen and moved ``interval`` seconds between polls, so no test waits real seconds for a
    simulated job.
    """
    return _clock_waiter(sm)


@pytest.fixture
def job_args() -> Callable[..., dict[str, Any]]:
    """``job_args(name, **overrides)`` -> CreateTrainingJob kwargs."""
    return _training_job_args


@pytest.fixture
def wait_for() -> Callable[..., Any]:
    """``wait_for(predicate, timeout=10)`` -> first truthy result of ``predicate``, in real time (script runs)."""
    return _wait_for

"""Fixtures for running operators in-process against the local SageMaker."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.operators.runner import FakeTI, MemoryStateStore

CONNECTION_ACCESS_KEY = "AKIACONNECTIONKEY001"
REPO = Path(__file__).resolve().parents[2]
SOURCE_DIR = str(REPO / "example_dags" / "model_trainer_src")


@dataclass
class Env:
    sm: Any
    conn_id: str
    bucket: str
    role_arn: str

    def trainer_args(self, **overrides: Any) -> dict[str, Any]:
        args: dict[str, Any] = {
            "role": self.role_arn,
            "training_image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/train:latest",
            "output_path": f"s3://{self.bucket}/models",
            "source_code": {"source_dir": SOURCE_DIR, "entry_script": "train.py"},
            "input_data": {"train": f"s3://{self.bucket}/data/train/"},
            "hyperparameters": {"epochs": 20},
            "metric_definitions": [{"name": "train:loss", "regex": "train:loss=([0-9\\.]+)"}],
        }
        args.update(overrides)
        return args


def make_env(sm: Any, setenv: Callable[[str, str], Any]) -> Env:
    """
    Prepare a reset local SageMaker for operator runs: a bucket with training data, a role, and the
    ``smtrain_local`` Airflow connection (set with ``setenv``, e.g. ``monkeypatch.setenv``).

    :param sm: the LocalSageMaker client.
    :param setenv: sets an environment variable.
    """
    sm.configure(training_seconds=1.0, tuning_seconds=1.5, stop_seconds=0.3)
    bucket = "smtrain-test"
    sm.create_bucket(bucket)
    sm.put_object(bucket, "data/train/train.csv", b"x,y\n0,1\n1,3\n2,5\n3,7\n")
    role_arn = sm.create_role("SageMakerTrainingRole")
    setenv(
        "AIRFLOW_CONN_SMTRAIN_LOCAL",
        sm.airflow_connection_json(access_key_id=CONNECTION_ACCESS_KEY, secret_access_key="connection-secret"),
    )
    sm.clear_requests()  # only what the code under test sends from here on
    return Env(sm=sm, conn_id="smtrain_local", bucket=bucket, role_arn=role_arn)


@pytest.fixture
def env(local_sagemaker: Any, monkeypatch: pytest.MonkeyPatch) -> Env:
    return make_env(local_sagemaker, monkeypatch.setenv)


@pytest.fixture
def fast_botocore_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore's and aiobotocore's own retries go on, without their backoff sleeps (our logic is under test)."""
    import types

    import botocore.endpoint
    from aiobotocore.endpoint import AioEndpoint

    async def no_sleep(self: Any, seconds: float) -> None:
        await asyncio.sleep(0)

    monkeypatch.setattr(botocore.endpoint, "time", types.SimpleNamespace(sleep=lambda seconds: None))
    monkeypatch.setattr(AioEndpoint, "_sleep", no_sleep)


@pytest.fixture
def store() -> MemoryStateStore:
    return MemoryStateStore()


@pytest.fixture
def ti() -> FakeTI:
    return FakeTI()

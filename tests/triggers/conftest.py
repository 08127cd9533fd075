"""
Fixtures of the trigger tests: the project's LocalSageMaker, with a frozen clock and forced job states.

Job statuses change only when a test forces them (``sm.set_training(...)``) or moves the clock, so
what a trigger sees is exactly what the test arranged. The request log is the server's: assertions
are about what reached SageMaker (which key signed it, in which region), not about what our code
believes it sent.
"""

from __future__ import annotations

import itertools
import re
import time
from typing import Any

import pytest

from airflow_provider_smtrain.testing import LocalSageMaker

CONN_ID = "smtrain_trigger_test"
ACCESS_KEY = "AKIDTRIGGERTEST"
SETUP_KEY = "AKIDTRIGGERSETUP"
REGION = "us-east-1"
#: No botocore-level retries, so the trigger's own backoff is what is exercised.
NO_BOTO_RETRIES: dict[str, Any] = {
    "retries": {"total_max_attempts": 1},
    "connect_timeout": 2,
    "read_timeout": 5,
}
ROLE_ARN = "arn:aws:iam::123456789012:role/r"
JOB_RESOURCES: dict[str, Any] = {
    "AlgorithmSpecification": {"TrainingImage": "img:latest", "TrainingInputMode": "File"},
    "RoleArn": ROLE_ARN,
    "OutputDataConfig": {"S3OutputPath": "s3://bucket/out"},
    "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
    "StoppingCondition": {"MaxRuntimeInSeconds": 600},
}


class TriggerSageMaker:
    """
    What the trigger tests do to the LocalSageMaker: create jobs, force their states, read the log.

    :param server: The (reset) LocalSageMaker.
    """

    def __init__(self, server: LocalSageMaker) -> None:
        self.server = server

    def client(self, region: str = REGION) -> Any:
        """A boto3 SageMaker client for test setup, signed with :data:`SETUP_KEY`."""
        if region == self.server.region:
            return self.server.boto3_client("sagemaker", access_key_id=SETUP_KEY)
        import boto3

        return boto3.client(
            "sagemaker",
            region_name=region,
            endpoint_url=self.server.endpoint_url,
            aws_access_key_id=SETUP_KEY,
            aws_secret_access_key="secret",
        )

    def create_training_job(
        self, name: str, status: str = "InProgress", secondary: str | None = "Starting", region: str = REGION
    ) -> None:
        """Create a training job and hold it in ``status`` / ``secondary``."""
        self.client(region).create_training_job(TrainingJobName=name, **JOB_RESOURCES)
        self.set_training(name, status, secondary, region=region)

    def set_training(
        self,
        name: str,
        status: str,
        secondary: str | None = None,
        failure_reason: str | None = None,
        region: str = REGION,
    ) -> None:
        """Force a training job's state."""
        self.server.force_job("training", name, status, failure_reason, secondary, region=region)

    def training_status(self, name: str, region: str = REGION) -> str:
        """TrainingJobStatus as DescribeTrainingJob reports it."""
        status: str = self.client(region).describe_training_job(TrainingJobName=name)["TrainingJobStatus"]
        return status

    def create_tuning_job(self, name: str, status: str = "InProgress") -> None:
        """Create a tuning job and hold it in ``status``."""
        self.client().create_hyper_parameter_tuning_job(
            HyperParameterTuningJobName=name,
            HyperParameterTuningJobConfig={
                "Strategy": "Bayesian",
                "ResourceLimits": {"MaxNumberOfTrainingJobs": 2, "MaxParallelTrainingJobs": 1},
            },
            TrainingJobDefinition=JOB_RESOURCES,
        )
        self.set_tuning(name, status)

    def set_tuning(self, name: str, status: str, failure_reason: str | None = None) -> None:
        """Force a tuning job's state."""
        self.server.force_job("tuning", name, status, failure_reason)

    def tuning_status(self, name: str) -> str:
        """HyperParameterTuningJobStatus as DescribeHyperParameterTuningJob reports it."""
        job = self.client().describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
        status: str = job["HyperParameterTuningJobStatus"]
        return status

    def finish_stopping(self) -> None:
        """Move the clock past ``stop_seconds``, so that ``Stopping`` jobs are ``Stopped``."""
        self.server.clock.advance(float(self.server.health()["config"]["stop_seconds"]))

    def calls(self, operation: str | None = None, name: str | None = None) -> list[dict[str, Any]]:
        """The server's request log entries (``access_key_id``, ``region``, ``fault``, ``name``, ...)."""
        return self.server.requests(operation=operation, name=name)

    def fail(
        self, operation: str, code: str, status: int = 400, rate: float = 1.0, count: int | None = None
    ) -> None:
        """
        Fail calls of ``operation``: ``count`` times (default: every time), or at random with ``rate``.

        A random rate is only offered for throttling (logged with fault ``throttle``).
        """
        if rate < 1.0:
            assert code == "ThrottlingException" and count is None, "random faults are throttles"
            self.server.set_faults(throttle_rate=rate, operations=[operation], seed=1)
        else:
            self.server.fail_next(operation, code=code, status=status, count=count or 100_000)


@pytest.fixture
def sm(local_sagemaker: LocalSageMaker, monkeypatch: pytest.MonkeyPatch) -> TriggerSageMaker:
    """The reset LocalSageMaker with a frozen clock, and an Airflow connection ``CONN_ID`` to it."""
    monkeypatch.setenv(
        f"AIRFLOW_CONN_{CONN_ID.upper()}", local_sagemaker.airflow_connection_json(ACCESS_KEY, "secret")
    )
    local_sagemaker.clock.freeze()
    return TriggerSageMaker(local_sagemaker)


_counter = itertools.count()


def unique_name(prefix: str) -> str:
    """A valid job name unique in this session."""
    base = re.sub(r"[^a-zA-Z0-9]", "-", prefix)[:20].strip("-")
    return f"{base}-{next(_counter)}-{int(time.time() * 1000) % 100000}"


@pytest.fixture
def job_name(request: pytest.FixtureRequest) -> str:
    """A unique job name."""
    return unique_name(request.node.name)


@pytest.fixture
def describe_each_job(monkeypatch: pytest.MonkeyPatch) -> None:
    """``[smtrain] coalesce_status_reads = False``: every trigger describes its own job every poll."""
    monkeypatch.setenv("AIRFLOW__SMTRAIN__COALESCE_STATUS_READS", "False")

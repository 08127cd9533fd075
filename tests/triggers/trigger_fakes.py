"""
Fakes for the trigger tests: an in-process moto server, with what moto lacks for them.

moto 5.2.5 creates SageMaker jobs ``Completed`` and never changes them, and has no Stop* APIs. The
server runs in this process, so tests drive statuses by mutating the backend, and this module adds
``StopTrainingJob`` / ``StopHyperParameterTuningJob`` handlers plus fault injection (throttling,
5xx, access denied) to moto's ``SageMakerResponse`` for the duration of a test. Stop calls are
recorded *by the server* with the access key id that signed them, so assertions are about what
reached SageMaker, not about what our code believes it sent.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

CONN_ID = "smtrain_trigger_test"
ACCESS_KEY = "AKIDTRIGGERTEST"
REGION = "us-east-1"
#: No botocore-level retries, so the trigger's own backoff is what is exercised.
NO_BOTO_RETRIES: dict[str, Any] = {
    "retries": {"total_max_attempts": 1},
    "connect_timeout": 2,
    "read_timeout": 5,
}


@dataclass
class Fault:
    """What to do to matching requests."""

    code: str
    status: int
    rate: float = 1.0
    count: int | None = None
    message: str = "Injected fault"


@dataclass
class FakeSageMaker:
    """Handle on the in-process moto server and its SageMaker backend."""

    endpoint: str
    requests: list[dict[str, Any]] = field(default_factory=list)
    faults: dict[str, Fault] = field(default_factory=dict)
    rng: random.Random = field(default_factory=lambda: random.Random(1))
    lock: threading.Lock = field(default_factory=threading.Lock)

    # ---------------------------------------------------------------- backend access
    @staticmethod
    def backend(region: str = REGION) -> Any:
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.sagemaker.models import sagemaker_backends

        return sagemaker_backends[DEFAULT_ACCOUNT_ID][region]

    def client(self, region: str = REGION) -> Any:
        import boto3

        return boto3.client(
            "sagemaker",
            region_name=region,
            endpoint_url=self.endpoint,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key="secret",
        )

    def create_training_job(
        self, name: str, status: str = "InProgress", secondary: str | None = "Starting", region: str = REGION
    ) -> None:
        self.client(region).create_training_job(
            TrainingJobName=name,
            AlgorithmSpecification={"TrainingImage": "img:latest", "TrainingInputMode": "File"},
            RoleArn="arn:aws:iam::123456789012:role/r",
            OutputDataConfig={"S3OutputPath": "s3://bucket/out"},
            ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
            StoppingCondition={"MaxRuntimeInSeconds": 600},
        )
        self.set_training(name, status, secondary, region=region)

    def set_training(
        self,
        name: str,
        status: str,
        secondary: str | None = None,
        failure_reason: str | None = None,
        region: str = REGION,
    ) -> None:
        job = self.backend(region).training_jobs[name]
        job.training_job_status = status
        job.secondary_status = secondary
        job.failure_reason = failure_reason

    def create_tuning_job(self, name: str, status: str = "InProgress") -> None:
        self.client().create_hyper_parameter_tuning_job(
            HyperParameterTuningJobName=name,
            HyperParameterTuningJobConfig={
                "Strategy": "Bayesian",
                "ResourceLimits": {"MaxNumberOfTrainingJobs": 2, "MaxParallelTrainingJobs": 1},
            },
            TrainingJobDefinition={
                "AlgorithmSpecification": {"TrainingImage": "img:latest", "TrainingInputMode": "File"},
                "RoleArn": "arn:aws:iam::123456789012:role/r",
                "OutputDataConfig": {"S3OutputPath": "s3://bucket/out"},
                "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
                "StoppingCondition": {"MaxRuntimeInSeconds": 600},
            },
        )
        self.set_tuning(name, status)

    def set_tuning(self, name: str, status: str, failure_reason: str | None = None) -> None:
        job = self.backend().hyper_parameter_tuning_jobs[name]
        job.hyper_parameter_tuning_job_status = status
        job.failure_reason = failure_reason or ""

    # ---------------------------------------------------------------- request log / faults
    def calls(self, operation: str, name: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [
                r
                for r in self.requests
                if r["operation"] == operation and (name is None or r["name"] == name)
            ]

    def fail(
        self, operation: str, code: str, status: int = 400, rate: float = 1.0, count: int | None = None
    ) -> None:
        self.faults[operation] = Fault(code=code, status=status, rate=rate, count=count)

    def _decide(self, operation: str) -> Fault | None:
        with self.lock:
            fault = self.faults.get(operation)
            if fault is None or (fault.count is not None and fault.count <= 0):
                return None
            if self.rng.random() >= fault.rate:
                return None
            if fault.count is not None:
                fault.count -= 1
            return fault


def patch_responses(fake: FakeSageMaker, monkeypatch: pytest.MonkeyPatch) -> None:
    """Record, fault-inject and add Stop* handlers on moto's SageMakerResponse."""
    from moto.core.exceptions import JsonRESTError
    from moto.sagemaker.exceptions import ValidationError
    from moto.sagemaker.responses import SageMakerResponse

    def access_key(response: SageMakerResponse) -> str | None:
        match = re.search(r"Credential=([^/]+)/\d+/([^/]+)/", response.headers.get("Authorization", ""))
        return match.group(1) if match else None

    def instrument(
        operation: str, name_param: str, handler: Callable[[SageMakerResponse], Any]
    ) -> Callable[..., Any]:
        def method(self: SageMakerResponse) -> Any:
            name = self._get_param(name_param)
            region = self.region
            fault = fake._decide(operation)
            with fake.lock:
                fake.requests.append(
                    {
                        "operation": operation,
                        "name": name,
                        "access_key": access_key(self),
                        "region": region,
                        "fault": fault.code if fault else None,
                    }
                )
            if fault is not None:
                raise JsonRESTError(fault.code, fault.message, code=fault.status)
            return handler(self)

        return method

    def stopper(jobs_attr: str, status_attr: str, name_param: str) -> Callable[[SageMakerResponse], Any]:
        def handler(self: SageMakerResponse) -> Any:
            name = self._get_param(name_param)
            jobs = getattr(self.sagemaker_backend, jobs_attr)
            if name not in jobs:
                raise ValidationError(message=f"Requested resource not found: {name}")
            job = jobs[name]
            status = getattr(job, status_attr)
            if status not in ("InProgress", "Stopping"):
                raise ValidationError(message=f"The job {name} is in status {status} and cannot be stopped.")
            setattr(job, status_attr, "Stopped")
            if hasattr(job, "secondary_status"):
                job.secondary_status = "Stopped"
            return "{}"

        return handler

    originals = {
        "describe_training_job": SageMakerResponse.describe_training_job,
        "describe_hyper_parameter_tuning_job": SageMakerResponse.describe_hyper_parameter_tuning_job,
    }
    patches = {
        "describe_training_job": instrument(
            "DescribeTrainingJob", "TrainingJobName", originals["describe_training_job"]
        ),
        "describe_hyper_parameter_tuning_job": instrument(
            "DescribeHyperParameterTuningJob",
            "HyperParameterTuningJobName",
            originals["describe_hyper_parameter_tuning_job"],
        ),
        "stop_training_job": instrument(
            "StopTrainingJob",
            "TrainingJobName",
            stopper("training_jobs", "training_job_status", "TrainingJobName"),
        ),
        "stop_hyper_parameter_tuning_job": instrument(
            "StopHyperParameterTuningJob",
            "HyperParameterTuningJobName",
            stopper(
                "hyper_parameter_tuning_jobs",
                "hyper_parameter_tuning_job_status",
                "HyperParameterTuningJobName",
            ),
        ),
    }
    for attr, method in patches.items():
        monkeypatch.setattr(SageMakerResponse, attr, method, raising=False)


_counter = iter(range(1_000_000))


def unique_name(prefix: str) -> str:
    """A job name unique in this session (the moto backend lives for the whole session)."""
    base = re.sub(r"[^a-zA-Z0-9]", "-", prefix)[:20].strip("-")
    return f"{base}-{next(_counter)}-{int(time.time() * 1000) % 100000}"


def run_trigger(
    trigger: Any, *, during: Callable[[], Any] | None = None, timeout: float = 10
) -> dict[str, Any]:
    """
    Run a trigger on a fresh event loop until it returns; assert it fired exactly one event.

    :param trigger: the trigger.
    :param during: optional coroutine function run concurrently (to change job status over time).
    :param timeout: seconds before the test fails.
    """

    async def main() -> list[Any]:
        async def collect() -> list[Any]:
            return [event async for event in trigger.run()]

        task = asyncio.ensure_future(collect())
        if during is not None:
            await during()
        return await asyncio.wait_for(task, timeout)

    events = asyncio.run(main())
    assert len(events) == 1, events
    payload = events[0].payload
    json.dumps(payload)  # JSON-native
    return payload

"""Shared fixture of the integration tests: one real Airflow stack and the local SageMaker."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_smtrain.testing.airflow import AirflowStack

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
CONNECTION_KEY = "AKIAAIRFLOWCONNECTN1"
AMBIENT_KEY = "AKIAAMBIENTWORKERENV"
BUCKET = "smtrain-it"


@dataclass
class Ctx:
    af: AirflowStack
    sm: Any
    role_arn: str

    def run(self, dag_id: str, timeout: float = 180) -> tuple[str, str]:
        run_id = self.af.trigger(dag_id, conf={"role_arn": self.role_arn, "bucket": BUCKET})
        return run_id, self.af.wait_for_run(dag_id, run_id, timeout=timeout)

    def start(self, dag_id: str) -> str:
        return self.af.trigger(dag_id, conf={"role_arn": self.role_arn, "bucket": BUCKET})

    def creates(self) -> int:
        return len(self.sm.requests(operation="CreateTrainingJob"))

    def stops(self) -> int:
        return len(self.sm.requests(operation="StopTrainingJob"))

    def start_and_wait_for_the_trigger(self, dag_id: str, task_id: str = "train") -> tuple[str, str]:
        """Trigger ``dag_id`` and wait until a triggerer runs the task's trigger; return run id and job name."""
        run_id = self.start(dag_id)
        self.af.wait_for_ti(dag_id, run_id, task_id, states={"deferred"}, timeout=120)
        job_name = str(self.af.xcom(dag_id, run_id, task_id, key="job_name"))
        wait_until(
            lambda: any(job_name in text for text in self.af.trigger_logs(dag_id, run_id, task_id).values()),
            60,
            "a triggerer to run the trigger",
        )
        return run_id, job_name

    def training_status(self, job_name: str) -> str:
        client = self.sm.boto3_client("sagemaker")
        return str(client.describe_training_job(TrainingJobName=job_name)["TrainingJobStatus"])


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@pytest.fixture
def ctx(airflow_stack_factory: Callable[..., AirflowStack], local_sagemaker: Any) -> Ctx:
    sm = local_sagemaker
    # Jobs outlive Airflow 3.3's ~5 s between a task deferring and its worker reporting the exit: an
    # event inside that window races the executor (the scheduler then marks the resumed try for retry).
    sm.configure(training_seconds=7.0, tuning_seconds=8.0, stop_seconds=0.5)
    sm.create_bucket(BUCKET)
    sm.put_object(BUCKET, "data/train/train.csv", b"x,y\n0,1\n1,3\n2,5\n3,7\n")
    role_arn = sm.create_role("SageMakerTrainingRole")
    env = {
        "AIRFLOW_CONN_AWS_DEFAULT": sm.airflow_connection_json(
            access_key_id=CONNECTION_KEY, secret_access_key="connection-secret"
        ),
        # Ambient credentials in every Airflow process: they must never sign a request.
        "AWS_ACCESS_KEY_ID": AMBIENT_KEY,
        "AWS_SECRET_ACCESS_KEY": "ambient-secret",
        "AWS_DEFAULT_REGION": "us-east-1",
        "SMTRAIN_EXAMPLE_POLL_SECONDS": "1",
        # the nightly benchmark example runs every minute once a test unpauses it
        "SMTRAIN_NIGHTLY_SCHEDULE": "* * * * *",
        # Should that race hit anyway, the retry re-attaches and returns the result within seconds.
        "AIRFLOW__CORE__DEFAULT_TASK_RETRY_DELAY": "1",
    }
    af = airflow_stack_factory(dags_folders=[HERE / "dags_provider", REPO / "example_dags"], env=env)
    af.wait_for_dag("it_train_deferrable", timeout=120)
    sm.clear_requests()
    return Ctx(af=af, sm=sm, role_arn=role_arn)

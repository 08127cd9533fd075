"""DAGs the integration tests run through a real Airflow against the local SageMaker.

Every DAG takes ``role_arn`` and ``bucket`` from the run's conf (params). Job names start with the
``job_name_prefix`` so that the tests can give each DAG's jobs their own behaviour in the local SageMaker.
"""

from __future__ import annotations

import os
import signal
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from airflow.sdk import DAG

from airflow_provider_smtrain.operators.model_trainer import ModelTrainerOperator
from airflow_provider_smtrain.operators.tuner import HyperparameterTunerOperator
from airflow_provider_smtrain.sensors.jobs import TrainingJobSensor

#: Jobs the fan-out DAG's mapped sensor waits for (created by its test before the run).
FANOUT_JOBS = [f"it-fan-{i:02d}" for i in range(50)]
SOURCE_DIR = str(Path(__file__).resolve().parents[3] / "example_dags" / "model_trainer_src")
PARAMS = {"role_arn": "arn:aws:iam::123456789012:role/SageMakerTrainingRole", "bucket": "smtrain-it"}
TRAINER: dict[str, Any] = {
    "role": "{{ params.role_arn }}",
    "training_image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/train:latest",
    "output_path": "s3://{{ params.bucket }}/models",
    "source_code": {"source_dir": SOURCE_DIR, "entry_script": "train.py"},
    "input_data": {"train": "s3://{{ params.bucket }}/data/train/"},
    "hyperparameters": {"epochs": 20},
    "metric_definitions": [{"name": "train:loss", "regex": "train:loss=([0-9\\.]+)"}],
}


def _kill_this_process() -> None:
    """A real worker death: SIGKILL, so no handler, ``finally`` or ``on_kill`` of the task runs."""
    os.kill(os.getpid(), signal.SIGKILL)


class CrashOnFirstTry(ModelTrainerOperator):
    """Its task process is killed right after the SDK submitted the job, on the first try only."""

    def submit_job(self, spec: Any, name: str, context: Any) -> None:
        super().submit_job(spec, name, context)
        if context["ti"].try_number == 1:
            _kill_this_process()


class KilledWhileWaiting(ModelTrainerOperator):
    """Its task process is killed on the second status read of the first try (blocking mode)."""

    polls = 0

    def execute(self, context: Any) -> Any:
        self._try_number = context["ti"].try_number
        return super().execute(context)

    def on_poll(self, describe: dict[str, Any]) -> None:
        super().on_poll(describe)
        type(self).polls += 1
        if self._try_number == 1 and type(self).polls >= 2:
            _kill_this_process()


def _dag(dag_id: str) -> DAG:
    return DAG(dag_id=dag_id, schedule=None, start_date=datetime(2026, 1, 1), catchup=False, params=PARAMS)


with _dag("it_train_deferrable"):
    ModelTrainerOperator(task_id="train", job_name_prefix="it-ok", poll_interval=1, deferrable=True, **TRAINER)

with _dag("it_train_blocking"):
    ModelTrainerOperator(task_id="train", job_name_prefix="it-block", poll_interval=1, deferrable=False, **TRAINER)

with _dag("it_train_failing"):
    ModelTrainerOperator(task_id="train", job_name_prefix="it-fail", poll_interval=1, **TRAINER)

with _dag("it_train_crash_retry"):
    CrashOnFirstTry(
        task_id="train",
        job_name_prefix="it-crash",
        poll_interval=1,
        retries=1,
        retry_delay=timedelta(seconds=0),
        **TRAINER,
    )

with _dag("it_train_killed_while_waiting"):
    KilledWhileWaiting(
        task_id="train",
        job_name_prefix="it-kill",
        poll_interval=1,
        deferrable=False,
        retries=1,
        retry_delay=timedelta(seconds=0),
        **TRAINER,
    )

with _dag("it_train_long"):
    ModelTrainerOperator(task_id="train", job_name_prefix="it-long", poll_interval=1, **TRAINER)

with _dag("it_train_timeout_deferred"):
    ModelTrainerOperator(
        task_id="train",
        job_name_prefix="it-tmo-def",
        poll_interval=1,
        execution_timeout=timedelta(seconds=8),
        **TRAINER,
    )

with _dag("it_train_timeout_blocking"):
    ModelTrainerOperator(
        task_id="train",
        job_name_prefix="it-tmo-blk",
        poll_interval=1,
        deferrable=False,
        execution_timeout=timedelta(seconds=8),
        **TRAINER,
    )

with _dag("it_tuning"):
    HyperparameterTunerOperator(
        task_id="tune",
        job_name_prefix="it-tune",
        poll_interval=1,
        trainer={**TRAINER, "metric_definitions": []},
        objective_metric_name="train:loss",
        objective_type="Minimize",
        metric_definitions=[{"name": "train:loss", "regex": "train:loss=([0-9\\.]+)"}],
        hyperparameter_ranges={"learning_rate": {"type": "continuous", "min_value": 0.001, "max_value": 0.1}},
        strategy="Random",
        max_jobs=2,
        max_parallel_jobs=2,
    )

with DAG(
    dag_id="it_sensor_fanout",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    params=PARAMS,
    max_active_tasks=len(FANOUT_JOBS),
):
    # 50 deferred tasks in one triggerer at once, cheap to run: each worker only reads one status
    TrainingJobSensor.partial(task_id="wait", poke_interval=2, deferrable=True).expand(job_name=FANOUT_JOBS)

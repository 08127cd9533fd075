"""Deferrable log copying: every event of every stream, and no line printed twice across deferrals."""

from __future__ import annotations

import copy
import time
from contextlib import contextmanager
from typing import Any

import pytest
from airflow.sdk.execution_time.context import set_current_context

from airflow_provider_smtrain.hooks.logs import TRAINING_LOG_GROUP, TrainingLogTailer
from airflow_provider_smtrain.hooks.sagemaker_train import SageMakerTrainHook
from airflow_provider_smtrain.operators.model_trainer import ModelTrainerOperator

CONN_ID = "smtrain_logs"
JOB = "logs-job-1"
STREAM = f"{JOB}/algo-1-1700000000"
#: an hour ago: CloudWatch rejects events older than 14 days or more than 2 hours ahead
BASE_MS = int(time.time() * 1000) - 3_600_000


class Recorder:
    """Stands in for the operator's logger; keeps the CloudWatch lines it is given."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.warnings: list[str] = []

    def info(self, msg: str, *args: Any) -> None:
        if msg.startswith("[%s]"):
            self.lines.append(args[1])

    def warning(self, msg: str, *args: Any) -> None:
        self.warnings.append(msg % args if args else msg)

    debug = error = exception = info


@pytest.fixture
def logs(local_sagemaker: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", local_sagemaker.airflow_connection_json())
    client = local_sagemaker.boto3_client("logs")
    client.create_log_group(logGroupName=TRAINING_LOG_GROUP)
    client.create_log_stream(logGroupName=TRAINING_LOG_GROUP, logStreamName=STREAM)
    return client


def put_lines(client: Any, start: int, stop: int, base_ms: int = BASE_MS, per_ms: int = 3) -> None:
    """Put ``line <i>`` for i in [start, stop); ``per_ms`` events share each millisecond timestamp."""
    for chunk in range(start, stop, 5_000):
        events = [
            {"timestamp": base_ms + i // per_ms, "message": f"line {i}"}
            for i in range(chunk, min(chunk + 5_000, stop))
        ]
        client.put_log_events(logGroupName=TRAINING_LOG_GROUP, logStreamName=STREAM, logEvents=events)


def expected(start: int, stop: int) -> list[str]:
    return [f"line {i}" for i in range(start, stop)]


def test_every_event_of_a_stream_over_10000_events_is_copied(logs: Any) -> None:
    put_lines(logs, 0, 12_345)
    tailer = TrainingLogTailer(SageMakerTrainHook(aws_conn_id=CONN_ID).logs_client, JOB)
    assert [line for _, line in tailer.new_lines()] == expected(0, 12_345)
    put_lines(logs, 12_345, 12_400)
    assert [line for _, line in tailer.new_lines()] == expected(12_345, 12_400)


def operator() -> ModelTrainerOperator:
    op = ModelTrainerOperator(
        task_id="train",
        aws_conn_id=CONN_ID,
        role="arn:aws:iam::123456789012:role/r",
        training_image="img:latest",
        output_path="s3://bucket/models",
        deferrable=True,
    )
    op._job_name = JOB
    return op


class Store:
    def __init__(self) -> None:
        self.data: dict[str, Any] = {}

    def get(self, key: str, default: Any = None) -> Any:
        return copy.deepcopy(self.data.get(key, default))

    def set(self, key: str, value: Any, *, retention: Any = None) -> None:
        self.data[key] = copy.deepcopy(value)


@contextmanager
def resumed(store: Store, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A fresh operator copy resumed in a worker (current context with the task_state_store)."""
    op = operator()
    recorder = Recorder()
    monkeypatch.setattr(type(op), "log", property(lambda self: recorder))
    with set_current_context({"task_state_store": store}):  # type: ignore[typeddict-item]
        yield op, recorder


def test_a_resumed_operator_prints_no_line_twice(logs: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store()
    put_lines(logs, 0, 10_501)
    with resumed(store, monkeypatch) as (op, recorder):  # first execute_complete: still running, re-defers
        op.after_wait({})
    assert recorder.lines == expected(0, 10_501)

    put_lines(logs, 10_501, 10_520)  # the same millisecond as the last line printed, and later ones
    with resumed(store, monkeypatch) as (op, recorder):  # second execute_complete: a fresh copy
        op.after_wait({})
    assert recorder.lines == expected(10_501, 10_520)

    with resumed(store, monkeypatch) as (op, recorder):  # nothing new: nothing printed
        op.after_wait({})
    assert recorder.lines == []


def test_the_saved_position_of_another_job_is_ignored(logs: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store()
    store.set("smtrain_log_position", {"job_name": "an-older-generation", "streams": {STREAM: [9e15, 1]}})
    put_lines(logs, 0, 5)
    with resumed(store, monkeypatch) as (op, recorder):
        op.after_wait({})
    assert recorder.lines == expected(0, 5)

"""The job lifecycle under the faults of issue #5 (items 1-6, 12, 14), in-process against the local SageMaker.

Each test names the defect it pins down; each failed on the lifecycle as it was before the fix.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from airflow.sdk.exceptions import TaskDeferred
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError, ReadTimeoutError

from airflow_provider_smtrain.exceptions import SageMakerJobFailed, TriggerEventError
from airflow_provider_smtrain.hooks.sagemaker_train import SageMakerTrainHook
from airflow_provider_smtrain.jobs.clock import use_clock
from airflow_provider_smtrain.jobs.identity import STATE_KEY, is_last_try
from airflow_provider_smtrain.operators.model_trainer import ModelTrainerOperator
from tests.operators.conftest import Env
from tests.operators.runner import (
    FakeTI,
    FastClock,
    MemoryStateStore,
    WorkerDied,
    first_event,
    make_context,
    rebuild_trigger,
    run_operator,
)
from tests.operators.test_model_trainer_operator import creates, make_operator


def stops(env: Env) -> list[dict[str, Any]]:
    return env.sm.requests(operation="StopTrainingJob")


def defer(env: Env, context: dict[str, Any], **overrides: Any) -> TaskDeferred:
    """Run ``execute`` of a deferrable operator until it defers; return the deferral."""
    with pytest.raises(TaskDeferred) as deferred:
        make_operator(env, deferrable=True, **overrides).execute(context)
    return deferred.value


@pytest.fixture
def fast_clock() -> Iterator[FastClock]:
    with use_clock(FastClock()) as clock:
        yield clock


class FlakyReads:
    """Make the hook's status reads raise network errors for a window of calls (a blip on the wire)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, start: int, count: int) -> None:
        self.calls = 0
        self.raised = 0
        real = SageMakerTrainHook.describe_job
        errors = [
            ConnectionClosedError(endpoint_url="http://127.0.0.1"),
            EndpointConnectionError(endpoint_url="http://127.0.0.1"),
            ReadTimeoutError(endpoint_url="http://127.0.0.1"),
        ]

        def describe_job(hook: SageMakerTrainHook, kind: Any, name: str) -> dict[str, Any]:
            self.calls += 1
            if start < self.calls <= start + count:
                self.raised += 1
                raise errors[self.calls % len(errors)]
            return real(hook, kind, name)

        monkeypatch.setattr(SageMakerTrainHook, "describe_job", describe_job)


# -- 1. a submission whose response was lost is reconciled with what SageMaker has ---------------------


@pytest.mark.parametrize("mode", ["reset", "timeout"])
def test_lost_create_response_attaches_to_the_created_job(
    env: Env, store: MemoryStateStore, ti: FakeTI, fast_botocore_retries: None, mode: str
) -> None:
    # SageMaker creates the job, the response never arrives; botocore's retry then gets ResourceInUse.
    env.sm.fail_next("CreateTrainingJob", kind="lost_response", mode=mode, seconds=0.5)
    result = run_operator(make_operator(env), ti, store)
    assert result["status"] == "Completed"
    assert result["job_name"] == store.get(STATE_KEY)["job_name"]
    assert [r["fault"] for r in creates(env)][0] == "lost_response"
    assert len(env.sm.boto3_client("sagemaker").list_training_jobs()["TrainingJobSummaries"]) == 1
    assert stops(env) == []


def test_sdk_describe_failing_after_the_create_is_reconciled(
    env: Env, store: MemoryStateStore, ti: FakeTI, fast_clock: FastClock, fast_botocore_retries: None
) -> None:
    # The SDK describes the job right after creating it; every one of its attempts gets a 500.
    env.sm.fail_next("DescribeTrainingJob", code="InternalFailure", status=500, count=12, message="down")
    result = run_operator(make_operator(env), ti, store)
    assert result["status"] == "Completed"
    assert len(creates(env)) == 1 and stops(env) == []


# -- 2. a network blip in blocking mode never stops a healthy job --------------------------------------


def test_network_errors_while_waiting_do_not_stop_the_job(
    env: Env, store: MemoryStateStore, ti: FakeTI, fast_clock: FastClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    env.sm.configure(training_seconds=2.0)
    flaky = FlakyReads(monkeypatch, start=1, count=25)
    result = run_operator(make_operator(env), ti, store)  # retries=0: this is the last try
    assert flaky.raised == 25
    assert result["status"] == "Completed"
    assert stops(env) == []


# -- 3. an error event on the last try does not orphan the job -----------------------------------------


def test_error_event_on_the_last_try_waits_for_the_job_in_the_worker(
    env: Env, store: MemoryStateStore, ti: FakeTI
) -> None:
    env.sm.configure(training_seconds=2.0)
    context = make_context(ti, store)
    defer(env, context)
    event = {"status": "error", "job_name": ti.xcoms["job_name"], "kind": "training", "message": "outage"}
    result = make_operator(env, deferrable=True).execute_complete(context, event=event)
    assert result["status"] == "Completed"
    assert stops(env) == []


def test_trigger_keeps_asking_through_a_long_outage(
    env: Env, store: MemoryStateStore, ti: FakeTI, fast_botocore_retries: None
) -> None:
    env.sm.configure(training_seconds=1.0)
    context = make_context(ti, store)
    deferred = defer(env, context)
    env.sm.fail_next("DescribeTrainingJob", code="ThrottlingException", status=400, count=60, message="slow down")
    with use_clock(FastClock()) as clock:
        event = asyncio.run(first_event(rebuild_trigger(deferred.trigger)))
    assert event["status"] == "succeeded", event
    assert clock.slept > 60, "the outage outlasted the old budget of 10 retries"


# -- 4. two deployments on one account never share a job -----------------------------------------------


def test_two_deployments_with_the_same_run_ids_get_their_own_jobs(env: Env) -> None:
    staging, prod = MemoryStateStore(), MemoryStateStore()
    env.sm.configure(training_seconds=3.0)
    # staging's job still runs when prod's task instance of the same dag_id/task_id/run_id starts
    first = run_operator(make_operator(env, wait_for_completion=False, hyperparameters={"epochs": 5}), FakeTI(), staging)
    second = run_operator(make_operator(env, hyperparameters={"epochs": 20}), FakeTI(), prod)
    assert first["job_name"] != second["job_name"]
    assert len(creates(env)) == 2
    hyperparameters = env.sm.boto3_client("sagemaker").describe_training_job(TrainingJobName=second["job_name"])[
        "HyperParameters"
    ]
    assert hyperparameters["epochs"] == "20", "prod got its own model, not staging's"


# -- 5. "last try" follows Airflow's max_tries, which grows on a clear ---------------------------------


def test_last_try_follows_max_tries() -> None:
    cleared = FakeTI(try_number=1, max_tries=2).clear(retries=2)  # Airflow: max_tries = 1 + 2
    assert (cleared.try_number, cleared.max_tries) == (2, 3)
    assert not is_last_try(cleared, retries=2)
    cleared.retry()
    assert not is_last_try(cleared, retries=2)
    cleared.retry().retry()
    assert is_last_try(cleared, retries=2)
    assert is_last_try(None, retries=5)


def test_editing_retries_between_tries_is_not_a_clear(env: Env, store: MemoryStateStore) -> None:
    env.sm.configure(training_seconds=3.0)
    ti = FakeTI(max_tries=3)
    first = make_operator(env, wait_for_completion=False)
    first.retries = 3
    started = run_operator(first, ti, store)
    ti.retry()  # the worker crashed; meanwhile someone set retries=2 in the DAG file
    second = make_operator(env)
    second.retries = 2
    result = run_operator(second, ti, store)
    assert result["job_name"] == started["job_name"]
    assert len(creates(env)) == 1 and stops(env) == []


def test_a_middle_try_after_a_clear_does_not_stop_its_job(
    env: Env, store: MemoryStateStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    env.sm.configure(training_seconds=30)
    ti = FakeTI(try_number=3, max_tries=4)  # cleared after try 2 with retries=2: tries 3, 4 and 5 remain
    operator = make_operator(env)
    operator.retries = 2
    denied = ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "DescribeTrainingJob")
    real = SageMakerTrainHook.describe_job
    calls = {"n": 0}

    def describe_job(hook: SageMakerTrainHook, kind: Any, name: str) -> dict[str, Any]:
        calls["n"] += 1
        if calls["n"] > 2:  # the read after submitting works; a poll while waiting is denied
            raise denied
        return real(hook, kind, name)

    monkeypatch.setattr(SageMakerTrainHook, "describe_job", describe_job)
    with pytest.raises(ClientError, match="AccessDenied"):
        run_operator(operator, ti, store)
    assert stops(env) == [], "try 4 will come back for the job"


# -- 6. a clear after success runs again; a crash retry after the job succeeded does not ---------------


def test_clearing_a_successful_task_runs_a_new_generation(env: Env, store: MemoryStateStore, ti: FakeTI) -> None:
    first = run_operator(make_operator(env), ti, store)
    ti.clear(retries=0)
    second = run_operator(make_operator(env), ti, store)
    assert first["job_name"].endswith("-1") and second["job_name"].endswith("-2")
    assert second["job_name"] != first["job_name"]
    assert len(creates(env)) == 2


class DiesBeforeReturning(ModelTrainerOperator):
    """The job completed, but the worker died before the task could succeed."""

    def job_result(self, describe: dict[str, Any]) -> dict[str, Any]:
        raise WorkerDied("worker lost after the job completed")


def test_a_crash_retry_after_the_job_succeeded_returns_its_result(
    env: Env, store: MemoryStateStore, ti: FakeTI
) -> None:
    dying = DiesBeforeReturning(
        task_id="train", aws_conn_id=env.conn_id, deferrable=False, poll_interval=0.2, retries=1,
        **env.trainer_args(),
    )
    ti.max_tries = 1
    with pytest.raises(WorkerDied):
        run_operator(dying, ti, store)
    ti.retry()
    retry = make_operator(env)
    retry.retries = 1
    result = run_operator(retry, ti, store)
    assert result["job_name"].endswith("-1") and result["status"] == "Completed"
    assert len(creates(env)) == 1


def test_without_a_store_an_event_for_another_task_instance_is_refused(env: Env, ti: FakeTI) -> None:
    env.sm.configure(training_seconds=30)
    context = make_context(ti, None)
    defer(env, context)
    other = make_operator(env, deferrable=True)
    event = {"status": "succeeded", "job_name": "train-0123456789-1", "kind": "training"}
    with pytest.raises(TriggerEventError, match="does not own"):
        other.execute_complete(context, event=event)
    own = {"status": "succeeded", "job_name": ti.xcoms["job_name"], "kind": "training"}
    with pytest.raises(TaskDeferred):  # its own job, still running: accepted, and waited for again
        other.execute_complete(context, event=own)


# -- 12. clearing a deferred task stops its job and runs a new generation, whoever wins the race -------


@pytest.mark.parametrize("old_trigger_stops_first", [False, True])
def test_clearing_a_deferred_task_runs_a_new_generation(
    env: Env, store: MemoryStateStore, ti: FakeTI, old_trigger_stops_first: bool
) -> None:
    env.sm.configure(training_seconds=60, stop_seconds=0.5)
    context = make_context(ti, store)
    deferred = defer(env, context)
    old_job = ti.xcoms["job_name"]
    if old_trigger_stops_first:
        asyncio.run(rebuild_trigger(deferred.trigger).on_kill())
    env.sm.configure(training_seconds=1.0)
    ti.clear(retries=0)
    result = run_operator(make_operator(env), ti, store)
    assert result["status"] == "Completed"
    assert result["job_name"] != old_job and result["job_name"].endswith("-2")
    old = env.sm.boto3_client("sagemaker").describe_training_job(TrainingJobName=old_job)
    assert old["TrainingJobStatus"] == "Stopped"
    assert len(creates(env)) == 2


def test_clearing_with_stop_job_on_kill_false_reattaches(env: Env, store: MemoryStateStore, ti: FakeTI) -> None:
    env.sm.configure(training_seconds=2.0)
    context = make_context(ti, store)
    defer(env, context, stop_job_on_kill=False)
    ti.clear(retries=0)
    result = run_operator(make_operator(env, stop_job_on_kill=False), ti, store)
    assert result["job_name"].endswith("-1")
    assert len(creates(env)) == 1 and stops(env) == []


# -- the job's own state decides a resume, not the event -----------------------------------------------


def test_a_deadline_event_for_a_job_that_completed_meanwhile_succeeds(
    env: Env, store: MemoryStateStore, ti: FakeTI
) -> None:
    env.sm.configure(training_seconds=0.5)
    context = make_context(ti, store)
    defer(env, context)
    name = ti.xcoms["job_name"]
    env.sm.force_job("training", name, "Completed")
    event = {"status": "deadline", "job_name": name, "kind": "training", "message": "deadline reached"}
    result = make_operator(env, deferrable=True).execute_complete(context, event=event)
    assert result["status"] == "Completed"


def test_a_deadline_event_whose_stop_failed_stops_the_job_from_the_worker(
    env: Env, store: MemoryStateStore, ti: FakeTI
) -> None:
    env.sm.configure(training_seconds=60)
    context = make_context(ti, store)
    defer(env, context)
    name = ti.xcoms["job_name"]
    event = {"status": "deadline", "job_name": name, "kind": "training",
             "message": "did not finish before the deadline. Stopping it failed: network"}
    with pytest.raises(SageMakerJobFailed, match="deadline"):
        make_operator(env, deferrable=True).execute_complete(context, event=event)
    assert [r["status_code"] for r in stops(env)] == [200]


# -- 14. every single read has a retry budget of its own -----------------------------------------------


def test_heavy_throttling_of_the_read_on_resume_does_not_fail_the_task(
    env: Env, store: MemoryStateStore, ti: FakeTI, fast_clock: FastClock, fast_botocore_retries: None
) -> None:
    env.sm.configure(training_seconds=0.5)
    context = make_context(ti, store)
    deferred = defer(env, context)
    event = asyncio.run(first_event(rebuild_trigger(deferred.trigger)))
    env.sm.fail_next("DescribeTrainingJob", code="ThrottlingException", status=400, count=20, message="slow down")
    result = make_operator(env, deferrable=True).execute_complete(context, event=event)
    assert result["status"] == "Completed"
    throttled = [r for r in env.sm.requests(operation="DescribeTrainingJob") if r["fault"] == "fail_next"]
    assert len(throttled) == 20

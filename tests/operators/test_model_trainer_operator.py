"""ModelTrainerOperator against the local SageMaker, run in-process (worker and trigger paths)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from airflow.sdk import DAG
from airflow.sdk.exceptions import TaskDeferred

from airflow_provider_smtrain.exceptions import SageMakerJobFailed
from airflow_provider_smtrain.operators.base import STATE_KEY
from airflow_provider_smtrain.operators.model_trainer import ModelTrainerOperator
from airflow_provider_smtrain.specs import SpecValidationError
from tests.operators.conftest import CONNECTION_ACCESS_KEY, Env
from tests.operators.interruptions import armed_execution_timeout, ring_at_request
from tests.operators.runner import (
    FakeTI,
    MemoryStateStore,
    WorkerDied,
    kill_once_running,
    rebuild_trigger,
    run_operator,
)


def make_operator(env: Env, *, deferrable: bool = False, **overrides: Any) -> ModelTrainerOperator:
    operator_kwargs = {
        key: overrides.pop(key)
        for key in ("max_wait", "stop_job_on_kill", "poll_interval", "wait_for_completion", "execution_timeout")
        if key in overrides
    }
    with DAG(dag_id="dag", schedule=None, start_date=datetime(2026, 1, 1)):
        return ModelTrainerOperator(
            task_id="train",
            aws_conn_id=env.conn_id,
            deferrable=deferrable,
            poll_interval=operator_kwargs.pop("poll_interval", 0.2),
            **operator_kwargs,
            **env.trainer_args(**overrides),
        )


def creates(env: Env) -> list[dict[str, Any]]:
    return env.sm.requests(operation="CreateTrainingJob")


def test_blocking_run_returns_documented_json_result(env: Env, store: MemoryStateStore, ti: FakeTI) -> None:
    result = run_operator(make_operator(env), ti, store)

    assert json.loads(json.dumps(result)) == result
    assert result["status"] == "Completed"
    assert result["kind"] == "training"
    assert result["job_name"].startswith("train-") and result["job_name"].endswith("-1")
    assert result["job_arn"].endswith(f"training-job/{result['job_name']}")
    assert result["model_artifacts"] == f"s3://{env.bucket}/models/{result['job_name']}/output/model.tar.gz"
    assert "train:loss" in result["final_metrics"]
    datetime.fromisoformat(result["creation_time"])
    datetime.fromisoformat(result["training_end_time"])
    assert result["console_url"].endswith(f"#/jobs/{result['job_name']}")
    assert ti.xcoms["job_name"] == result["job_name"]
    assert ti.xcoms["smtrain_training_job"]["job_name"] == result["job_name"]
    saved = store.get(STATE_KEY)
    assert {k: saved[k] for k in ("job_name", "generation", "kind", "max_tries")} == {
        "job_name": result["job_name"],
        "generation": 1,
        "kind": "training",
        "max_tries": 0,
    }
    assert len(saved["token"]) == 32, "a random token per task instance, hashed into the job names"
    assert saved["arn"] == result["job_arn"]
    assert len(creates(env)) == 1


def test_every_request_is_signed_with_the_connection_credentials(
    env: Env, store: MemoryStateStore, ti: FakeTI, ambient_access_key: str
) -> None:
    run_operator(make_operator(env), ti, store)

    requests = [r for r in env.sm.requests() if r["service"] != "local"]
    operations = {r["operation"] for r in requests}
    assert {"CreateTrainingJob", "DescribeTrainingJob"} <= operations
    assert any(r["service"] == "s3" for r in requests), "the SDK uploads the source dir to S3"
    signers = {r["access_key_id"] for r in requests}
    assert signers == {CONNECTION_ACCESS_KEY}, signers
    assert ambient_access_key not in signers


def test_deferrable_run_defers_once_and_resumes_from_the_trigger_event(
    env: Env, store: MemoryStateStore, ti: FakeTI
) -> None:
    env.sm.configure(training_seconds=1.5)
    operator = make_operator(env, deferrable=True)
    context = {"ti": ti, "task_state_store": store, "params": {}}
    with pytest.raises(TaskDeferred) as deferred:
        operator.execute(context)
    trigger = rebuild_trigger(deferred.value.trigger)
    classpath, kwargs = trigger.serialize()
    assert classpath.endswith("TrainingJobTrigger")
    assert kwargs["job_name"] == ti.xcoms["job_name"]
    assert kwargs["aws_conn_id"] == env.conn_id and kwargs["region_name"] == "us-east-1"

    import asyncio

    from tests.operators.runner import first_event

    event = asyncio.run(first_event(trigger))
    assert event["status"] == "succeeded"
    result = operator.execute_complete(context, event=event)
    assert result["status"] == "Completed"
    assert len(creates(env)) == 1


def test_failed_job_fails_the_task_with_the_failure_reason(env: Env, store: MemoryStateStore, ti: FakeTI) -> None:
    env.sm.add_rule(kind="training", name_glob="*", outcome="Failed", failure_reason="AlgorithmError: loss is NaN")
    with pytest.raises(SageMakerJobFailed, match="ended Failed: AlgorithmError: loss is NaN"):
        run_operator(make_operator(env), ti, store)


def test_deferrable_failed_job_fails_the_task_with_the_failure_reason(
    env: Env, store: MemoryStateStore, ti: FakeTI
) -> None:
    env.sm.add_rule(kind="training", name_glob="*", outcome="Failed", failure_reason="AlgorithmError: OOM")
    with pytest.raises(SageMakerJobFailed, match="AlgorithmError: OOM"):
        run_operator(make_operator(env, deferrable=True), ti, store)


class CrashAfterSubmit(ModelTrainerOperator):
    """Dies right after the SDK submitted the job, as a worker lost at the worst moment would."""

    def submit_job(self, spec: Any, name: str, context: Any) -> None:
        super().submit_job(spec, name, context)
        raise WorkerDied("worker lost right after submitting")


def test_retry_after_a_crash_between_submit_and_wait_reattaches(
    env: Env, store: MemoryStateStore, ti: FakeTI
) -> None:
    env.sm.configure(training_seconds=2.0)
    with DAG(dag_id="dag", schedule=None, start_date=datetime(2026, 1, 1)):
        crashing = CrashAfterSubmit(task_id="train", aws_conn_id=env.conn_id, deferrable=False, **env.trainer_args())
    with pytest.raises(WorkerDied):
        run_operator(crashing, ti, store)
    assert len(creates(env)) == 1

    ti.try_number = 2
    result = run_operator(make_operator(env, deferrable=True), ti, store)

    assert result["status"] == "Completed"
    assert len(creates(env)) == 1, "the retry must re-attach, not submit again"


def test_retry_without_task_state_store_still_finds_the_job_by_name(env: Env, ti: FakeTI) -> None:
    env.sm.configure(training_seconds=2.0)
    first = run_operator(make_operator(env, wait_for_completion=False), ti, None)
    ti.try_number = 2
    second = run_operator(make_operator(env), ti, None)
    assert second["job_name"] == first["job_name"]
    assert len(creates(env)) == 1


def test_retry_after_success_returns_the_result_without_resubmitting(
    env: Env, store: MemoryStateStore, ti: FakeTI
) -> None:
    first = run_operator(make_operator(env), ti, store)
    ti.try_number = 2
    second = run_operator(make_operator(env), ti, store)
    assert second["job_name"] == first["job_name"]
    assert len(creates(env)) == 1


def test_retry_after_a_failed_job_submits_the_next_generation(
    env: Env, store: MemoryStateStore, ti: FakeTI
) -> None:
    env.sm.add_rule(kind="training", name_glob="*-1", outcome="Failed", failure_reason="boom", times=1)
    with pytest.raises(SageMakerJobFailed):
        run_operator(make_operator(env), ti, store)
    ti.try_number = 2
    result = run_operator(make_operator(env), ti, store)
    assert result["job_name"].endswith("-2")
    assert store.get(STATE_KEY)["generation"] == 2
    assert len(creates(env)) == 2


def test_on_kill_stops_the_running_job(env: Env, store: MemoryStateStore, ti: FakeTI) -> None:
    env.sm.configure(training_seconds=60)
    operator = make_operator(env)
    errors = kill_once_running(operator, ti, store)

    stops = env.sm.requests(operation="StopTrainingJob")
    assert [r["status_code"] for r in stops] == [200]
    assert errors and "Stopped" in str(errors[0])


def test_max_wait_stops_the_job_and_fails_the_task(env: Env, store: MemoryStateStore, ti: FakeTI) -> None:
    env.sm.configure(training_seconds=60)
    with pytest.raises(SageMakerJobFailed, match="deadline"):
        run_operator(make_operator(env, max_wait=1.0), ti, store)
    assert len(env.sm.requests(operation="StopTrainingJob")) == 1


def test_deferrable_deadline_stops_the_job(env: Env, store: MemoryStateStore, ti: FakeTI) -> None:
    env.sm.configure(training_seconds=60)
    with pytest.raises(SageMakerJobFailed, match="deadline"):
        run_operator(make_operator(env, deferrable=True, max_wait=1.0), ti, store)
    assert len(env.sm.requests(operation="StopTrainingJob")) == 1


@pytest.mark.parametrize("deferrable", [False, True])
def test_thirty_percent_throttled_status_reads_do_not_fail_the_task(
    env: Env, store: MemoryStateStore, ti: FakeTI, deferrable: bool
) -> None:
    env.sm.configure(training_seconds=2.0)
    env.sm.set_faults(throttle_rate=0.3, operations=["DescribeTrainingJob"], seed=7)
    result = run_operator(make_operator(env, deferrable=deferrable, poll_interval=0.1), ti, store)
    assert result["status"] == "Completed"
    throttled = [r for r in env.sm.requests(operation="DescribeTrainingJob") if r["fault"] == "throttle"]
    assert throttled, "the fault injection must actually have throttled some reads"


def test_without_waiting_returns_the_running_job(env: Env, store: MemoryStateStore, ti: FakeTI) -> None:
    env.sm.configure(training_seconds=30)
    result = run_operator(make_operator(env, wait_for_completion=False), ti, store)
    assert result["status"] == "InProgress"


BAD_INPUTS = [
    ({"role": "SageMakerRole"}, "role"),
    ({"output_path": "bucket/models"}, "output_path"),
    ({"training_image": None}, "training_image"),
    ({"algorithm_name": "xgboost"}, "algorithm_name"),
    ({"compute": {"instance_count": 0}}, "compute.instance_count"),
    ({"compute": {"instance_type": "m5.xlarge"}}, "compute.instance_type"),
    ({"input_data": {"code": "s3://b/x"}}, "input_data"),
    ({"input_data": [{"channel_name": "train", "data_source": "s3://b/1"}] * 2}, "input_data"),
    ({"stopping_condition": {"max_runtime_in_seconds": -5}}, "stopping_condition.max_runtime_in_seconds"),
    ({"tags": {"aws:reserved": "x"}}, "tags"),
    ({"distributed": {"type": "horovod"}}, "distributed"),
    ({"source_code": {"source_dir": "/nonexistent/dir", "entry_script": "train.py", "command": "python x"}}, "source_code"),
    ({"base_job_name": "bad_name!"}, "base_job_name"),
    ({"networking": {"subnets": ["subnet-1"]}}, "networking"),
]


@pytest.mark.parametrize(("override", "field"), BAD_INPUTS)
def test_bad_input_is_rejected_before_any_aws_call(
    env: Env, store: MemoryStateStore, ti: FakeTI, override: dict[str, Any], field: str
) -> None:
    env.sm.reset()
    with pytest.raises(SpecValidationError) as err:
        run_operator(make_operator(env, **override), ti, store)
    assert field in str(err.value)
    assert env.sm.requests() == [], "validation must come before any AWS call"
    assert store.data == {}


def test_environment_values_never_appear_in_errors(env: Env, store: MemoryStateStore, ti: FakeTI) -> None:
    env.sm.reset()
    with pytest.raises(SpecValidationError) as err:
        run_operator(make_operator(env, environment={"API_TOKEN": ["s3cr3t-value"]}), ti, store)
    assert "environment" in str(err.value)
    assert "s3cr3t-value" not in str(err.value)


def test_job_stopped_elsewhere_fails_the_task_with_the_status(
    env: Env, store: MemoryStateStore, ti: FakeTI
) -> None:
    env.sm.configure(training_seconds=30)
    operator = make_operator(env, deferrable=True)
    context = {"ti": ti, "task_state_store": store, "params": {}}
    with pytest.raises(TaskDeferred) as deferred:
        operator.execute(context)
    env.sm.boto3_client("sagemaker").stop_training_job(TrainingJobName=ti.xcoms["job_name"])

    import asyncio

    from tests.operators.runner import first_event

    event = asyncio.run(first_event(rebuild_trigger(deferred.value.trigger)))
    assert event["status"] == "stopped"
    with pytest.raises(SageMakerJobFailed, match="ended Stopped"):
        operator.execute_complete(context, event=event)


def test_execution_timeout_of_a_deferred_task_stops_the_job(
    env: Env, store: MemoryStateStore, ti: FakeTI
) -> None:
    from datetime import timedelta

    env.sm.configure(training_seconds=60)
    operator = make_operator(env, deferrable=True, execution_timeout=timedelta(seconds=2))
    with pytest.raises(SageMakerJobFailed, match="deadline"):
        run_operator(operator, ti, store)
    assert len(env.sm.requests(operation="StopTrainingJob")) == 1


def test_blocking_mode_streams_the_training_logs_into_the_task_log(
    env: Env, store: MemoryStateStore, ti: FakeTI
) -> None:
    from structlog.testing import capture_logs

    operator = make_operator(env)
    with capture_logs() as captured:
        result = run_operator(operator, ti, store)
    lines = [str(entry.get("event", "")) % tuple(entry.get("positional_args", ())) for entry in captured]
    job_name = result["job_name"]
    assert any(line.startswith("[algo-1") for line in lines), lines
    assert any("/aws/sagemaker/TrainingJobs" in line and job_name in line for line in lines)


def test_a_rejected_submission_fails_the_task_and_the_retry_submits_the_same_generation(
    env: Env, store: MemoryStateStore, ti: FakeTI
) -> None:
    env.sm.fail_next(
        "CreateTrainingJob", code="ResourceLimitExceeded", status=400, count=1, message="ml.m5.xlarge quota is 0"
    )
    with pytest.raises(Exception, match="ResourceLimitExceeded"):
        run_operator(make_operator(env), ti, store)
    name = store.get(STATE_KEY)["job_name"]
    assert env.sm.boto3_client("sagemaker").list_training_jobs()["TrainingJobSummaries"] == []

    ti.try_number = 2
    result = run_operator(make_operator(env), ti, store)
    assert result["job_name"] == name, "nothing ran, so the retry uses the same generation"
    assert [r["status_code"] for r in creates(env)] == [400, 200]


def test_a_retry_that_finds_its_job_stopping_waits_and_starts_the_next_generation(
    env: Env, store: MemoryStateStore, ti: FakeTI
) -> None:
    env.sm.configure(training_seconds=60, stop_seconds=2.0)
    with pytest.raises(SageMakerJobFailed, match="deadline"):
        run_operator(make_operator(env, max_wait=1.0), ti, store)
    env.sm.configure(training_seconds=1.0)
    ti.try_number = 2
    result = run_operator(make_operator(env), ti, store)  # starts while try 1's job is still Stopping
    assert result["status"] == "Completed"
    assert result["job_name"].endswith("-2")
    assert len(creates(env)) == 2


def test_a_changed_name_prefix_reattaches_to_the_stored_job(env: Env, store: MemoryStateStore, ti: FakeTI) -> None:
    env.sm.configure(training_seconds=3.0)
    first = run_operator(make_operator(env, wait_for_completion=False, base_job_name="run-a"), ti, store)
    ti.try_number = 2
    second = run_operator(make_operator(env, base_job_name="run-b"), ti, store)
    assert first["job_name"].startswith("run-a-")
    assert second["job_name"] == first["job_name"]
    assert len(creates(env)) == 1


def test_blocking_deadline_between_polls_rereads_before_failing(
    env: Env, store: MemoryStateStore, ti: FakeTI
) -> None:
    env.sm.configure(training_seconds=1.0)
    result = run_operator(make_operator(env, poll_interval=6, max_wait=4.0), ti, store)
    assert result["status"] == "Completed"
    assert env.sm.requests(operation="StopTrainingJob") == []


@pytest.mark.parametrize("deferrable", [False, True])
def test_unreadable_logs_never_fail_a_successful_task(
    env: Env, store: MemoryStateStore, ti: FakeTI, deferrable: bool
) -> None:
    env.sm.fail_next("DescribeLogStreams", code="AccessDeniedException", status=400, count=100)
    result = run_operator(make_operator(env, deferrable=deferrable), ti, store)
    assert result["status"] == "Completed"
    assert any(r["fault"] == "fail_next" for r in env.sm.requests(operation="DescribeLogStreams"))


def test_resuming_while_the_job_still_runs_defers_again(env: Env, store: MemoryStateStore, ti: FakeTI) -> None:
    env.sm.configure(training_seconds=30)
    operator = make_operator(env, deferrable=True)
    context = {"ti": ti, "task_state_store": store, "params": {}}
    with pytest.raises(TaskDeferred):
        operator.execute(context)
    event = {"status": "succeeded", "job_name": ti.xcoms["job_name"], "kind": "training"}
    with pytest.raises(TaskDeferred):
        make_operator(env, deferrable=True).execute_complete(context, event=event)


def test_an_event_for_another_job_is_refused(env: Env, store: MemoryStateStore, ti: FakeTI) -> None:
    from airflow_provider_smtrain.exceptions import TriggerEventError

    env.sm.configure(training_seconds=30)
    context = {"ti": ti, "task_state_store": store, "params": {}}
    with pytest.raises(TaskDeferred):
        make_operator(env, deferrable=True).execute(context)
    event = {"status": "succeeded", "job_name": "someone-elses-job", "kind": "training"}
    with pytest.raises(TriggerEventError, match="owns"):
        make_operator(env, deferrable=True).execute_complete(context, event=event)


def test_a_connection_without_region_is_rejected_naming_region_name(
    env: Env, store: MemoryStateStore, ti: FakeTI, monkeypatch: pytest.MonkeyPatch
) -> None:
    connection = json.loads(env.sm.airflow_connection_json(access_key_id="AKIANOREGION", secret_access_key="x"))
    connection["extra"].pop("region_name", None)
    monkeypatch.setenv("AIRFLOW_CONN_SMTRAIN_LOCAL", json.dumps(connection))
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    env.sm.clear_requests()
    with pytest.raises(ValueError, match="region_name"):
        run_operator(make_operator(env), ti, store)
    assert env.sm.requests() == []


def test_a_timeout_as_the_job_is_created_is_not_swallowed_by_the_sdk(
    env: Env, store: MemoryStateStore, ti: FakeTI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Airflow's execution timeout rings inside ``ModelTrainer.train()`` as CreateTrainingJob is answered: the
    task fails with it (the SDK's telemetry decorator returns from ``finally`` and would swallow it, and the
    task would go on to wait for the job) and nothing more is sent."""
    from airflow.sdk.exceptions import AirflowTaskTimeout

    with armed_execution_timeout() as ring:
        ring_at_request(monkeypatch, "CreateTrainingJob", ring, after_response=True)
        with pytest.raises(AirflowTaskTimeout):
            run_operator(make_operator(env), ti, store)
    sent = [r["operation"] for r in env.sm.requests() if r["service"] != "local"]
    assert sent[-1] == "CreateTrainingJob" and sent.count("CreateTrainingJob") == 1, sent

"""The provider's operators run by a real Airflow 3 (API server, scheduler, dag-processor, triggerer,
LocalExecutor workers, SQLite metadata DB) against the local SageMaker."""

from __future__ import annotations

import pytest

from tests.integration.provider_fixtures import BUCKET, CONNECTION_KEY, Ctx, wait_until

pytestmark = pytest.mark.integration


def test_deferrable_training_completes_through_the_real_triggerer(ctx: Ctx) -> None:
    run_id, state = ctx.run("it_train_deferrable")
    assert state == "success", ctx.af.component_logs(tail=60)

    ti = ctx.af.ti("it_train_deferrable", run_id, "train")
    assert ti["try_number"] == 1
    result = ctx.af.xcom("it_train_deferrable", run_id, "train")
    assert result["status"] == "Completed"
    assert result["job_name"].startswith("it-ok-")
    assert result["model_artifacts"].startswith(f"s3://{BUCKET}/models/{result['job_name']}/")
    log = ctx.af.task_log("it_train_deferrable", run_id, "train")
    assert "Deferring" in log
    trigger_logs = ctx.af.trigger_logs("it_train_deferrable", run_id, "train")
    assert trigger_logs, "the trigger must have run in a triggerer"
    assert any(result["job_name"] in text for text in trigger_logs.values())
    assert ctx.creates() == 1
    signers = {r["access_key_id"] for r in ctx.sm.requests()}
    assert signers == {CONNECTION_KEY}, signers


def test_blocking_training_streams_logs_and_completes(ctx: Ctx) -> None:
    run_id, state = ctx.run("it_train_blocking")
    assert state == "success", ctx.af.component_logs(tail=60)
    log = ctx.af.task_log("it_train_blocking", run_id, "train")
    assert "[algo-1" in log, "CloudWatch log lines are streamed into the task log"
    assert ctx.creates() == 1


def test_failed_job_fails_the_task_with_the_reason(ctx: Ctx) -> None:
    ctx.sm.add_rule(kind="training", name_glob="it-fail-*", outcome="Failed", failure_reason="AlgorithmError: diverged")
    run_id, state = ctx.run("it_train_failing")
    assert state == "failed"
    assert ctx.af.ti("it_train_failing", run_id, "train")["state"] == "failed"
    assert "AlgorithmError: diverged" in ctx.af.task_log("it_train_failing", run_id, "train")


def test_retry_after_a_crash_reattaches_instead_of_submitting_again(ctx: Ctx) -> None:
    run_id, state = ctx.run("it_train_crash_retry")
    assert state == "success", ctx.af.component_logs(tail=60)
    assert ctx.af.ti("it_train_crash_retry", run_id, "train")["try_number"] == 2
    assert ctx.creates() == 1, "exactly one training job for the task instance"
    stored = ctx.af.task_state_store("it_train_crash_retry", run_id, "train")
    job = stored["smtrain_job"]
    assert job["generation"] == 1 and job["job_name"].startswith("it-crash-")
    assert ctx.af.xcom("it_train_crash_retry", run_id, "train")["job_name"] == job["job_name"]


def test_clearing_a_successful_task_runs_a_new_generation(ctx: Ctx) -> None:
    run_id, state = ctx.run("it_train_deferrable")
    assert state == "success"
    first = ctx.af.xcom("it_train_deferrable", run_id, "train")
    ctx.af.clear_ti("it_train_deferrable", run_id, "train")
    assert ctx.af.wait_for_run("it_train_deferrable", run_id, timeout=120) == "success"
    second = ctx.af.xcom("it_train_deferrable", run_id, "train")
    assert first["job_name"].endswith("-1") and second["job_name"].endswith("-2")
    assert second["job_name"].rsplit("-", 1)[0] == first["job_name"].rsplit("-", 1)[0]
    assert ctx.creates() == 2 and ctx.stops() == 0


def test_clearing_a_deferred_task_stops_its_job_and_runs_a_new_generation(ctx: Ctx) -> None:
    ctx.sm.add_rule(kind="training", name_glob="it-long-*-1", outcome="Completed", seconds=300)
    run_id, old_job = ctx.start_and_wait_for_the_trigger("it_train_long")
    ctx.af.clear_ti("it_train_long", run_id, "train")
    assert ctx.af.wait_for_run("it_train_long", run_id, timeout=180) == "success", ctx.af.component_logs(tail=60)
    result = ctx.af.xcom("it_train_long", run_id, "train")
    assert result["job_name"] != old_job and result["job_name"].endswith("-2")
    assert ctx.training_status(old_job) == "Stopped"
    assert ctx.creates() == 2


def test_a_worker_killed_while_waiting_is_retried_and_reattaches(ctx: Ctx) -> None:
    run_id, state = ctx.run("it_train_killed_while_waiting")
    assert state == "success", ctx.af.component_logs(tail=60)
    assert ctx.af.ti("it_train_killed_while_waiting", run_id, "train")["try_number"] == 2
    assert ctx.creates() == 1 and ctx.stops() == 0


def test_marking_a_deferred_task_failed_stops_the_job(ctx: Ctx) -> None:
    ctx.sm.add_rule(kind="training", name_glob="it-long-*", outcome="Completed", seconds=300)
    # Airflow runs a trigger's on_kill only once a triggerer runs it (docs/operators.md, "Kill").
    run_id, job_name = ctx.start_and_wait_for_the_trigger("it_train_long")
    ctx.af.mark_ti("it_train_long", run_id, "train", state="failed")
    wait_until(lambda: ctx.stops() == 1, 60, "the trigger's on_kill to stop the job")
    wait_until(lambda: ctx.training_status(job_name) == "Stopped", 30, "the job to stop")


def test_triggerer_restart_keeps_waiting_and_stops_nothing(ctx: Ctx) -> None:
    ctx.sm.add_rule(kind="training", name_glob="it-long-*", outcome="Completed", seconds=20)
    run_id, _ = ctx.start_and_wait_for_the_trigger("it_train_long")
    ctx.af.restart("triggerer")
    assert ctx.af.wait_for_run("it_train_long", run_id, timeout=180) == "success"
    assert ctx.stops() == 0
    assert ctx.creates() == 1
    assert len(ctx.af.trigger_logs("it_train_long", run_id, "train")) == 2, "two triggerer processes ran it"


@pytest.mark.parametrize("dag_id", ["it_train_timeout_deferred", "it_train_timeout_blocking"])
def test_execution_timeout_stops_the_job(ctx: Ctx, dag_id: str) -> None:
    ctx.sm.add_rule(kind="training", name_glob="it-tmo-*", outcome="Completed", seconds=300)
    run_id, state = ctx.run(dag_id)
    assert state == "failed"
    job_name = ctx.af.xcom(dag_id, run_id, "train", key="job_name")
    wait_until(lambda: ctx.training_status(job_name) == "Stopped", 30, "the job to stop")
    assert ctx.stops() == 1


def test_throttled_status_reads_do_not_fail_the_task(ctx: Ctx) -> None:
    ctx.sm.set_faults(throttle_rate=0.3, operations=["DescribeTrainingJob"], seed=3)
    run_id, state = ctx.run("it_train_deferrable")
    assert state == "success", ctx.af.task_log("it_train_deferrable", run_id, "train")
    assert any(r["fault"] == "throttle" for r in ctx.sm.requests(operation="DescribeTrainingJob"))


def test_tuning_dag_returns_the_best_job(ctx: Ctx) -> None:
    run_id, state = ctx.run("it_tuning")
    assert state == "success", ctx.af.component_logs(tail=60)
    result = ctx.af.xcom("it_tuning", run_id, "tune")
    assert result["status"] == "Completed"
    assert result["best_training_job"]["job_name"].startswith(result["job_name"])
    assert len(ctx.sm.requests(operation="CreateHyperParameterTuningJob")) == 1

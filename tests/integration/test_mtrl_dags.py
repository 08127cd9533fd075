"""MultiTurnRLTrainerOperator run by a real Airflow 3 (scheduler, triggerer, LocalExecutor workers) against the
local SageMaker's public hub, AgentRFT jobs and AgentCore runtimes."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.provider_fixtures import AMBIENT_KEY, BUCKET, CONNECTION_KEY, Ctx, wait_until

pytestmark = pytest.mark.integration


def prepare(ctx: Ctx) -> dict[str, Any]:
    """A prompt dataset, the two model package groups and an agent runtime; the run's conf."""
    ctx.sm.put_object(BUCKET, "prompts/train.jsonl", b'{"prompt": "Book a flight to Paris"}\n')
    client = ctx.sm.boto3_client("sagemaker")
    for group in ("it-agents", "it-agents-checkpoints"):
        client.create_model_package_group(ModelPackageGroupName=group)
    runtime = ctx.sm.boto3_client("bedrock-agentcore-control").create_agent_runtime(
        agentRuntimeName="itAgent",
        agentRuntimeArtifact={
            "containerConfiguration": {"containerUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/a:1"}
        },
        roleArn=ctx.role_arn,
        networkConfiguration={"networkMode": "PUBLIC"},
    )
    ctx.af.wait_for_dag("it_mtrl_crash_retry", timeout=120)
    ctx.sm.clear_requests()
    return {"role_arn": ctx.role_arn, "bucket": BUCKET, "agent_env": runtime["agentRuntimeId"]}


def job_status(ctx: Ctx, name: str) -> str:
    describe = ctx.sm.boto3_client("sagemaker").describe_job(JobName=name, JobCategory="AgentRFT")
    return str(describe["JobStatus"])


def stops_of(ctx: Ctx, job_name: str) -> list[dict[str, Any]]:
    """The ``StopJob`` requests for ``job_name`` (the LocalSageMaker is shared by the file's tests)."""
    return [r for r in ctx.sm.requests(operation="StopJob") if r["name"] == job_name]


def test_a_worker_killed_after_create_job_is_retried_and_reattaches_in_the_triggerer(ctx: Ctx) -> None:
    conf = prepare(ctx)
    # the job outlives the first try's worker process by far: Airflow 3 fails a resumed task whose trigger
    # fired before the scheduler processed the executor event of the try's deferring workload (its
    # supervisor can take seconds to exit), a race of the scheduler's, not of this provider's
    ctx.sm.add_rule(kind="agent_rft", name_glob="it-mtrl-crash-*", outcome="Completed", seconds=20)
    run_id = ctx.af.trigger("it_mtrl_crash_retry", conf=conf)
    state = ctx.af.wait_for_run("it_mtrl_crash_retry", run_id, timeout=300)
    assert state == "success", ctx.af.component_logs(tail=120)
    # every request of every process (workers, triggerer), before the test reads anything itself
    signers = {r["access_key_id"] for r in ctx.sm.requests() if r["service"] != "local"}
    assert signers == {CONNECTION_KEY} and AMBIENT_KEY not in signers, signers
    services = {r["service"] for r in ctx.sm.requests()}
    assert {"sagemaker", "s3", "iam", "bedrock-agentcore"} <= services, services

    assert len(ctx.sm.requests(operation="CreateJob")) == 1, "the retry re-attached"
    assert ctx.af.ti("it_mtrl_crash_retry", run_id, "agent_rft")["try_number"] == 2
    result = ctx.af.xcom("it_mtrl_crash_retry", run_id, "agent_rft")
    assert result["kind"] == "agent_rft" and result["status"] == "Completed"
    assert result["job_name"].startswith("it-mtrl-crash-") and result["job_name"].endswith("-1")
    assert result["model_package"]["version"] == 1 and result["base_model"]["version"] == "1.1.0"
    # the second try found the first try's job (running or already completed) instead of submitting
    assert "no new job submitted" in ctx.af.task_log("it_mtrl_crash_retry", run_id, "agent_rft", try_number=2)
    operations = {r["operation"] for r in ctx.sm.requests()}
    assert not operations & {"ListMlflowApps", "CreateMlflowApp", "CreateModelPackageGroup"}


def test_marking_a_deferred_task_failed_stops_the_agent_rft_job(ctx: Ctx) -> None:
    conf = prepare(ctx)
    ctx.sm.add_rule(kind="agent_rft", name_glob="it-mtrl-long-*", outcome="Completed", seconds=300)
    run_id = ctx.af.trigger("it_mtrl_long", conf=conf)
    ctx.af.wait_for_ti("it_mtrl_long", run_id, "agent_rft", states={"deferred"}, timeout=180)
    job_name = str(ctx.af.xcom("it_mtrl_long", run_id, "agent_rft", key="job_name"))
    wait_until(
        lambda: any(
            job_name in text for text in ctx.af.trigger_logs("it_mtrl_long", run_id, "agent_rft").values()
        ),
        60,
        "a triggerer to run the trigger",
    )
    ctx.af.mark_ti("it_mtrl_long", run_id, "agent_rft", state="failed")
    wait_until(lambda: stops_of(ctx, job_name), 60, "the trigger's on_kill to stop the job")
    wait_until(lambda: job_status(ctx, job_name) == "Stopped", 30, "the job to stop")
    [stop] = stops_of(ctx, job_name)
    assert stop["access_key_id"] == CONNECTION_KEY

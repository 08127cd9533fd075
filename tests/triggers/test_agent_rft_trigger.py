"""The AgentRFT job trigger (``DescribeJob``/``StopJob`` with ``JobCategory=AgentRFT``) against the LocalSageMaker."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from airflow_provider_smtrain.jobs.catalog import job_result
from airflow_provider_smtrain.triggers import AgentRFTJobTrigger
from tests.triggers.conftest import ACCESS_KEY, REGION, ROLE_ARN, TriggerSageMaker
from tests.triggers.test_job_triggers import FAST, after_polls, run_trigger

BASE_MODEL_ARN = "arn:aws:sagemaker:us-east-1:aws:hub-content/SageMakerPublicHub/Model/qwen3-8b/1.0.0"


def create_agent_rft_job(sm: TriggerSageMaker, name: str) -> None:
    """An AgentRFT job, held ``InProgress`` (``Training``) until the test forces it on."""
    document = {
        "OutputDataConfig": {"S3OutputPath": "s3://bucket/mtrl"},
        "TrainingConfig": {"BaseModelArn": BASE_MODEL_ARN},
    }
    sm.client().create_job(
        JobName=name,
        RoleArn=ROLE_ARN,
        JobCategory="AgentRFT",
        JobConfigSchemaVersion="1.0.0",
        JobConfigDocument=json.dumps(document),
    )
    sm.server.force_job("agent_rft", name, "InProgress", secondary_status="Training")


def force(sm: TriggerSageMaker, name: str, status: str, reason: str | None = None) -> None:
    sm.server.force_job("agent_rft", name, status, failure_reason=reason)


def agent_rft(job_name: str, **kwargs: Any) -> AgentRFTJobTrigger:
    return AgentRFTJobTrigger(job_name=job_name, **{**FAST, **kwargs})


def test_completed_job_succeeds_and_its_describe_builds_the_result(sm: TriggerSageMaker, job_name: str) -> None:
    create_agent_rft_job(sm, job_name)
    event = run_trigger(agent_rft(job_name), during=after_polls(sm, job_name, 2, lambda: force(sm, job_name, "Completed")))
    assert event["status"] == "succeeded"
    assert (event["kind"], event["job_status"], event["secondary_status"]) == ("agent_rft", "Completed", "Completed")
    describes = sm.calls("DescribeJob", job_name)
    assert len(describes) >= 2 and {c["access_key_id"] for c in describes} == {ACCESS_KEY}

    describe = sm.client().describe_job(JobName=job_name, JobCategory="AgentRFT")
    result = job_result("agent_rft", describe, REGION)
    assert result["status"] == "Completed" and result["base_model_arn"] == BASE_MODEL_ARN
    assert result["output_path"] == "s3://bucket/mtrl" and result["job_category"] == "AgentRFT"
    assert result["progress"] is not None and result["billable_tokens"]["train"] > 0


def test_failed_job_fails_with_its_reason(sm: TriggerSageMaker, job_name: str) -> None:
    create_agent_rft_job(sm, job_name)
    event = run_trigger(
        agent_rft(job_name),
        during=after_polls(sm, job_name, 2, lambda: force(sm, job_name, "Failed", "AgentError: env timed out")),
    )
    assert (event["status"], event["failure_reason"]) == ("failed", "AgentError: env timed out")


def test_on_kill_stops_the_job_with_stop_job(sm: TriggerSageMaker, job_name: str) -> None:
    create_agent_rft_job(sm, job_name)
    trigger = agent_rft(job_name)

    async def user_marks_failed() -> None:
        task = asyncio.ensure_future(trigger.run().__anext__())
        await asyncio.sleep(0.2)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
        await trigger.on_kill()

    asyncio.run(user_marks_failed())
    assert [c["access_key_id"] for c in sm.calls("StopJob", job_name)] == [ACCESS_KEY]
    sm.finish_stopping()
    assert sm.client().describe_job(JobName=job_name, JobCategory="AgentRFT")["JobStatus"] == "Stopped"


def test_deadline_stops_the_job(sm: TriggerSageMaker, job_name: str) -> None:
    create_agent_rft_job(sm, job_name)
    event = run_trigger(agent_rft(job_name, deadline=time.time() + 0.3, poll_interval=5))
    assert event["status"] == "deadline"
    assert [c["access_key_id"] for c in sm.calls("StopJob", job_name)] == [ACCESS_KEY]


def test_missing_job_is_an_error(sm: TriggerSageMaker, job_name: str) -> None:
    event = run_trigger(agent_rft(job_name))
    assert event["status"] == "error" and "ResourceNotFound" in event["message"]

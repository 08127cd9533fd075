"""PipelineExecutionTrigger against the LocalSageMaker: outcomes, the failing step, step progress, deadline, kill."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import pytest

from airflow_provider_smtrain.triggers import PipelineExecutionTrigger
from tests.testing import evaluation_pipelines as ep
from tests.triggers.conftest import ACCESS_KEY, CONN_ID, NO_BOTO_RETRIES, TriggerSageMaker
from tests.triggers.test_job_triggers import run_trigger

FAST: dict[str, Any] = {
    "aws_conn_id": CONN_ID,
    "botocore_config": NO_BOTO_RETRIES,
    "poll_interval": 0.05,
    "retry_base_delay": 0.005,
    "retry_max_delay": 0.02,
}
BUCKET = "trigger-eval"


def start(sm: TriggerSageMaker, name: str, template: str = "DETERMINISTIC_TEMPLATE") -> str:
    """Create an evaluation pipeline from the SDK's template and start it (the clock stands still)."""
    sm.server.create_bucket(BUCKET)
    client = sm.client()
    ep.create(sm.server, client, name, template, BUCKET)
    return str(client.start_pipeline_execution(
        PipelineName=name, PipelineExecutionDisplayName="run", ClientRequestToken=ep.token(7)
    )["PipelineExecutionArn"])


def status_reads(sm: TriggerSageMaker) -> int:
    """Reads of execution statuses the server saw: describes (a trigger alone), searches and lists (shared poller)."""
    return sum(len(sm.calls(op)) for op in ("DescribePipelineExecution", "Search", "ListPipelineExecutions"))


def after_reads(sm: TriggerSageMaker, reads: int, change: Any) -> Any:
    """Apply ``change()`` once the server saw ``reads`` status reads (:func:`status_reads`)."""

    async def during() -> None:
        while await asyncio.to_thread(status_reads, sm) < reads:
            await asyncio.sleep(0.01)
        await asyncio.to_thread(change)

    return during


def trigger(arn: str, **kwargs: Any) -> PipelineExecutionTrigger:
    return PipelineExecutionTrigger(job_name=arn, **{**FAST, **kwargs})


def test_succeeded_execution_and_step_progress_logged_when_it_changes(
    sm: TriggerSageMaker, caplog: pytest.LogCaptureFixture, describe_each_job: None
) -> None:
    """A trigger alone (coalescing off) reads the steps whenever the execution's LastModifiedTime moved."""
    arn = start(sm, "SagemakerEvaluation-BenchmarkEvaluation-trig-ok")
    caplog.set_level("INFO", logger="smtrain.test")
    waiting = trigger(arn)
    waiting._log = logging.getLogger("smtrain.test")  # type: ignore[assignment]
    event = run_trigger(waiting, during=after_reads(sm, 4, lambda: sm.server.clock.advance(5.0)))

    assert (event["status"], event["kind"], event["job_status"]) == ("succeeded", "pipeline_execution", "Succeeded")
    assert event["failed_step"] is None and event["failure_reason"] is None
    lines = [r.getMessage() for r in caplog.records if "steps:" in r.getMessage()]
    assert len(lines) == 2, lines  # several reads while Executing, one line; one more when it changed
    assert "EvaluateCustomModel Executing" in lines[0] and "EvaluateCustomModel Succeeded" in lines[1]
    reads = sm.calls("DescribePipelineExecution")
    assert len(reads) >= 4
    assert len(sm.calls("ListPipelineExecutionSteps")) < len(reads)  # steps only when the execution changed
    assert {c["access_key_id"] for c in sm.calls() if c["operation"].endswith(("Execution", "Steps"))
            and c["access_key_id"] != "AKIDTRIGGERSETUP"} == {ACCESS_KEY}


def test_failed_execution_names_the_failing_step_and_its_reason(sm: TriggerSageMaker) -> None:
    name = "SagemakerEvaluation-BenchmarkEvaluation-trig-fail"
    sm.server.add_rule(kind="pipeline_execution", name_glob=name, outcome="Failed",
                       failure_reason="ClientError: out of memory on eval", step="EvaluateCustomModel")
    arn = start(sm, name)
    event = run_trigger(trigger(arn), during=after_reads(sm, 2, lambda: sm.server.clock.advance(5.0)))

    assert (event["status"], event["job_status"]) == ("failed", "Failed")
    assert event["failed_step"] == {"name": "EvaluateCustomModel", "reason": "ClientError: out of memory on eval"}
    assert "step EvaluateCustomModel failed: ClientError: out of memory on eval" in event["failure_reason"]
    assert "EvaluateCustomModel" in event["message"]


def test_on_kill_stops_the_execution_with_the_connection(sm: TriggerSageMaker) -> None:
    arn = start(sm, "SagemakerEvaluation-BenchmarkEvaluation-trig-kill")
    waiting = trigger(arn)

    async def user_marks_failed() -> None:
        task = asyncio.ensure_future(run_forever(waiting))
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await waiting.on_kill()

    asyncio.run(user_marks_failed())
    stops = sm.calls("StopPipelineExecution")
    assert [c["access_key_id"] for c in stops] == [ACCESS_KEY]
    sm.server.clock.advance(5.0)
    status = sm.client().describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"]
    assert status == "Stopped"


async def run_forever(waiting: PipelineExecutionTrigger) -> None:
    async for _ in waiting.run():
        raise AssertionError("no event expected before the kill")


def test_stopped_execution_and_deadline(sm: TriggerSageMaker) -> None:
    arn = start(sm, "SagemakerEvaluation-BenchmarkEvaluation-trig-dl")
    event = run_trigger(trigger(arn, deadline=time.time() + 0.3, poll_interval=5))
    assert event["status"] == "deadline" and "A stop was requested" in event["message"]
    assert len(sm.calls("StopPipelineExecution")) == 1
    sm.server.clock.advance(5.0)
    event = run_trigger(trigger(arn))
    assert (event["status"], event["job_status"], event["failed_step"]) == ("stopped", "Stopped", None)

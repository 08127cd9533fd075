"""
Coalesced status reads of pipeline executions where ``Search`` is refused (denied by IAM here; the
``Search`` path is in ``test_pipeline_search.py``): the poller of a triggerer falls back to one
``ListPipelineExecutions`` per pipeline (scoped by ``PipelineName``, window ``CreatedAfter``) per poll.

Against the LocalSageMaker (frozen clock: executions move only when a test advances it or forces them);
what is asserted about requests is the server's request log (operation, subject, signing key).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from airflow_provider_smtrain.triggers import PipelineExecutionTrigger
from airflow_provider_smtrain.triggers.clients import PooledClient
from airflow_provider_smtrain.triggers.coalesced import POLLERS, coalesces, scope_of
from tests.testing import evaluation_pipelines as ep
from tests.triggers.conftest import ACCESS_KEY, TriggerSageMaker, unique_name
from tests.triggers.test_coalesced_reads import count, run_all, until
from tests.triggers.test_pipeline_trigger import BUCKET, FAST

SEARCH = "Search"
LIST = "ListPipelineExecutions"
DESCRIBE = "DescribePipelineExecution"
STEPS = "ListPipelineExecutionSteps"
FAILING_STEP = "EvaluateCustomModel"


@pytest.fixture(autouse=True)
def search_denied(sm: TriggerSageMaker) -> None:
    """``Search`` denied by IAM: every poller falls back to listing per pipeline."""
    sm.fail(SEARCH, "AccessDeniedException")


def pipeline(sm: TriggerSageMaker, prefix: str) -> str:
    """Create an evaluation pipeline (the SDK's deterministic template); return its name."""
    name = f"SagemakerEvaluation-BenchmarkEvaluation-{unique_name(prefix)}"
    sm.server.create_bucket(BUCKET)
    ep.create(sm.server, sm.client(), name, "DETERMINISTIC_TEMPLATE", BUCKET)
    return name


def start(sm: TriggerSageMaker, name: str, display: str, token: int) -> str:
    """Start one execution of pipeline ``name``; return its ARN."""
    return str(sm.client().start_pipeline_execution(
        PipelineName=name, PipelineExecutionDisplayName=display, ClientRequestToken=ep.token(token)
    )["PipelineExecutionArn"])


def trigger(arn: str, **kwargs: Any) -> PipelineExecutionTrigger:
    return PipelineExecutionTrigger(job_name=arn, **{**FAST, **kwargs})


def advance(sm: TriggerSageMaker, seconds: float) -> Any:
    return asyncio.to_thread(sm.server.clock.advance, seconds)


def test_executions_of_one_pipeline_cost_one_list_per_poll_and_each_gets_its_own_outcome(
    sm: TriggerSageMaker,
) -> None:
    name = pipeline(sm, "one")
    sm.server.add_rule(kind="pipeline_execution", name_glob="fails-*", outcome="Failed", seconds=60,
                       failure_reason="ClientError: out of memory on eval", step=FAILING_STEP)
    sm.server.add_rule(kind="pipeline_execution", name_glob="runs-*", outcome="Succeeded", seconds=60)
    displays = [f"fails-{i}" if i % 4 == 1 else f"runs-{i}" for i in range(12)]
    arns = [start(sm, name, display, i) for i, display in enumerate(displays[:6])]
    sm.server.clock.advance(3.0)  # created later: the window starts at the earliest creation
    arns += [start(sm, name, display, i) for i, display in enumerate(displays[6:], 6)]
    steady: dict[str, int] = {}

    async def during(tasks: list[asyncio.Task[Any]]) -> None:
        await until(lambda: count(sm, DESCRIBE) >= len(arns) and count(sm, STEPS) >= len(arns))
        before = {op: count(sm, op) for op in (LIST, DESCRIBE, STEPS)}
        await until(lambda: count(sm, LIST) >= before[LIST] + 10)
        steady.update({op: count(sm, op) - n for op, n in before.items()})
        await advance(sm, 3600.0)

    events = run_all([trigger(arn) for arn in arns], during)

    # while nothing changed: one ListPipelineExecutions per poll for the 12 executions, nothing else
    assert steady[LIST] >= 10 and steady[DESCRIBE] == 0 and steady[STEPS] == 0
    assert {c["name"] for c in sm.calls(LIST)} == {name}
    assert {c["access_key_id"] for c in sm.calls(LIST)} == {ACCESS_KEY}
    for arn, display, event in zip(arns, displays, events, strict=True):
        if display.startswith("fails-"):
            assert (event["status"], event["job_status"]) == ("failed", "Failed"), event
            assert event["failed_step"] == {"name": FAILING_STEP, "reason": "ClientError: out of memory on eval"}
            assert f"step {FAILING_STEP} failed: ClientError: out of memory on eval" in event["failure_reason"]
            # described when new, and once more when the listing showed it failed (the failure reason)
            assert count(sm, DESCRIBE, {arn}) == 2
        else:
            assert (event["status"], event["job_status"], event["failed_step"]) == ("succeeded", "Succeeded", None)
            assert count(sm, DESCRIBE, {arn}) == 1  # its success came from the list summary
        # steps read when first seen, and at the end only for a failure, not every poll
        assert count(sm, STEPS, {arn}) == (2 if display.startswith("fails-") else 1), display


def test_executions_of_two_pipelines_share_one_poller_that_lists_each_pipeline(sm: TriggerSageMaker) -> None:
    first, second = pipeline(sm, "first"), pipeline(sm, "second")
    arns = [start(sm, first, "a", 1), start(sm, first, "b", 2), start(sm, second, "c", 3)]
    keys: dict[str, Any] = {}

    async def during(tasks: list[asyncio.Task[Any]]) -> None:
        await until(lambda: count(sm, LIST) >= 6)
        keys["scopes"] = sorted(str(key[2]) for key in POLLERS.pollers())
        await asyncio.to_thread(sm.server.force_job, "pipeline_execution", arns[2], "Stopped")
        await asyncio.wait_for(asyncio.shield(tasks[2]), 5)
        assert not tasks[0].done() and not tasks[1].done()
        await advance(sm, 5.0)

    events = run_all([trigger(arn) for arn in arns], during)
    assert keys["scopes"] == ["None"]  # keyed by kind and connection: Search would read every pipeline
    assert [e["status"] for e in events] == ["succeeded", "succeeded", "stopped"]
    assert count(sm, SEARCH) == 1  # denied once, not asked again
    assert {c["name"] for c in sm.calls(LIST)} == {first, second}
    assert count(sm, DESCRIBE) == 3  # each execution described once, when new


def test_an_execution_missing_from_the_listing_is_described(
    sm: TriggerSageMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every execution created since the window's start should be listed: one left out is described."""
    name = pipeline(sm, "missing")
    listed, hidden = start(sm, name, "listed", 1), start(sm, name, "hidden", 2)
    real_call = PooledClient._call

    async def lagging_listing(self: PooledClient, method: str, *args: Any, **kwargs: Any) -> Any:
        response = await real_call(self, method, *args, **kwargs)
        if method == "list_pipeline_executions":
            summaries = [s for s in response["PipelineExecutionSummaries"] if s["PipelineExecutionArn"] != hidden]
            response = {**response, "PipelineExecutionSummaries": summaries}
        return response

    monkeypatch.setattr(PooledClient, "_call", lagging_listing)

    async def during(tasks: list[asyncio.Task[Any]]) -> None:
        await until(lambda: count(sm, LIST) >= 3)
        assert count(sm, DESCRIBE, {hidden}) >= 3 and count(sm, DESCRIBE, {listed}) == 1
        await asyncio.to_thread(sm.server.force_job, "pipeline_execution", hidden, "Failed", "ClientError: hidden")
        await asyncio.wait_for(asyncio.shield(tasks[1]), 5)
        await advance(sm, 5.0)

    events = run_all([trigger(listed), trigger(hidden)], during)
    assert (events[1]["status"], events[1]["job_status"]) == ("failed", "Failed")
    assert events[1]["failure_reason"].startswith("ClientError: hidden")
    assert events[0]["status"] == "succeeded"
    assert count(sm, DESCRIBE, {listed}) == 1


def test_a_throttled_listing_backs_off_and_each_trigger_ends_at_its_deadline(sm: TriggerSageMaker) -> None:
    name = pipeline(sm, "throttled")
    early, late = start(sm, name, "early", 1), start(sm, name, "late", 2)
    sm.fail(LIST, "ThrottlingException")
    now, started = time.time(), time.monotonic()

    async def during(tasks: list[asyncio.Task[Any]]) -> None:
        await asyncio.wait_for(asyncio.shield(tasks[0]), 5)
        assert not tasks[1].done()

    triggers = [trigger(early, deadline=now + 0.6, retry_base_delay=0.05, retry_max_delay=0.4),
                trigger(late, deadline=now + 1.4, retry_base_delay=0.05, retry_max_delay=0.4)]
    events = run_all(triggers, during)
    assert time.monotonic() - started < 5
    assert [(e["status"], e["job_status"]) for e in events] == [("deadline", "Executing")] * 2
    assert all("A stop was requested" in e["message"] for e in events)
    assert sorted(c["name"] for c in sm.calls("StopPipelineExecution")) == sorted([early, late])
    # shared backoff: fewer list calls than polls at the 0.05 s interval would send in 1.4 s (28)
    throttled = [c for c in sm.calls(LIST) if c["fault"]]
    assert 3 <= len(throttled) < 20
    assert count(sm, DESCRIBE) == 2


def test_a_non_retriable_list_error_reaches_every_waiting_trigger(sm: TriggerSageMaker) -> None:
    name = pipeline(sm, "broken")
    arns = [start(sm, name, f"run-{i}", i) for i in range(3)]

    async def during(tasks: list[asyncio.Task[Any]]) -> None:
        await until(lambda: count(sm, LIST) >= 1)
        await asyncio.to_thread(sm.fail, LIST, "ValidationException", 400, 1.0, 1)

    events = run_all([trigger(arn) for arn in arns], during)
    for arn, event in zip(arns, events, strict=True):
        assert (event["status"], event["job_name"]) == ("error", arn)
        assert event["message"].startswith(f"ListPipelineExecutions for pipeline execution {arn!r} failed: "
                                           "ValidationException")


def test_a_listing_denied_by_iam_falls_back_to_describing(sm: TriggerSageMaker) -> None:
    name = pipeline(sm, "denied")
    arns = [start(sm, name, f"run-{i}", i) for i in range(2)]
    sm.fail(LIST, "AccessDeniedException")

    async def during(tasks: list[asyncio.Task[Any]]) -> None:
        await until(lambda: count(sm, DESCRIBE) >= 6)
        await advance(sm, 5.0)

    events = run_all([trigger(arn) for arn in arns], during)
    assert [e["status"] for e in events] == ["succeeded"] * 2
    assert count(sm, LIST) == 1  # denied once, not asked again


def test_coalescing_off_describes_each_execution(sm: TriggerSageMaker, describe_each_job: None) -> None:
    name = pipeline(sm, "off")
    arns = [start(sm, name, f"run-{i}", i) for i in range(3)]

    async def during(tasks: list[asyncio.Task[Any]]) -> None:
        await until(lambda: all(count(sm, DESCRIBE, {arn}) >= 3 for arn in arns))
        assert not POLLERS.pollers()
        await advance(sm, 5.0)

    events = run_all([trigger(arn) for arn in arns], during)
    assert [e["status"] for e in events] == ["succeeded"] * 3
    assert count(sm, LIST) == 0


def test_an_execution_whose_arn_names_no_pipeline_is_described_while_the_others_are_listed(
    sm: TriggerSageMaker,
) -> None:
    """A handle the pipeline cannot be parsed from has no scope to list: it is described every poll."""
    good = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/my-pipe/execution/abc123"
    assert coalesces(trigger(good)) and scope_of(trigger(good)) == "my-pipe"
    for bad in ("arn:aws:sagemaker:us-east-1:123456789012:pipeline-execution/nope",
                "arn:aws:sagemaker:us-east-1:123456789012:pipeline/my-pipe", "my-pipe/execution/abc123"):
        assert coalesces(trigger(bad)) and scope_of(trigger(bad)) is None, bad
    name = pipeline(sm, "noscope")
    listed, unscoped = start(sm, name, "listed", 1), start(sm, name, "unscoped", 2)
    triggers = [trigger(listed), trigger(unscoped)]
    for waiting in triggers:
        waiting.job_kind = _no_scope_for(unscoped)

    async def during(tasks: list[asyncio.Task[Any]]) -> None:
        await until(lambda: count(sm, LIST) >= 3)
        await advance(sm, 3600.0)

    events = run_all(triggers, during)
    assert [e["status"] for e in events] == ["succeeded"] * 2
    assert count(sm, DESCRIBE, {unscoped}) >= 4 and count(sm, DESCRIBE, {listed}) == 1
    assert {c["name"] for c in sm.calls(LIST)} == {name}


def _no_scope_for(arn: str) -> Any:
    """The pipeline-execution kind, with a listing that parses no pipeline from ``arn``."""
    import dataclasses

    from airflow_provider_smtrain.jobs.kinds import PIPELINE_EXECUTION
    from airflow_provider_smtrain.jobs.pipeline_arns import pipeline_of

    listing = dataclasses.replace(PIPELINE_EXECUTION.listing, scope=lambda h: None if h == arn else pipeline_of(h))  # type: ignore[arg-type]
    return dataclasses.replace(PIPELINE_EXECUTION, listing=listing)


def test_a_cancelled_trigger_leaves_its_pipelines_poller_and_the_others_keep_waiting(sm: TriggerSageMaker) -> None:
    name = pipeline(sm, "cancel")
    leaving, staying = start(sm, name, "leaving", 1), start(sm, name, "staying", 2)
    seen: dict[str, Any] = {}

    async def during(tasks: list[asyncio.Task[Any]]) -> None:
        await until(lambda: count(sm, LIST) >= 2)
        [poller] = POLLERS.pollers().values()
        tasks[0].cancel()  # the triggerer cancels a trigger (task cleared, triggerer reassigns it)
        await until(lambda: leaving not in poller.jobs)
        seen["jobs"] = sorted(poller.jobs)
        lists = count(sm, LIST)
        await until(lambda: count(sm, LIST) >= lists + 2)
        await advance(sm, 5.0)

    events = run_all([trigger(leaving), trigger(staying)], during)
    assert events[0] == {"cancelled": True} and events[1]["status"] == "succeeded"
    assert seen["jobs"] == [staying]
    assert sm.calls("StopPipelineExecution") == []  # leaving is not killing: the execution runs on

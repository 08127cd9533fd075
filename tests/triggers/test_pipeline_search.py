"""
Coalesced status reads of pipeline executions with ``Search``: the executions waited in one triggerer
through one connection share one poller, whatever their pipelines, which reads all their statuses with
one ``Search`` (``Resource="PipelineExecution"``, ``LastModifiedTime GreaterThan`` a server-time
watermark) per poll; when ``Search`` is refused it lists per pipeline, when that is denied too it describes.

Against the LocalSageMaker (frozen clock: executions move only when a test advances it or forces them);
what is asserted about requests is the server's request log (operation, subject, signing key).
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from airflow_provider_smtrain.jobs.kinds import PIPELINE_EXECUTION
from airflow_provider_smtrain.triggers import list_window
from airflow_provider_smtrain.triggers.clients import PooledClient
from airflow_provider_smtrain.triggers.coalesced import POLLERS
from tests.triggers.conftest import ACCESS_KEY, TriggerSageMaker
from tests.triggers.test_coalesced_reads import count, run_all, until
from tests.triggers.test_pipeline_coalesced import advance, pipeline, start, trigger

SEARCH = "Search"
LIST = "ListPipelineExecutions"
DESCRIBE = "DescribePipelineExecution"
STEPS = "ListPipelineExecutionSteps"
FAILING_STEP = "EvaluateCustomModel"
REASON = "ClientError: out of memory on eval"


def one_per_pipeline(sm: TriggerSageMaker, displays: list[str], prefix: str) -> tuple[list[str], list[str]]:
    """Start one execution in a pipeline of its own per display name; return (pipelines, ARNs)."""
    names = [pipeline(sm, f"{prefix}{i}") for i in range(len(displays))]
    return names, [start(sm, name, display, i) for i, (name, display) in enumerate(zip(names, displays, strict=True))]


def hide_from_search(monkeypatch: pytest.MonkeyPatch, hidden: str) -> None:
    """``Search`` results leave out the execution ``hidden`` (an index that lags or lost it)."""
    real_call = PooledClient._call

    async def lagging_search(self: PooledClient, method: str, *args: Any, **kwargs: Any) -> Any:
        response = await real_call(self, method, *args, **kwargs)
        if method == "search":
            results = [r for r in response["Results"] if r["PipelineExecution"]["PipelineExecutionArn"] != hidden]
            response = {**response, "Results": results}
        return response

    monkeypatch.setattr(PooledClient, "_call", lagging_search)


def test_executions_of_many_pipelines_cost_one_search_per_poll_and_failures_need_no_describe(
    sm: TriggerSageMaker,
) -> None:
    sm.server.add_rule(kind="pipeline_execution", name_glob="fails-*", outcome="Failed", seconds=60,
                       failure_reason=REASON, step=FAILING_STEP)
    sm.server.add_rule(kind="pipeline_execution", name_glob="runs-*", outcome="Succeeded", seconds=60)
    displays = [f"fails-{i}" if i % 4 == 1 else f"runs-{i}" for i in range(12)]
    names, arns = one_per_pipeline(sm, displays, "many")
    steady: dict[str, int] = {}
    keys: list[Any] = []

    async def during(tasks: list[asyncio.Task[Any]]) -> None:
        await until(lambda: count(sm, DESCRIBE) >= len(arns) and count(sm, STEPS) >= len(arns))
        keys.extend(POLLERS.pollers())
        before = {op: count(sm, op) for op in (SEARCH, LIST, DESCRIBE, STEPS)}
        await until(lambda: count(sm, SEARCH) >= before[SEARCH] + 10)
        steady.update({op: count(sm, op) - n for op, n in before.items()})
        await advance(sm, 3600.0)

    events = run_all([trigger(arn) for arn in arns], during)

    # while nothing changed: one Search per poll for 12 executions of 12 pipelines, nothing else
    assert steady[SEARCH] >= 10 and steady[LIST] == steady[DESCRIBE] == steady[STEPS] == 0, steady
    assert len(keys) == 1 and keys[0][2] is None  # one poller, no pipeline in its key
    assert count(sm, LIST) == 0
    assert {c["access_key_id"] for c in sm.calls(SEARCH)} == {ACCESS_KEY}
    for arn, display, event in zip(arns, displays, events, strict=True):
        if display.startswith("fails-"):
            assert (event["status"], event["job_status"]) == ("failed", "Failed"), event
            assert event["failed_step"] == {"name": FAILING_STEP, "reason": REASON}
            assert f"step {FAILING_STEP} failed: {REASON}" in event["failure_reason"]
        else:
            assert (event["status"], event["job_status"], event["failed_step"]) == ("succeeded", "Succeeded", None)
        # described when new only: the outcome (and a failure's reason) came from the Search record
        assert count(sm, DESCRIBE, {arn}) == 1, display
        # steps read when first seen, and again at the end only for a failure (to name the failing step):
        # a success's event is not held back by a step read
        assert count(sm, STEPS, {arn}) == (2 if display.startswith("fails-") else 1), display


def test_an_execution_missing_from_the_results_is_described(
    sm: TriggerSageMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Changed after the window's start per its describe, yet not in the results: it is described."""
    _, (shown, hidden) = one_per_pipeline(sm, ["shown", "hidden"], "missing")
    hide_from_search(monkeypatch, hidden)

    async def during(tasks: list[asyncio.Task[Any]]) -> None:
        await until(lambda: count(sm, SEARCH) >= 3)
        assert count(sm, DESCRIBE, {hidden}) >= 3 and count(sm, DESCRIBE, {shown}) == 1
        await asyncio.to_thread(sm.server.force_job, "pipeline_execution", hidden, "Failed", "ClientError: hidden")
        await asyncio.wait_for(asyncio.shield(tasks[1]), 5)
        await advance(sm, 3600.0)

    events = run_all([trigger(shown), trigger(hidden)], during)
    assert (events[1]["status"], events[1]["job_status"]) == ("failed", "Failed")
    assert events[1]["failure_reason"].startswith("ClientError: hidden")
    assert events[0]["status"] == "succeeded"
    assert count(sm, DESCRIBE, {shown}) == 1


def test_an_execution_never_in_the_results_is_described_once_per_overlap(
    sm: TriggerSageMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """
    Quiet since before the window's start and never shown by Search (the index may not know it yet):
    described every overlap. One the results showed once, then quiet past the window, is not.
    """
    monkeypatch.setattr(list_window, "OVERLAP_SECONDS", 0.3)
    sm.server.add_rule(kind="pipeline_execution", name_glob="*", outcome="Succeeded", seconds=600)
    _, (hidden,) = one_per_pipeline(sm, ["hidden"], "unseen")
    sm.server.clock.advance(5.0)
    _, (quiet, shown) = one_per_pipeline(sm, ["quiet", "shown"], "seen")  # the watermark passes the hidden one
    hide_from_search(monkeypatch, hidden)
    seen: dict[str, int] = {}

    async def during(tasks: list[asyncio.Task[Any]]) -> None:
        await until(lambda: count(sm, SEARCH) >= 4)
        await advance(sm, 5.0)  # then only shown changes: quiet falls out of the window
        await asyncio.to_thread(sm.server.force_job, "pipeline_execution", shown, "Executing")
        polls, hidden_reads = count(sm, SEARCH), count(sm, DESCRIBE, {hidden})
        await asyncio.sleep(1.0)
        seen.update(searches=count(sm, SEARCH) - polls, hidden=count(sm, DESCRIBE, {hidden}) - hidden_reads)
        await advance(sm, 3600.0)

    events = run_all([trigger(hidden), trigger(quiet), trigger(shown)], during)
    assert [e["status"] for e in events] == ["succeeded"] * 3
    # about every 0.3 s, not every poll (0.05 s)
    assert 2 <= seen["hidden"] <= 8 and seen["searches"] > 2 * seen["hidden"], seen
    assert count(sm, DESCRIBE, {quiet}) == 1 and count(sm, DESCRIBE, {shown}) == 1


@pytest.mark.parametrize(
    ("code", "status"), [("AccessDeniedException", 400), ("ValidationException", 400)], ids=["denied", "rejected"]
)
def test_a_refused_search_falls_back_to_listing_per_pipeline(sm: TriggerSageMaker, code: str, status: int) -> None:
    names, arns = one_per_pipeline(sm, ["a", "b", "c"], "refused")
    sm.fail(SEARCH, code, status)

    async def during(tasks: list[asyncio.Task[Any]]) -> None:
        await until(lambda: count(sm, LIST) >= 9)
        describes = count(sm, DESCRIBE)
        lists = count(sm, LIST)
        await until(lambda: count(sm, LIST) >= lists + 6)
        assert count(sm, DESCRIBE) == describes  # listed, not described
        await asyncio.to_thread(sm.server.force_job, "pipeline_execution", arns[1], "Stopped")
        await asyncio.wait_for(asyncio.shield(tasks[1]), 5)
        await advance(sm, 3600.0)

    events = run_all([trigger(arn) for arn in arns], during)
    assert [e["status"] for e in events] == ["succeeded", "stopped", "succeeded"]
    assert count(sm, SEARCH) == 1  # refused once, not asked again
    assert {c["name"] for c in sm.calls(LIST)} == set(names)
    assert count(sm, DESCRIBE) == 3  # each execution described once, when new


def test_search_and_listing_both_denied_fall_back_to_describing(sm: TriggerSageMaker) -> None:
    _, arns = one_per_pipeline(sm, ["a", "b"], "denied")
    sm.fail(SEARCH, "AccessDeniedException")
    sm.fail(LIST, "AccessDeniedException")

    async def during(tasks: list[asyncio.Task[Any]]) -> None:
        await until(lambda: all(count(sm, DESCRIBE, {arn}) >= 4 for arn in arns))
        await advance(sm, 3600.0)

    events = run_all([trigger(arn) for arn in arns], during)
    assert [e["status"] for e in events] == ["succeeded"] * 2
    assert count(sm, SEARCH) == 1 and count(sm, LIST) == 1  # each denied once, not asked again


def test_a_throttled_search_backs_off_for_all_and_each_trigger_ends_at_its_deadline(sm: TriggerSageMaker) -> None:
    _, (early, late) = one_per_pipeline(sm, ["early", "late"], "throttled")
    sm.fail(SEARCH, "ThrottlingException")
    now, started = time.time(), time.monotonic()

    async def during(tasks: list[asyncio.Task[Any]]) -> None:
        await asyncio.wait_for(asyncio.shield(tasks[0]), 5)
        assert not tasks[1].done()

    triggers = [trigger(early, deadline=now + 0.6, retry_base_delay=0.05, retry_max_delay=0.4),
                trigger(late, deadline=now + 1.4, retry_base_delay=0.05, retry_max_delay=0.4)]
    events = run_all(triggers, during)
    assert time.monotonic() - started < 5
    assert [(e["status"], e["job_status"]) for e in events] == [("deadline", "Executing")] * 2
    assert sorted(c["name"] for c in sm.calls("StopPipelineExecution")) == sorted([early, late])
    # shared backoff (full jitter up to 0.4 s: ~8 searches in 1.4 s): fewer than polls at the 0.05 s
    # interval would send in 1.4 s (28); with the cap at 0.2 s, ~15 came close to the bound under load
    throttled = [c for c in sm.calls(SEARCH) if c["fault"]]
    assert 3 <= len(throttled) < 20
    assert count(sm, LIST) == 0 and count(sm, DESCRIBE) == 2  # a throttle is no refusal


def test_a_cancelled_trigger_leaves_and_the_others_keep_waiting(sm: TriggerSageMaker) -> None:
    _, (leaving, staying) = one_per_pipeline(sm, ["leaving", "staying"], "cancel")
    seen: dict[str, Any] = {}

    async def during(tasks: list[asyncio.Task[Any]]) -> None:
        await until(lambda: count(sm, SEARCH) >= 2)
        [poller] = POLLERS.pollers().values()
        tasks[0].cancel()
        await until(lambda: leaving not in poller.jobs)
        seen["jobs"] = sorted(poller.jobs)
        searches = count(sm, SEARCH)
        await until(lambda: count(sm, SEARCH) >= searches + 2)
        await advance(sm, 3600.0)

    events = run_all([trigger(leaving), trigger(staying)], during)
    assert events[0] == {"cancelled": True} and events[1]["status"] == "succeeded"
    assert seen["jobs"] == [staying]
    assert sm.calls("StopPipelineExecution") == []


def test_the_search_asks_for_changes_after_the_window_start_in_the_documented_time_format() -> None:
    """``Filter.Value`` of a timestamp: ``YYYY-mm-dd'T'HH:MM:SS`` (UTC), rounded down so the window only grows."""
    shape = PIPELINE_EXECUTION.listing.search  # type: ignore[union-attr]
    assert shape is not None
    after = datetime(2026, 11, 27, 15, 4, 5, 987000, tzinfo=timezone(timedelta(hours=1)))
    request = shape.request(after)
    assert request == {
        "Resource": "PipelineExecution",
        "SearchExpression": {"Filters": [
            {"Name": "LastModifiedTime", "Operator": "GreaterThan", "Value": "2026-11-27T14:04:05"}]},
        "SortBy": "CreationTime",
        "SortOrder": "Ascending",
        "MaxResults": 100,
    }


def test_coalescing_off_describes_each_execution(sm: TriggerSageMaker, describe_each_job: None) -> None:
    _, arns = one_per_pipeline(sm, ["a", "b", "c"], "off")

    async def during(tasks: list[asyncio.Task[Any]]) -> None:
        await until(lambda: all(count(sm, DESCRIBE, {arn}) >= 3 for arn in arns))
        assert not POLLERS.pollers()
        await advance(sm, 3600.0)

    events = run_all([trigger(arn) for arn in arns], during)
    assert [e["status"] for e in events] == ["succeeded"] * 3
    assert count(sm, SEARCH) == 0 and count(sm, LIST) == 0

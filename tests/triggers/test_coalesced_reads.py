"""Coalesced status reads: many triggers, one poller, list calls instead of one describe per trigger per poll.

Against the LocalSageMaker (frozen clock, forced job states); what is asserted about requests is the
server's request log (operation, signing key, region).
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from airflow_provider_smtrain.triggers import TrainingJobTrigger, TuningJobTrigger
from airflow_provider_smtrain.triggers import list_window as list_window_module
from airflow_provider_smtrain.triggers import pollers as pollers_module
from airflow_provider_smtrain.triggers.clients import PooledClient
from airflow_provider_smtrain.triggers.coalesced import POLLERS
from tests.triggers.conftest import ACCESS_KEY, CONN_ID, NO_BOTO_RETRIES, REGION, TriggerSageMaker

FAST: dict[str, Any] = {
    "aws_conn_id": CONN_ID,
    "botocore_config": NO_BOTO_RETRIES,
    "poll_interval": 0.05,
    "retry_base_delay": 0.005,
    "retry_max_delay": 0.02,
}
LIST = "ListTrainingJobs"
DESCRIBE = "DescribeTrainingJob"


def training(job_name: str, **kwargs: Any) -> TrainingJobTrigger:
    return TrainingJobTrigger(job_name=job_name, **{**FAST, **kwargs})


async def first_event(trigger: Any) -> dict[str, Any]:
    events = [event.payload async for event in trigger.run()]
    assert len(events) == 1, events
    json.dumps(events[0])
    return dict(events[0])


def run_all(
    triggers: list[Any],
    during: Callable[[list[asyncio.Task[Any]]], Awaitable[Any]] | None = None,
    timeout: float = 15,
) -> list[dict[str, Any]]:
    """Run triggers on one loop (one triggerer); ``during`` acts meanwhile; return their events in order."""

    async def main() -> list[dict[str, Any]]:
        tasks = [asyncio.ensure_future(first_event(t)) for t in triggers]
        if during is not None:
            await during(tasks)
        results = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), timeout)
        assert not POLLERS.pollers(), "pollers left behind"
        return [r if isinstance(r, dict) else {"cancelled": True} for r in results]

    return asyncio.run(main())


async def until(condition: Callable[[], bool], timeout: float = 10) -> None:
    """Wait (off the loop's thread for the server calls) until ``condition()`` holds."""
    deadline = time.monotonic() + timeout
    while not await asyncio.to_thread(condition):
        assert time.monotonic() < deadline, "condition never held"
        await asyncio.sleep(0.02)


def count(sm: TriggerSageMaker, operation: str, names: set[str] | None = None) -> int:
    return len([c for c in sm.calls(operation) if names is None or c.get("name") in names])


def expected(
    name: str, status: str, job_status: str, secondary: str | None, reason: str | None
) -> dict[str, Any]:
    message = f"Training job {name!r} ended with status {job_status}"
    return {
        "status": status,
        "job_name": name,
        "kind": "training",
        "job_status": job_status,
        "secondary_status": secondary,
        "failure_reason": reason,
        "message": message + (f": {reason}" if reason else "."),
    }


# ---------------------------------------------------------------------------------- many triggers


def test_many_triggers_share_list_calls_and_each_gets_its_own_outcome(
    sm: TriggerSageMaker, job_name: str
) -> None:
    names = [f"{job_name}-{i}" for i in range(30)]
    for name in names:
        sm.create_training_job(name, "InProgress", "Training")
    steady: dict[str, int] = {}

    async def during(tasks: list[asyncio.Task[Any]]) -> None:
        await until(lambda: count(sm, DESCRIBE, set(names)) >= len(names))
        before = (count(sm, LIST), count(sm, DESCRIBE))
        await until(lambda: count(sm, LIST) >= before[0] + 10)
        steady["lists"] = count(sm, LIST) - before[0]
        steady["describes"] = count(sm, DESCRIBE) - before[1]
        for i, name in enumerate(names):
            if i % 3 == 0:
                await asyncio.to_thread(sm.set_training, name, "Completed", "Completed")
            elif i % 3 == 1:
                await asyncio.to_thread(
                    sm.set_training, name, "Failed", "Failed", f"AlgorithmError: bad row {i}"
                )
            else:
                await asyncio.to_thread(sm.set_training, name, "Stopped", "Stopped")

    events = run_all([training(name) for name in names], during)

    for i, (name, event) in enumerate(zip(names, events, strict=True)):
        if i % 3 == 0:
            assert event == expected(name, "succeeded", "Completed", "Completed", None)
        elif i % 3 == 1:
            assert event == expected(name, "failed", "Failed", "Failed", f"AlgorithmError: bad row {i}")
        else:
            assert event == expected(name, "stopped", "Stopped", "Stopped", None)
    # while nothing changed: list calls only, no describe at all
    assert steady["describes"] == 0 and steady["lists"] >= 10
    # each job: described when new; once more only when the listing showed it failed (for the reason):
    # a Completed or Stopped job's event comes from its list summary
    for i, name in enumerate(names):
        assert count(sm, DESCRIBE, {name}) == (2 if i % 3 == 1 else 1), name
    assert {c["access_key_id"] for c in sm.calls(LIST)} == {ACCESS_KEY}


def test_a_quiet_poll_is_one_request_whatever_the_number_of_triggers(
    sm: TriggerSageMaker, job_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """N=200 waiting triggers: once the overlap window has passed, a poll is one ListTrainingJobs call."""
    monkeypatch.setattr(list_window_module, "OVERLAP_SECONDS", 0.2)
    names = [f"{job_name}-{i}" for i in range(200)]
    for name in names:
        sm.create_training_job(name, "InProgress", "Training")
    measured: dict[str, Any] = {}

    async def during(tasks: list[asyncio.Task[Any]]) -> None:
        await until(lambda: count(sm, DESCRIBE, set(names)) >= len(names))
        # the frozen clock stamped all 200 jobs with one LastModifiedTime; on SageMaker time moves on
        await asyncio.to_thread(sm.server.clock.advance, 2.0)
        await asyncio.to_thread(sm.create_training_job, f"{job_name}-bystander")
        await asyncio.sleep(0.5)  # past the overlap window
        [poller] = POLLERS.pollers().values()
        polls, lists, describes = poller.polls, count(sm, LIST), count(sm, DESCRIBE)
        await asyncio.sleep(1.0)
        measured["polls"] = poller.polls - polls
        measured["lists"] = count(sm, LIST) - lists
        measured["describes"] = count(sm, DESCRIBE) - describes
        for name in names:
            await asyncio.to_thread(sm.set_training, name, "Completed", "Completed")

    events = run_all([training(name) for name in names], during, timeout=30)
    assert [e["status"] for e in events] == ["succeeded"] * len(names)
    assert measured["polls"] >= 5
    assert measured["describes"] == 0, measured
    assert abs(measured["lists"] - measured["polls"]) <= 1, measured  # one page per poll


def test_tuning_triggers_read_through_list_hyper_parameter_tuning_jobs(
    sm: TriggerSageMaker, job_name: str
) -> None:
    names = [f"t{i}-{job_name[-25:]}" for i in range(3)]
    for name in names:
        sm.create_tuning_job(name, "InProgress")

    async def during(tasks: list[asyncio.Task[Any]]) -> None:
        await until(lambda: count(sm, "ListHyperParameterTuningJobs") >= 3)
        await asyncio.to_thread(sm.set_tuning, names[0], "Completed")
        await asyncio.to_thread(sm.set_tuning, names[1], "Failed", "no child succeeded")
        await asyncio.to_thread(sm.set_tuning, names[2], "Stopped")

    events = run_all([TuningJobTrigger(job_name=name, **FAST) for name in names], during)
    assert [(e["status"], e["job_status"], e["failure_reason"]) for e in events] == [
        ("succeeded", "Completed", None),
        ("failed", "Failed", "no child succeeded"),
        ("stopped", "Stopped", None),
    ]
    # described when new; again only the failed one (for its reason)
    assert [count(sm, "DescribeHyperParameterTuningJob", {name}) for name in names] == [1, 2, 1]


# ---------------------------------------------------------------------------------- intervals, cancel


def test_the_poller_serves_the_shortest_interval_and_slows_down_when_it_leaves(
    sm: TriggerSageMaker, job_name: str
) -> None:
    fast, slow = f"{job_name}-fast", f"{job_name}-slow"
    sm.create_training_job(fast, "InProgress", "Training")
    sm.create_training_job(slow, "InProgress", "Training")
    seen: dict[str, int] = {}

    async def during(tasks: list[asyncio.Task[Any]]) -> None:
        await until(lambda: count(sm, LIST) >= 3)
        await asyncio.to_thread(sm.set_training, slow, "Completed", "Completed")
        await asyncio.wait_for(
            asyncio.shield(tasks[1]), 2
        )  # its own interval is 60 s: the fast one's serves it
        await asyncio.to_thread(sm.set_training, fast, "Completed", "Completed")
        await asyncio.wait_for(asyncio.shield(tasks[0]), 2)

    events = run_all([training(fast), training(slow, poll_interval=60)], during)
    assert [e["status"] for e in events] == ["succeeded", "succeeded"]

    # alone, the slow trigger's poller polls every 60 s: nothing more within a second
    sm.create_training_job(f"{slow}-2", "InProgress", "Training")

    async def alone(tasks: list[asyncio.Task[Any]]) -> None:
        await until(lambda: count(sm, DESCRIBE, {f"{slow}-2"}) >= 1)
        seen["lists"] = count(sm, LIST)
        await asyncio.sleep(1.0)
        seen["after"] = count(sm, LIST)
        tasks[0].cancel()

    run_all([training(f"{slow}-2", poll_interval=60)], alone)
    assert seen["after"] == seen["lists"]


def test_a_cancelled_trigger_leaves_and_the_others_keep_waiting(sm: TriggerSageMaker, job_name: str) -> None:
    names = [f"{job_name}-{i}" for i in range(3)]
    for name in names:
        sm.create_training_job(name, "InProgress", "Training")
    state: dict[str, Any] = {}

    async def during(tasks: list[asyncio.Task[Any]]) -> None:
        await until(lambda: count(sm, LIST) >= 2)
        tasks[1].cancel()  # a triggerer restart or a cleared task: no on_kill here
        await asyncio.sleep(0.1)
        [poller] = POLLERS.pollers().values()
        state["watched"] = set(poller.jobs)
        for name in (names[0], names[2]):
            await asyncio.to_thread(sm.set_training, name, "Completed", "Completed")

    events = run_all([training(name) for name in names], during)
    assert state["watched"] == {names[0], names[2]}
    assert [e.get("status", "cancelled") for e in events] == ["succeeded", "cancelled", "succeeded"]
    assert sm.calls("StopTrainingJob") == []
    assert sm.training_status(names[1]) == "InProgress"


#: A context variable the first trigger sets (log binding, a test harness's hooks, ...).
FIRST_TRIGGERS = contextvars.ContextVar[str | None]("first_triggers", default=None)


def test_the_poller_does_not_carry_the_context_of_the_trigger_that_started_it(
    sm: TriggerSageMaker, job_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = [f"{job_name}-{i}" for i in range(2)]
    for name in names:
        sm.create_training_job(name, "InProgress", "Training")
    seen: list[str | None] = []
    poll = pollers_module.StatusPoller._poll

    async def spied(self: Any, client: Any) -> None:
        seen.append(FIRST_TRIGGERS.get())
        await poll(self, client)

    monkeypatch.setattr(pollers_module.StatusPoller, "_poll", spied)

    async def marked(trigger: Any, mark: str) -> dict[str, Any]:
        FIRST_TRIGGERS.set(mark)
        return await first_event(trigger)

    async def main() -> list[dict[str, Any]]:
        first = asyncio.ensure_future(marked(training(names[0]), "first"))
        await until(lambda: count(sm, LIST) >= 1)
        second = asyncio.ensure_future(marked(training(names[1]), "second"))
        first.cancel()  # the trigger that started the poller leaves; the poller serves the other
        await until(lambda: count(sm, DESCRIBE, {names[1]}) >= 1)
        await asyncio.to_thread(sm.set_training, names[1], "Completed", "Completed")
        return [await asyncio.wait_for(second, 15)]

    [event] = asyncio.run(main())
    assert event == expected(names[1], "succeeded", "Completed", "Completed", None)
    assert len(seen) >= 3 and set(seen) == {None}, seen


# ---------------------------------------------------------------------------------- errors


def test_a_throttled_list_is_retried_and_no_trigger_gets_a_wrong_event(
    sm: TriggerSageMaker, job_name: str
) -> None:
    names = [f"{job_name}-{i}" for i in range(5)]
    for name in names:
        sm.create_training_job(name, "InProgress", "Training")

    async def during(tasks: list[asyncio.Task[Any]]) -> None:
        await until(lambda: count(sm, LIST) >= 1)
        await asyncio.to_thread(sm.fail, LIST, "ThrottlingException", 400, 1.0, 8)
        await until(lambda: len([c for c in sm.calls(LIST) if c["fault"]]) >= 8)
        assert not any(task.done() for task in tasks)
        await asyncio.to_thread(sm.fail, LIST, "ThrottlingException", rate=0.4)
        for name in names:
            await asyncio.to_thread(sm.set_training, name, "Completed", "Completed")

    events = run_all([training(name) for name in names], during)
    assert [e["status"] for e in events] == ["succeeded"] * len(names)
    assert len([c for c in sm.calls(LIST) if c["fault"]]) >= 9


def test_persistent_list_throttling_ends_each_trigger_at_its_own_deadline(
    sm: TriggerSageMaker, job_name: str
) -> None:
    early, late = f"{job_name}-early", f"{job_name}-late"
    sm.create_training_job(early, "InProgress", "Training")
    sm.create_training_job(late, "InProgress", "Training")
    sm.fail(LIST, "ThrottlingException")
    now = time.time()
    started = time.monotonic()

    async def during(tasks: list[asyncio.Task[Any]]) -> None:
        await asyncio.wait_for(asyncio.shield(tasks[0]), 5)
        assert not tasks[1].done()

    events = run_all([training(early, deadline=now + 0.5), training(late, deadline=now + 1.2)], during)
    assert time.monotonic() - started < 4
    assert [(e["status"], e["job_status"]) for e in events] == [("deadline", "InProgress")] * 2
    assert all("A stop was requested" in e["message"] for e in events)
    assert sorted(c["name"] for c in sm.calls("StopTrainingJob")) == sorted([early, late])
    assert len(sm.calls(LIST)) > 4


def test_a_non_retriable_list_error_reaches_every_waiting_trigger(
    sm: TriggerSageMaker, job_name: str
) -> None:
    names = [f"{job_name}-{i}" for i in range(3)]
    for name in names:
        sm.create_training_job(name, "InProgress", "Training")

    async def during(tasks: list[asyncio.Task[Any]]) -> None:
        await until(lambda: count(sm, LIST) >= 1)
        await asyncio.to_thread(sm.fail, LIST, "ValidationException", 400, 1.0, 1)

    events = run_all([training(name) for name in names], during)
    for name, event in zip(names, events, strict=True):
        assert event["status"] == "error" and event["job_name"] == name
        assert event["message"].startswith(
            f"ListTrainingJobs for training job {name!r} failed: ValidationException"
        )
        assert event["job_status"] is None


def test_a_list_denied_by_iam_falls_back_to_describing_each_job(sm: TriggerSageMaker, job_name: str) -> None:
    names = [f"{job_name}-{i}" for i in range(2)]
    for name in names:
        sm.create_training_job(name, "InProgress", "Training")
    sm.fail(LIST, "AccessDeniedException")

    async def during(tasks: list[asyncio.Task[Any]]) -> None:
        await until(lambda: count(sm, DESCRIBE, set(names)) >= 6)
        for name in names:
            await asyncio.to_thread(sm.set_training, name, "Completed", "Completed")

    events = run_all([training(name) for name in names], during)
    assert [e["status"] for e in events] == ["succeeded"] * 2
    assert count(sm, LIST) == 1  # denied once, not asked again


def test_a_missing_job_is_an_error_for_its_trigger_only(sm: TriggerSageMaker, job_name: str) -> None:
    there, missing = f"{job_name}-there", f"{job_name}-missing"
    sm.create_training_job(there, "Completed", "Completed")
    events = run_all([training(missing), training(there)])
    assert events[0]["status"] == "error"
    assert events[0]["message"].startswith(
        f"DescribeTrainingJob for training job {missing!r} failed: ValidationException"
    )
    assert events[1]["status"] == "succeeded"


def test_a_job_the_listing_leaves_out_is_described(
    sm: TriggerSageMaker, job_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The listing lags (eventual consistency) and omits a job that changed inside its window: describe it."""
    listed, hidden = f"{job_name}-listed", f"{job_name}-hidden"
    sm.create_training_job(listed, "InProgress", "Training")
    sm.create_training_job(hidden, "InProgress", "Training")
    real_call = PooledClient._call

    async def lagging_listing(self: PooledClient, method: str, *args: Any, **kwargs: Any) -> Any:
        response = await real_call(self, method, *args, **kwargs)
        if method == "list_training_jobs":
            response = {
                **response,
                "TrainingJobSummaries": [
                    s for s in response["TrainingJobSummaries"] if s["TrainingJobName"] != hidden
                ],
            }
        return response

    monkeypatch.setattr(PooledClient, "_call", lagging_listing)

    async def during(tasks: list[asyncio.Task[Any]]) -> None:
        await until(lambda: count(sm, LIST) >= 2)
        await asyncio.to_thread(sm.set_training, hidden, "Failed", "Failed", "ClientError: hidden")
        await asyncio.wait_for(asyncio.shield(tasks[1]), 3)
        await asyncio.to_thread(sm.set_training, listed, "Completed", "Completed")

    events = run_all([training(listed), training(hidden)], during)
    assert events[1] == expected(hidden, "failed", "Failed", "Failed", "ClientError: hidden")
    assert events[0]["status"] == "succeeded"
    # the listed job's completion comes from its summary: described once, when new
    assert count(sm, DESCRIBE, {hidden}) > 2 and count(sm, DESCRIBE, {listed}) == 1


# ---------------------------------------------------------------------------------- keys, clocks


def test_connections_and_regions_get_their_own_pollers_and_are_never_mixed(
    sm: TriggerSageMaker, job_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    other_key = "AKIDOTHERCONNECTION"
    monkeypatch.setenv("AIRFLOW_CONN_SMTRAIN_OTHER", sm.server.airflow_connection_json(other_key, "secret"))
    same = f"{job_name}-same"  # one name in two regions, with different outcomes
    sm.create_training_job(same, "InProgress", "Training")
    sm.create_training_job(same, "InProgress", "Training", region="eu-west-1")
    other = f"{job_name}-other"
    sm.create_training_job(other, "InProgress", "Training")
    keys: dict[str, Any] = {}

    async def during(tasks: list[asyncio.Task[Any]]) -> None:
        await until(lambda: count(sm, LIST) >= 6)
        keys["pollers"] = sorted((k[1][0], str(k[1][1])) for k in POLLERS.pollers())
        await asyncio.to_thread(sm.set_training, same, "Failed", "Failed", "east failed", REGION)
        await asyncio.to_thread(sm.set_training, same, "Completed", "Completed", None, "eu-west-1")
        await asyncio.to_thread(sm.set_training, other, "Stopped", "Stopped")

    events = run_all(
        [
            training(same),
            training(same, region_name="eu-west-1"),
            training(other, aws_conn_id="smtrain_other"),
        ],
        during,
    )
    assert keys["pollers"] == sorted([(CONN_ID, "None"), (CONN_ID, "eu-west-1"), ("smtrain_other", "None")])
    assert [(e["status"], e["failure_reason"]) for e in events] == [
        ("failed", "east failed"),
        ("succeeded", None),
        ("stopped", None),
    ]
    lists = sm.calls(LIST)
    assert {(c["access_key_id"], c["region"]) for c in lists} == {
        (ACCESS_KEY, REGION),
        (ACCESS_KEY, "eu-west-1"),
        (other_key, REGION),
    }


def test_the_window_follows_the_server_clock_not_the_triggerer_clock(
    sm: TriggerSageMaker, job_name: str
) -> None:
    """The server's clock is a day behind the triggerer's: a window computed from local time would list nothing."""
    name = f"{job_name}-skew"
    sm.create_training_job(name, "InProgress", "Training")
    skewed = time.time() + 86_400

    async def during(tasks: list[asyncio.Task[Any]]) -> None:
        await until(lambda: count(sm, LIST) >= 2)
        await asyncio.to_thread(sm.set_training, name, "Completed", "Completed")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pollers_module, "clock", lambda: _Skewed(skewed))
        events = run_all([training(name)], during)
    assert events[0]["status"] == "succeeded"
    # the completion was seen in the listing (no describe after the one when new)
    assert count(sm, DESCRIBE, {name}) == 1


class _Skewed:
    """A process clock a day ahead of the server's."""

    def __init__(self, now: float) -> None:
        self.offset = now - time.time()

    def now(self) -> float:
        return time.time() + self.offset

    async def async_sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(seconds, 0.0))


# ---------------------------------------------------------------------------------- deadline, kill


def test_deadline_and_on_kill_act_on_their_own_trigger_only(sm: TriggerSageMaker, job_name: str) -> None:
    timed, killed, kept = f"{job_name}-timed", f"{job_name}-killed", f"{job_name}-kept"
    for name in (timed, killed, kept):
        sm.create_training_job(name, "InProgress", "Training")
    triggers = [training(timed, deadline=time.time() + 0.4), training(killed), training(kept)]

    async def during(tasks: list[asyncio.Task[Any]]) -> None:
        await asyncio.wait_for(asyncio.shield(tasks[0]), 3)
        assert [c["name"] for c in await asyncio.to_thread(sm.calls, "StopTrainingJob")] == [timed]
        tasks[1].cancel()  # the user marks the task failed: cancel, then on_kill
        await asyncio.gather(tasks[1], return_exceptions=True)
        await triggers[1].on_kill()
        assert not tasks[2].done()
        await asyncio.to_thread(sm.set_training, kept, "Completed", "Completed")

    events = run_all(triggers, during)
    assert events[0]["status"] == "deadline" and "A stop was requested" in events[0]["message"]
    assert events[1] == {"cancelled": True}
    assert events[2]["status"] == "succeeded"
    assert sorted(c["name"] for c in sm.calls("StopTrainingJob")) == sorted([timed, killed])
    sm.finish_stopping()
    assert (sm.training_status(timed), sm.training_status(killed), sm.training_status(kept)) == (
        "Stopped",
        "Stopped",
        "Completed",
    )


def test_a_deadline_already_past_still_reports_a_job_that_ended(sm: TriggerSageMaker, job_name: str) -> None:
    sm.create_training_job(job_name, "Completed", "Completed")
    [event] = run_all([training(job_name, deadline=time.time() - 60)])
    assert event["status"] == "succeeded"
    assert sm.calls("StopTrainingJob") == []


def test_coalescing_can_be_turned_off(sm: TriggerSageMaker, job_name: str, describe_each_job: None) -> None:
    names = [f"{job_name}-{i}" for i in range(3)]
    for name in names:
        sm.create_training_job(name, "InProgress", "Training")

    async def during(tasks: list[asyncio.Task[Any]]) -> None:
        await until(lambda: count(sm, DESCRIBE, set(names)) >= 9)
        assert not POLLERS.pollers()
        for name in names:
            await asyncio.to_thread(sm.set_training, name, "Completed", "Completed")

    events = run_all([training(name) for name in names], during)
    assert [e["status"] for e in events] == ["succeeded"] * 3
    assert count(sm, LIST) == 0


def test_a_kind_without_a_list_call_keeps_describing_each_job(sm: TriggerSageMaker, job_name: str) -> None:
    """Kinds whose JobKind has no ListShape (hub content, ...) wait as before, coalescing on or not."""
    names = [f"{job_name}-{i}" for i in range(2)]
    triggers = []
    for name in names:
        sm.create_training_job(name, "InProgress", "Training")
        trigger = training(name)
        trigger.job_kind = dataclasses.replace(trigger.job_kind, listing=None)
        triggers.append(trigger)

    async def during(tasks: list[asyncio.Task[Any]]) -> None:
        await until(lambda: count(sm, DESCRIBE, set(names)) >= 6)
        assert not POLLERS.pollers()
        for name in names:
            await asyncio.to_thread(sm.set_training, name, "Completed", "Completed")

    events = run_all(triggers, during)
    assert [e["status"] for e in events] == ["succeeded"] * 2
    assert count(sm, LIST) == 0

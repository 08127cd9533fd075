"""Many jobs ending at once: outcomes from the List summary, bounded describes for failures, gc freeze once.

Against the LocalSageMaker; what is asserted about requests is the server's request log.
"""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import pytest

from airflow_provider_smtrain.triggers import clients as clients_module
from airflow_provider_smtrain.triggers import coalesced as coalesced_module
from airflow_provider_smtrain.triggers import gcfreeze
from airflow_provider_smtrain.triggers import pollers as pollers_module
from airflow_provider_smtrain.triggers.clients import PooledClient
from tests.triggers.conftest import TriggerSageMaker
from tests.triggers.test_coalesced_reads import DESCRIBE, LIST, count, expected, run_all, training, until


def _start_and_end(sm: TriggerSageMaker, names: list[str], end: Any, marks: dict[str, int]) -> Any:
    """A ``during`` for :func:`run_all`: once every job was read, end them all; note the describes before."""

    async def during(tasks: list[asyncio.Task[Any]]) -> None:
        await until(lambda: count(sm, DESCRIBE, set(names)) >= len(names))
        await until(lambda: count(sm, LIST) >= 2)
        marks["describes"] = count(sm, DESCRIBE, set(names))
        for name in names:
            await asyncio.to_thread(end, name)

    return during


def test_jobs_completing_or_stopping_together_need_no_describe(sm: TriggerSageMaker, job_name: str) -> None:
    names = [f"{job_name}-{i}" for i in range(24)]
    for name in names:
        sm.create_training_job(name, "InProgress", "Training")
    marks: dict[str, int] = {}

    def end(name: str) -> None:
        index = names.index(name)
        if index % 2:
            sm.set_training(name, "Stopped", "MaxRuntimeExceeded")
        else:
            sm.set_training(name, "Completed", "Completed")

    events = run_all([training(name) for name in names], _start_and_end(sm, names, end, marks))
    for i, (name, event) in enumerate(zip(names, events, strict=True)):
        if i % 2:
            # the secondary status comes from the summary too (not a default)
            assert event == expected(name, "stopped", "Stopped", "MaxRuntimeExceeded", None)
        else:
            assert event == expected(name, "succeeded", "Completed", "Completed", None)
    assert marks["describes"] == len(names)
    assert count(sm, DESCRIBE, set(names)) == len(names), "no describe after the jobs ended"


def test_failed_jobs_are_described_once_each_a_bounded_number_at_a_time(
    sm: TriggerSageMaker, job_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = [f"{job_name}-{i}" for i in range(20)]
    for name in names:
        sm.create_training_job(name, "InProgress", "Training")
    marks: dict[str, int] = {}
    monkeypatch.setattr(pollers_module, "ENDED_DESCRIBE_CONCURRENCY", 3)
    flight = {"now": 0, "max": 0, "ended": False}
    real_call = PooledClient._call

    async def counting(self: PooledClient, method: str, *args: Any, **kwargs: Any) -> Any:
        counted = method == "describe_training_job" and "describes" in marks
        if counted:
            flight["now"] += 1
            flight["max"] = max(flight["max"], flight["now"])
        try:
            return await real_call(self, method, *args, **kwargs)
        finally:
            if counted:
                flight["now"] -= 1

    monkeypatch.setattr(PooledClient, "_call", counting)

    def end(name: str) -> None:
        sm.set_training(name, "Failed", "Failed", f"AlgorithmError: {name}")

    events = run_all([training(name) for name in names], _start_and_end(sm, names, end, marks))
    for name, event in zip(names, events, strict=True):
        assert event == expected(name, "failed", "Failed", "Failed", f"AlgorithmError: {name}")
    assert count(sm, DESCRIBE, set(names)) == marks["describes"] + len(names), "one describe per failed job"
    assert flight["max"] == 3, flight


# ---------------------------------------------------------------------------------- gc freeze


@pytest.fixture
def freezes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Calls of ``gc.freeze`` (not frozen for real), as if no poller nor client had started in this process yet."""
    calls: list[int] = []
    monkeypatch.setattr(gcfreeze, "_state", {"frozen": set()})
    monkeypatch.setattr(gc, "freeze", lambda: calls.append(1))
    return calls


def test_the_gc_is_frozen_at_the_first_poller_and_after_the_first_client_once_per_process(
    sm: TriggerSageMaker, job_name: str, freezes: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(gcfreeze.SETTING_ENV, raising=False)
    order: list[str] = []
    real_freeze_once = gcfreeze.freeze_once

    def noting(stage: str = "imports") -> bool:
        froze = real_freeze_once(stage)
        if froze:
            order.append(stage)
        return froze

    monkeypatch.setattr(gcfreeze, "freeze_once", noting)
    monkeypatch.setattr(coalesced_module, "freeze_once", noting)
    monkeypatch.setattr(clients_module, "freeze_once", noting)
    for round_ in range(2):  # two triggerer loops in one process, one poller and one client each
        name = f"{job_name}-{round_}"
        sm.create_training_job(name, "Completed", "Completed")
        assert run_all([training(name), training(name)])[0]["status"] == "succeeded"
    # the imports when the first poller starts; then the service model the first client loaded
    assert order == ["imports", "client"]
    assert freezes == [1, 1]


def test_freezing_the_gc_can_be_turned_off(
    sm: TriggerSageMaker, job_name: str, freezes: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(gcfreeze.SETTING_ENV, "False")
    sm.create_training_job(job_name, "Completed", "Completed")
    assert run_all([training(job_name)])[0]["status"] == "succeeded"
    assert freezes == []
    assert gcfreeze.freeze_once() is False

"""Defects the fault campaign found in the job lifecycle, each pinned down by the scenario that shows it."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from tests.campaign.campaign import CAMPAIGN_ENV, connection_env, run_scenario
from tests.campaign.plan import Action, Scenario


@pytest.fixture
def quiet_logs() -> Iterator[None]:
    logging.disable(logging.ERROR)
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)


@pytest.mark.parametrize("kind", ["training", "tuning"])
def test_an_error_event_does_not_restart_max_wait(
    local_sagemaker: Any, monkeypatch: pytest.MonkeyPatch, quiet_logs: None, kind: str
) -> None:
    # max_wait 10 min, job 1 h; at +500 s the triggerer sends an error event. The worker used to wait a
    # whole new max_wait (until ~+1100 s) before stopping the job; the deadline now survives the resume.
    for name, value in {**connection_env(local_sagemaker), **CAMPAIGN_ENV}.items():
        monkeypatch.setenv(name, value)
    scenario = Scenario(
        seed=0,
        index=9001,
        kind=kind,
        mode="deferrable",
        retries=0,
        job_seconds=3600,
        poll_interval=30,
        stop_seconds=30,
        max_wait=600,
        actions=[Action(500, "error_event")],
    )
    outcome = run_scenario(local_sagemaker, scenario)
    assert outcome.verdict.clean and outcome.verdict.expected_failures == 1, outcome.verdict
    assert outcome.served["error_event"] == 1
    assert outcome.virtual_seconds < 700, "the job was stopped at the deadline the task deferred with"

"""End to end, the campaign catches a broken lifecycle.

Each test breaks one guarantee on purpose (monkeypatched for the test only) and runs one scenario that
exercises it. The scenarios are among those of ``test_fault_campaign.py`` (same seed, index below its
count), which pass on the real lifecycle.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import airflow_provider_smtrain.operators.attach as attach
import airflow_provider_smtrain.operators.evaluation_base as evaluation_base
from airflow_provider_smtrain.operators.base import SageMakerJobOperator
from airflow_provider_smtrain.triggers.base import SageMakerJobTrigger
from airflow_provider_smtrain.triggers.pollers import StatusPoller
from tests.campaign.campaign import CAMPAIGN_ENV, connection_env, run_scenario
from tests.campaign.plan import draw

SEED = 5


@pytest.fixture
def quiet_logs() -> Iterator[None]:
    logging.disable(logging.ERROR)
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)


def cleanup_stops_the_job(monkeypatch: pytest.MonkeyPatch) -> None:
    async def cleanup(self: SageMakerJobTrigger) -> None:
        await self.on_kill()

    monkeypatch.setattr(SageMakerJobTrigger, "cleanup", cleanup)


def on_kill_does_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(SageMakerJobOperator, "on_kill", lambda self: None)


def next_generation_while_stopping(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(attach, "wait_out_stopping", lambda operator, name, describe: describe)


def one_token_for_everyone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(attach, "new_token", lambda: "0" * 32)


def poller_oversleeps(monkeypatch: pytest.MonkeyPatch) -> None:
    sleep = StatusPoller._sleep

    async def oversleep(self: StatusPoller, seconds: float, *, wakeable: bool) -> None:
        await sleep(self, seconds * 3 if wakeable else seconds, wakeable=wakeable)

    monkeypatch.setattr(StatusPoller, "_sleep", oversleep)


def starts_like_the_sdk(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDK's own start: a fresh ``ClientRequestToken`` each time, no look for the generation's execution."""
    import uuid

    monkeypatch.setattr(evaluation_base, "request_token", lambda key, generation: uuid.uuid4().hex)
    monkeypatch.setattr(evaluation_base.EvaluatorOperator, "execution_in", lambda self, pipeline_name: None)


@pytest.mark.parametrize(
    ("breakage", "kind", "index", "finding"),
    [
        (cleanup_stops_the_job, "training", 10, "wrongful_stops"),  # triggerer restarts before the timeout
        (on_kill_does_nothing, "training", 3, "orphans"),  # blocking, marked failed while running
        (next_generation_while_stopping, "tuning", 7, "duplicates"),  # blocking, cleared while running
        (one_token_for_everyone, "training", 4, "wrong_results"),  # two deployments at once
        (poller_oversleeps, "training", 10, "late_polls"),  # deferrable: the shared poller polls every 3rd time
    ],
    ids=lambda value: getattr(value, "__name__", None),
)
def test_the_campaign_catches_a_broken_lifecycle(
    local_sagemaker: Any,
    monkeypatch: pytest.MonkeyPatch,
    quiet_logs: None,
    breakage: Callable[[pytest.MonkeyPatch], None],
    kind: str,
    index: int,
    finding: str,
) -> None:
    for name, value in {**connection_env(local_sagemaker), **CAMPAIGN_ENV}.items():
        monkeypatch.setenv(name, value)
    breakage(monkeypatch)
    verdict = run_scenario(local_sagemaker, draw(SEED, index, kind)).verdict
    assert getattr(verdict, finding), verdict


#: The seed of ``test_short_evaluation_campaign_finds_nothing``; its scenarios 0-4 pass on the real lifecycle.
EVALUATION_SEED = 192


@pytest.mark.parametrize(
    ("breakage", "index", "finding"),
    [
        (starts_like_the_sdk, 3, "duplicates"),  # the worker dies once the start was carried out: started again
        (on_kill_does_nothing, 3, "orphans"),  # blocking, marked failed while its execution runs
        (cleanup_stops_the_job, 0, "wrongful_stops"),  # deferrable: the triggerer restarts mid-evaluation
    ],
    ids=lambda value: getattr(value, "__name__", None),
)
def test_the_evaluation_campaign_catches_a_broken_lifecycle(
    local_sagemaker: Any,
    monkeypatch: pytest.MonkeyPatch,
    quiet_logs: None,
    breakage: Callable[[pytest.MonkeyPatch], None],
    index: int,
    finding: str,
) -> None:
    for name, value in {**connection_env(local_sagemaker), **CAMPAIGN_ENV}.items():
        monkeypatch.setenv(name, value)
    breakage(monkeypatch)
    verdict = run_scenario(local_sagemaker, draw(EVALUATION_SEED, index, "evaluation")).verdict
    assert getattr(verdict, finding), verdict

"""A short, fixed-seed fault campaign: every invariant holds, and the run served the faults it claims.

The long run is ``python -m tests.campaign --scenarios 200 --seed 1`` (figures in
``benchmarks/results/fault_campaign.md``); ``test_checker.py`` shows the checker does catch violations.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.campaign.campaign import run_campaign
from tests.campaign.report import FINDINGS, figures

SEED = 5
SCENARIOS_PER_KIND = 12  # ~60 s on 2 cores; the SDK's submission costs ~1 s of CPU each


@pytest.fixture
def quiet_logs() -> Iterator[None]:
    logging.disable(logging.ERROR)  # thousands of lifecycle log lines otherwise
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)


def short_run(sm: Any, kind: str, *, scenarios: int, seed: int) -> tuple[dict[str, Any], dict[str, Any], list[Any]]:
    """
    Run ``scenarios`` of one kind; check what every short run must show (each scenario ran, none stuck,
    no finding). Returns the kind's row, the figures and the outcomes.

    :param sm: the LocalSageMaker.
    :param kind: the campaign kind.
    :param scenarios: how many scenarios.
    :param seed: the campaign seed.
    """
    started = time.monotonic()
    outcomes = run_campaign(sm, scenarios=scenarios, seed=seed, kinds=(kind,))
    fig = figures(outcomes, seed=seed, real_seconds=time.monotonic() - started)
    row = fig["kinds"][kind]
    assert row["scenarios"] == scenarios and row["stuck"] == 0
    assert fig["totals"] == dict.fromkeys(FINDINGS, 0), fig["failing_scenarios"]
    return row, fig, outcomes


def assert_served(fig: dict[str, Any], families: tuple[str, ...]) -> None:
    """
    The run served a fault of each family (a substring of the served faults' labels).

    :param fig: the run's figures.
    :param families: the fault families the run is known to serve.
    """
    served = fig["faults_served"]
    for family in families:
        assert any(family in label for label in served), f"the short run served no {family}: {served}"


def test_short_fault_campaign_finds_nothing(local_sagemaker: Any, quiet_logs: None) -> None:
    started = time.monotonic()
    outcomes = run_campaign(local_sagemaker, scenarios=SCENARIOS_PER_KIND, seed=SEED)
    fig = figures(outcomes, seed=SEED, real_seconds=time.monotonic() - started)

    assert {kind: row["scenarios"] for kind, row in fig["kinds"].items()} == {
        "training": SCENARIOS_PER_KIND,
        "tuning": SCENARIOS_PER_KIND,
    }
    assert all(row["modes"] == {"deferrable": 6, "blocking": 6} for row in fig["kinds"].values())
    assert fig["totals"] == dict.fromkeys(FINDINGS, 0), fig["failing_scenarios"]
    assert all(row["stuck"] == 0 for row in fig["kinds"].values())
    assert_served(fig, (
        "worker death",
        "triggerer restart",
        "error_event",
        "triggerer_down",
        "clear",
        "mark_failed",
        "max_wait",
        "execution_timeout",
        "lost_response",
        "dropped_request",
        "network window",
        "two deployments at once",
    ))
    assert sum(row["expected_failures"] for row in fig["kinds"].values()) > 0


AGENT_RFT_SCENARIOS = 6  # ~25 s: each submission runs the SDK's MultiTurnRLTrainer construction


def test_short_agent_rft_campaign_finds_nothing(local_sagemaker: Any, quiet_logs: None) -> None:
    """MultiTurnRLTrainerOperator on the same faults (deaths, restarts, clears, drops, timeouts, twins)."""
    row, fig, _ = short_run(local_sagemaker, "agent_rft", scenarios=AGENT_RFT_SCENARIOS, seed=SEED)

    assert row["modes"] == {"deferrable": 3, "blocking": 3}
    assert_served(fig, ("worker death",))


ENDPOINT_SCENARIOS = 6  # ~40 s: boto3 calls only (no SDK), the deployment on the virtual clock


def test_short_endpoint_campaign_finds_nothing(local_sagemaker: Any, quiet_logs: None) -> None:
    """DeployModelOperator (create-or-update, unstoppable) on deaths, restarts, drops, lost CreateEndpoint."""
    _, fig, _ = short_run(local_sagemaker, "endpoint", scenarios=ENDPOINT_SCENARIOS, seed=SEED)

    assert_served(fig, ("worker death", "lost_response", "dropped_request"))


#: Seeds of the short runs of the new kinds: among the first 300, the cheapest (fewest real-second
#: read timeouts) whose 5 scenarios serve a worker death, a clear, a triggerer restart, a lost response,
#: a network window, two deployments and an expected failure.
FINETUNE_SEED, HUB_CONTENT_SEED = 10, 84
FINETUNE_SCENARIOS = 5  # SFT, DPO and RLAIF; each submission runs the SDK trainer's construction


def test_short_finetune_campaign_finds_nothing(local_sagemaker: Any, quiet_logs: None) -> None:
    """The fine-tuning trainers (SFT, DPO, RLAIF, RLVR drawn per scenario) on the same faults."""
    row, fig, outcomes = short_run(local_sagemaker, "finetune", scenarios=FINETUNE_SCENARIOS, seed=FINETUNE_SEED)

    assert row["modes"] == {"deferrable": 3, "blocking": 2}
    assert {o.scenario.technique for o in outcomes} == {"SFT", "DPO", "RLAIF"}
    assert row["expected_failures"] > 0
    assert_served(fig, ("worker death", "lost_response", "clear", "triggerer restart", "two deployments at once"))


HUB_CONTENT_SCENARIOS = 5


def test_short_hub_content_campaign_finds_nothing(local_sagemaker: Any, quiet_logs: None) -> None:
    """CreateDataSetOperator (an import that cannot be stopped) on the same faults; one version per content."""
    row, fig, _ = short_run(
        local_sagemaker, "hub_content", scenarios=HUB_CONTENT_SCENARIOS, seed=HUB_CONTENT_SEED
    )

    assert row["expected_failures"] > 0, "the marked-failed import task ended failed"
    assert_served(fig, ("worker death", "lost_response", "clear", "two deployments at once", "network window"))


#: Seed of the short evaluation run: among the first 400, the cheapest whose 5 scenarios serve deaths between
#: CreatePipeline and StartPipelineExecution and after a start carried out, a lost start response, a clear, a
#: triggerer restart, two deployments, an expected failure and three evaluators.
EVALUATION_SEED, EVALUATION_SCENARIOS = 192, 5  # ~25 s: each start runs the SDK evaluator's construction


def test_short_evaluation_campaign_finds_nothing(local_sagemaker: Any, quiet_logs: None) -> None:
    """The evaluator operators (one pipeline execution per task-instance generation) on the same faults."""
    row, fig, outcomes = short_run(
        local_sagemaker, "evaluation", scenarios=EVALUATION_SCENARIOS, seed=EVALUATION_SEED
    )

    assert row["modes"] == {"deferrable": 3, "blocking": 2}
    assert {o.scenario.evaluator for o in outcomes} == {"benchmark", "llm_as_judge", "custom_scorer"}
    assert row["expected_failures"] > 0, "the marked-failed evaluation ended failed"
    assert_served(fig, ("worker death: after_pipeline", "worker death: start_lost", "lost_response",
                        "clear", "triggerer restart", "two deployments at once"))

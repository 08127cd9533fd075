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
    served = fig["faults_served"]
    for family in (
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
    ):
        assert any(family in label for label in served), f"the short run served no {family}: {served}"
    assert sum(row["expected_failures"] for row in fig["kinds"].values()) > 0


AGENT_RFT_SCENARIOS = 6  # ~25 s: each submission runs the SDK's MultiTurnRLTrainer construction


def test_short_agent_rft_campaign_finds_nothing(local_sagemaker: Any, quiet_logs: None) -> None:
    """MultiTurnRLTrainerOperator on the same faults (deaths, restarts, clears, drops, timeouts, twins)."""
    started = time.monotonic()
    outcomes = run_campaign(local_sagemaker, scenarios=AGENT_RFT_SCENARIOS, seed=SEED, kinds=("agent_rft",))
    fig = figures(outcomes, seed=SEED, real_seconds=time.monotonic() - started)

    assert fig["kinds"]["agent_rft"]["scenarios"] == AGENT_RFT_SCENARIOS
    assert fig["totals"] == dict.fromkeys(FINDINGS, 0), fig["failing_scenarios"]
    assert fig["kinds"]["agent_rft"]["stuck"] == 0
    assert fig["kinds"]["agent_rft"]["modes"] == {"deferrable": 3, "blocking": 3}
    assert any("worker death" in label for label in fig["faults_served"]), fig["faults_served"]


ENDPOINT_SCENARIOS = 6  # ~40 s: boto3 calls only (no SDK), the deployment on the virtual clock


def test_short_endpoint_campaign_finds_nothing(local_sagemaker: Any, quiet_logs: None) -> None:
    """DeployModelOperator (create-or-update, unstoppable) on deaths, restarts, drops, lost CreateEndpoint."""
    started = time.monotonic()
    outcomes = run_campaign(local_sagemaker, scenarios=ENDPOINT_SCENARIOS, seed=SEED, kinds=("endpoint",))
    fig = figures(outcomes, seed=SEED, real_seconds=time.monotonic() - started)

    assert fig["kinds"]["endpoint"]["scenarios"] == ENDPOINT_SCENARIOS
    assert fig["totals"] == dict.fromkeys(FINDINGS, 0), fig["failing_scenarios"]
    assert fig["kinds"]["endpoint"]["stuck"] == 0
    served = fig["faults_served"]
    for family in ("worker death", "lost_response", "dropped_request"):
        assert any(family in label for label in served), f"the short run served no {family}: {served}"


#: Seeds of the short runs of the new kinds: among the first 300, the cheapest (fewest real-second
#: read timeouts) whose 5 scenarios serve a worker death, a clear, a triggerer restart, a lost response,
#: a network window, two deployments and an expected failure.
FINETUNE_SEED, HUB_CONTENT_SEED = 10, 84
FINETUNE_SCENARIOS = 5  # SFT, DPO and RLAIF; each submission runs the SDK trainer's construction


def test_short_finetune_campaign_finds_nothing(local_sagemaker: Any, quiet_logs: None) -> None:
    """The fine-tuning trainers (SFT, DPO, RLAIF, RLVR drawn per scenario) on the same faults."""
    started = time.monotonic()
    outcomes = run_campaign(
        local_sagemaker, scenarios=FINETUNE_SCENARIOS, seed=FINETUNE_SEED, kinds=("finetune",)
    )
    fig = figures(outcomes, seed=FINETUNE_SEED, real_seconds=time.monotonic() - started)

    row = fig["kinds"]["finetune"]
    assert row["scenarios"] == FINETUNE_SCENARIOS and row["stuck"] == 0
    assert row["modes"] == {"deferrable": 3, "blocking": 2}
    assert fig["totals"] == dict.fromkeys(FINDINGS, 0), fig["failing_scenarios"]
    assert {o.scenario.technique for o in outcomes} == {"SFT", "DPO", "RLAIF"}
    assert row["expected_failures"] > 0
    served = fig["faults_served"]
    for family in ("worker death", "lost_response", "clear", "triggerer restart", "two deployments at once"):
        assert any(family in label for label in served), f"the short run served no {family}: {served}"


HUB_CONTENT_SCENARIOS = 5


def test_short_hub_content_campaign_finds_nothing(local_sagemaker: Any, quiet_logs: None) -> None:
    """CreateDataSetOperator (an import that cannot be stopped) on the same faults; one version per content."""
    started = time.monotonic()
    outcomes = run_campaign(
        local_sagemaker, scenarios=HUB_CONTENT_SCENARIOS, seed=HUB_CONTENT_SEED, kinds=("hub_content",)
    )
    fig = figures(outcomes, seed=HUB_CONTENT_SEED, real_seconds=time.monotonic() - started)

    row = fig["kinds"]["hub_content"]
    assert row["scenarios"] == HUB_CONTENT_SCENARIOS and row["stuck"] == 0
    assert fig["totals"] == dict.fromkeys(FINDINGS, 0), fig["failing_scenarios"]
    assert row["expected_failures"] > 0, "the marked-failed import task ended failed"
    served = fig["faults_served"]
    for family in ("worker death", "lost_response", "clear", "two deployments at once", "network window"):
        assert any(family in label for label in served), f"the short run served no {family}: {served}"


#: Seed of the short evaluation run: among the first 400, the cheapest whose 5 scenarios serve deaths between
#: CreatePipeline and StartPipelineExecution and after a start carried out, a lost start response, a clear, a
#: triggerer restart, two deployments, an expected failure and three evaluators.
EVALUATION_SEED, EVALUATION_SCENARIOS = 192, 5  # ~25 s: each start runs the SDK evaluator's construction


def test_short_evaluation_campaign_finds_nothing(local_sagemaker: Any, quiet_logs: None) -> None:
    """The evaluator operators (one pipeline execution per task-instance generation) on the same faults."""
    started = time.monotonic()
    outcomes = run_campaign(
        local_sagemaker, scenarios=EVALUATION_SCENARIOS, seed=EVALUATION_SEED, kinds=("evaluation",)
    )
    fig = figures(outcomes, seed=EVALUATION_SEED, real_seconds=time.monotonic() - started)

    row = fig["kinds"]["evaluation"]
    assert row["scenarios"] == EVALUATION_SCENARIOS and row["stuck"] == 0
    assert row["modes"] == {"deferrable": 3, "blocking": 2}
    assert fig["totals"] == dict.fromkeys(FINDINGS, 0), fig["failing_scenarios"]
    assert {o.scenario.evaluator for o in outcomes} == {"benchmark", "llm_as_judge", "custom_scorer"}
    assert row["expected_failures"] > 0, "the marked-failed evaluation ended failed"
    served = fig["faults_served"]
    for family in ("worker death: after_pipeline", "worker death: start_lost", "lost_response",
                   "clear", "triggerer restart", "two deployments at once"):
        assert any(family in label for label in served), f"the short run served no {family}: {served}"

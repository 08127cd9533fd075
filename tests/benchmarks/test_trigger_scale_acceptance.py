"""The acceptance check of the trigger-scale benchmark: each target's PASS/FAIL follows the measured numbers."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.trigger_scale.acceptance import acceptance_section, check  # noqa: E402
from benchmarks.trigger_scale.common import BenchConfig  # noqa: E402

POLL = 5.0


def _row(provider: str, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "provider": provider,
        "n": 1000,
        "peak_rss_mib": 200.0,
        "requests_per_job_per_poll": 0.01,
        "cpu_steady_per_60s": 1.0,
        "stall_startup": {"worst_s": 0.05},
        "stall_steady": {"worst_s": 0.02},
        "latency_p99_s": 4.0,
    }
    row.update(values)
    return row


AMAZON = _row(
    "amazon-training",
    peak_rss_mib=2100.0,
    requests_per_job_per_poll=1.0,
    cpu_steady_per_60s=40.0,
    stall_startup={"worst_s": 9.0},
    stall_steady={"worst_s": 1.2},
    latency_p99_s=4.9,
)


def _verdicts(ours: dict[str, Any], amazon: dict[str, Any] = AMAZON) -> dict[str, str]:
    return {item["target"].split(",")[0]: item["verdict"] for item in check(ours, amazon, POLL)}


def test_all_targets_met_pass():
    assert set(_verdicts(_row("ours-training")).values()) == {"PASS"}


@pytest.mark.parametrize(
    ("change", "failing"),
    [
        ({"peak_rss_mib": 220.0}, "peak RSS"),  # 0.105x
        ({"requests_per_job_per_poll": 0.06}, "requests per job per poll"),
        ({"cpu_steady_per_60s": 4.1}, "CPU per minute in the steady state"),
        ({"stall_startup": {"worst_s": 0.101}}, "worst event-loop stall at start-up"),
        ({"stall_steady": {"worst_s": 0.2}}, "worst event-loop stall in the steady state"),
        ({"latency_p99_s": 5.01}, "job end → event p99"),
        ({"latency_p99_s": None}, "job end → event p99"),  # not measured is not a pass
        ({"stall_steady": None}, "worst event-loop stall in the steady state"),
    ],
)
def test_one_target_missed_fails_only_that_target(change, failing):
    verdicts = _verdicts(_row("ours-training", **change))
    assert verdicts.pop(failing) == "FAIL"
    assert set(verdicts.values()) == {"PASS"}


def test_a_failed_worker_fails_every_target():
    verdicts = _verdicts(_row("ours-training"), {**AMAZON, "failed": "worker timed out"})
    assert set(verdicts.values()) == {"FAIL"}


def test_section_prints_a_line_per_target_and_kind_at_n_1000():
    bench = BenchConfig([1000], 30.0, POLL, ["ours-training", "amazon-training"], 60.0, 15.0, REPO)
    rows = [
        _row("ours-training", peak_rss_mib=220.0),
        AMAZON,
        _row("ours-training", n=2000, peak_rss_mib=1.0),
    ]
    text = acceptance_section(bench, rows)
    lines = [line for line in text.splitlines() if line.startswith("- training:")]
    assert len(lines) == 6
    assert lines[0] == "- training: peak RSS, ours / amazon: 0.105× (target ≤ 0.100×): **FAIL**"
    assert (
        lines[-1]
        == "- training: job end → event p99, ours (≤ one poll interval): 4.00 s (target ≤ 5.00 s): **PASS**"
    )
    assert "- tuning:" not in text  # no tuning rows in this run


def test_the_pipeline_pair_is_checked_like_the_job_kinds():
    bench = BenchConfig([1000], 30.0, POLL, ["ours-pipeline", "amazon-pipeline"], 60.0, 15.0, REPO)
    amazon = {**AMAZON, "provider": "amazon-pipeline", "requests_per_job_per_poll": 2.0}
    rows = [_row("ours-pipeline", requests_per_job_per_poll=1.0), amazon]
    lines = [line for line in acceptance_section(bench, rows).splitlines() if line.startswith("- pipeline:")]
    assert len(lines) == 6
    # one describe per execution per poll (no coalescing yet) is half of amazon's describe + list steps
    assert lines[1] == "- pipeline: requests per job per poll, ours / amazon: 0.500× (target ≤ 0.050×): **FAIL**"

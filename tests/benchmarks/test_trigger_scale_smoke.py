"""
Smoke test of ``benchmarks/trigger_scale.py``: it runs end to end and reports sane numbers (no timing thresholds).

Two pairs (ours and the amazon provider's trigger waiting for tuning jobs, and for pipeline executions held
``Executing`` by their step's training job) keep it under a minute; the training pair runs the same code
with the other trigger classes and job kind. The acceptance check's arithmetic is tested apart in
``test_trigger_scale_acceptance.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "benchmarks" / "trigger_scale.py"
N = 2
PAIR = ("ours-tuning", "amazon-tuning", "ours-pipeline", "amazon-pipeline")
LABELS = (
    "ours: TuningJobTrigger",
    "amazon: SageMakerTrigger (Tuning)",
    "ours: PipelineExecutionTrigger",
    "amazon: SageMakerPipelineTrigger",
)
#: The operation that reads one job's status, per provider.
DESCRIBE = {
    "ours-tuning": "DescribeHyperParameterTuningJob",
    "amazon-tuning": "DescribeHyperParameterTuningJob",
    "ours-pipeline": "DescribePipelineExecution",
    "amazon-pipeline": "DescribePipelineExecution",
}


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str]:
    """Run the benchmark once at N=2 (3 s window, 1 s poll) for two pairs and return its JSON and markdown."""
    out = tmp_path_factory.mktemp("trigger_scale")
    proc = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--n",
            str(N),
            "--window",
            "3",
            "--poll",
            "1",
            "--providers",
            *PAIR,
            "--results-dir",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=str(REPO),
        check=False,
    )
    assert proc.returncode == 0, f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    data = json.loads((out / "trigger_scale.json").read_text())
    markdown = (out / "trigger_scale.md").read_text()
    assert markdown.split("\n\n", 2)[-1].strip() in proc.stdout  # the table printed is the table written
    return data, markdown


@pytest.mark.timeout(300)
@pytest.mark.parametrize("provider", PAIR)
def test_row_per_provider_with_sane_values(results: tuple[dict[str, Any], str], provider: str) -> None:
    data, _markdown = results
    rows = [row for row in data["runs"] if row["provider"] == provider and row["n"] == N]
    assert len(rows) == 1
    row = rows[0]
    assert "failed" not in row, row
    assert row["events"] == N and row["all_succeeded"], row["event_statuses"]
    assert row["timed_out"] == 0 and row["error_count"] == 0
    assert row["foreign_requests"] == 0  # every trigger request was signed by the Airflow connection
    assert row["started_triggers"] == N and row["answered_triggers"] == N
    assert 50 < row["peak_rss_mib"] < 4096
    assert row["rss_loaded_mib"] >= row["rss_before_mib"] > 0
    assert row["rss_per_trigger_mib"] >= 0
    assert 0 <= row["startup_s"] < row["jobs_ended_after_launch_s"]
    assert row["cpu_startup_s"] > 0 and row["cpu_steady_per_60s"] > 0
    assert row["steady_periods"] >= 1
    assert 0.2 < row["requests_per_job_per_poll"] < 3
    assert row["requests_total"] >= 2 * N  # at least a poll while running and the one that saw the end
    assert row["stall_steady"]["worst_s"] is not None and row["stall_steady"]["worst_s"] >= 0
    assert 0 <= row["last_event_after_end_s"] < 30
    assert row["latency_p50_s"] <= row["latency_p99_s"] <= row["latency_max_s"] < 30
    assert row["trigger_operations"].get(DESCRIBE[provider], 0) >= N  # each job read at least once
    assert row["server_ms_steady"]["count"] >= 1 and row["server_ms_steady"]["p99"] > 0


@pytest.mark.timeout(300)
def test_markdown_has_both_rows_and_ratios(results: tuple[dict[str, Any], str]) -> None:
    _data, markdown = results
    lines = markdown.splitlines()
    for label in LABELS:
        # a row in the results table and one in the server's answer times
        assert sum(line.startswith(f"| {label} | 2 |") for line in lines) == 2, label
    ratios = [line for line in lines if line.startswith("| **ours / amazon** | 2 |")]
    assert len(ratios) == 2  # tuning, pipeline
    assert all(ratio.count("×") >= 8 for ratio in ratios)
    assert "### Acceptance check at N=1000" in markdown  # present, empty at N=2

"""Nightly benchmark reports: one table from many evaluations, regressions against the previous night."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest

from airflow_provider_smtrain.jobs.benchmark_report import (
    build_report,
    find_regressions,
    format_report,
    report_csv,
)
from airflow_provider_smtrain.jobs.evaluation_results import evaluation_result
from tests.jobs import evaluation_fixtures as fx

PIPELINE = "SagemakerEvaluation-BenchmarkEvaluation-0f1e2d3c"
BASE_ONLY_STEPS = [fx.step("EvaluateBaseModel", 1, job=fx.BENCH_BASE_JOB)]


def night(model: str, benchmark: str, overall: dict[str, float], **subtasks: dict[str, float]) -> dict[str, Any]:
    """A nightly evaluation of a hub model on its own: the SDK runs it as the base model."""
    files = {fx.bench_uri(fx.BENCH_BASE_JOB): fx.lighteval(overall, **subtasks)}
    return evaluation_result(
        fx.describe(PIPELINE), BASE_ONLY_STEPS, files, fx.REGION, "benchmark", model=model, benchmark=benchmark
    )


def nightly(acc: float = 0.47, bbh: float = 0.33) -> dict[str, Any]:
    results = [
        [night("qwen", "mmlu", {"acc": acc, "acc_stderr": 0.01}, **{"mmlu:anatomy": {"acc": 0.6}})],
        [night("qwen", "bbh", {"exact_match": bbh, "exact_match_stderr": 0.02})],
        [night("llama", "mmlu", {"acc": 0.39, "acc_stderr": 0.01})],
    ]
    return build_report(results, "2026-11-27T02:00:00+00:00")


def test_one_row_per_model_benchmark_subtask_metric_sorted() -> None:
    report = nightly()
    keys = [(r["model"], r["benchmark"], r["subtask"], r["metric"], r["value"]) for r in report["rows"]]
    assert keys == [
        ("llama", "mmlu", None, "acc", 0.39),
        ("qwen", "bbh", None, "exact_match", 0.33),
        ("qwen", "mmlu", None, "acc", 0.47),
        ("qwen", "mmlu", "mmlu:anatomy", "acc", 0.6),
    ]
    assert report["rows"][0]["stderr"] == 0.01 and report["rows"][3]["stderr"] is None
    assert report["rows"][0]["execution_arn"] == fx.execution_arn(PIPELINE)
    assert json.loads(json.dumps(report)) == report


def test_first_night_has_nothing_to_compare() -> None:
    assert find_regressions(None, nightly()) == []


def test_a_drop_beyond_the_tolerance_is_a_regression_and_noise_is_not() -> None:
    previous, current = nightly(acc=0.47, bbh=0.33), nightly(acc=0.40, bbh=0.325)
    regressions = find_regressions(previous, current, tolerance=0.01)
    assert regressions == [
        {"model": "qwen", "benchmark": "mmlu", "subtask": None, "metric": "acc", "kind": "worse",
         "previous": 0.47, "current": 0.40, "change": pytest.approx(-0.07), "allowed": 0.01},
    ]
    assert find_regressions(previous, current, tolerance=0.1) == [], "within tolerance"
    # with stderr: 0.07 < 5 * hypot(0.01, 0.01) = 0.0707
    assert find_regressions(previous, current, tolerance=0.01, stderr_multiplier=5) == []


def test_improvements_new_metrics_and_lower_is_better() -> None:
    previous, current = nightly(acc=0.40), nightly(acc=0.50)
    assert find_regressions(previous, current) == []
    loss_before = build_report([night("m", "wiki", {"perplexity": 10.0})], "t1")
    loss_after = build_report([night("m", "wiki", {"perplexity": 12.0, "acc": 0.1})], "t2")
    found = find_regressions(loss_before, loss_after)
    assert [(r["metric"], r["kind"]) for r in found] == [("perplexity", "worse")], "a rise of perplexity"
    back = find_regressions(loss_after, loss_before, lower_is_better=())
    assert back[0] == {"model": "m", "benchmark": "wiki", "subtask": None, "metric": "acc", "kind": "missing",
                       "previous": 0.1, "current": None, "change": None, "allowed": None}
    assert [(r["metric"], r["kind"]) for r in back[1:]] == [("perplexity", "worse")], "12 -> 10, higher is better"
    with pytest.raises(ValueError, match="must not be negative"):
        find_regressions(loss_before, loss_after, tolerance=-1)


def test_table_and_csv_mark_the_regressions() -> None:
    previous, current = nightly(acc=0.47), nightly(acc=0.40)
    current["regressions"] = find_regressions(previous, current)
    current["previous"] = previous
    text = format_report(current)
    line = next(line for line in text.splitlines() if line.startswith("qwen") and " mmlu " in line and " all " in line)
    assert line.split() == ["qwen", "mmlu", "all", "acc", "0.4000", "0.0100", "0.4700", "REGRESSION"]
    assert "4 metrics, 1 regression(s)" in text
    assert "REGRESSION qwen mmlu/all/acc: 0.4700 -> 0.4000 (allowed 0.0100)" in text
    rows = list(csv.DictReader(io.StringIO(report_csv(current))))
    assert [(r["model"], r["benchmark"], r["metric"]) for r in rows if r["regression"] == "True"] == [
        ("qwen", "mmlu", "acc")
    ]
    assert rows[0]["subtask"] == "" and rows[0]["value"] == "0.39"

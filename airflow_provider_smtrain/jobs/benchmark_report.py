"""Benchmark reports: many evaluation results in one table, and regressions against a previous report.

Pure functions (no AWS, no Airflow) behind ``example_dags/example_nightly_benchmarks.py``: the nightly DAG
gathers its mapped evaluations with :func:`build_report`, compares the report with the previous night's
with :func:`find_regressions`, logs :func:`format_report` and writes the report as JSON and
:func:`report_csv` to S3.

A report is ``{"created_at", "rows": [...], "regressions": [...], "previous": {...} | None}``; a row is
``{"model", "benchmark", "subtask", "metric", "value", "stderr", "execution_arn"}``, where ``value`` is the
evaluated model's (the tuned side of the evaluation result, else its base side: a hub model evaluated on
its own runs as the base model).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from airflow_provider_smtrain.jobs.quality_gate import rows_of

__all__ = ["ROW_KEYS", "build_report", "find_regressions", "format_report", "report_csv"]

ROW_KEYS = ("model", "benchmark", "subtask", "metric", "value", "stderr", "execution_arn")
#: Metrics where lower is better (a rise is the regression) unless the caller says otherwise.
LOWER_IS_BETTER = frozenset({"perplexity", "loss", "word_perplexity", "byte_perplexity", "bits_per_byte", "Harmfulness"})


def _key(row: Mapping[str, Any]) -> tuple[str, str, str, str]:
    return (str(row["model"]), str(row["benchmark"]), str(row["subtask"] or "all"), str(row["metric"]))


def build_report(results: Iterable[Mapping[str, Any]] | Mapping[str, Any], created_at: str) -> dict[str, Any]:
    """
    One report from evaluation results (one per model and benchmark), rows sorted by model, benchmark,
    subtask, metric.

    :param results: evaluation results (``docs/outputs.md``, Evaluation result), e.g. a mapped task's XCom.
    :param created_at: ISO time of the report (the DAG run's logical date).
    """
    flat = _flatten(results)
    rows = []
    for index, metric in rows_of(flat):  # validates each result
        result = flat[index]
        tuned = metric.get("tuned") is not None
        rows.append(
            {
                "model": result.get("model") or result.get("execution_arn"),
                "benchmark": metric["benchmark"],
                "subtask": metric["subtask"],
                "metric": metric["metric"],
                "value": metric["tuned"] if tuned else metric.get("base"),
                "stderr": metric["tuned_stderr"] if tuned else metric.get("base_stderr"),
                "execution_arn": result.get("execution_arn"),
            }
        )
    rows.sort(key=_key)
    return {"created_at": created_at, "rows": rows, "regressions": [], "previous": None}


def _flatten(results: Any) -> list[Any]:
    if isinstance(results, Mapping) or not isinstance(results, Iterable) or isinstance(results, str | bytes):
        return [results]  # rows_of names what is not a result
    return [item for inner in results for item in _flatten(inner)]


def find_regressions(
    previous: Mapping[str, Any] | None,
    current: Mapping[str, Any],
    *,
    tolerance: float = 0.01,
    stderr_multiplier: float = 0.0,
    lower_is_better: Collection[str] = LOWER_IS_BETTER,
) -> list[dict[str, Any]]:
    """
    The metrics of ``current`` that got worse than in ``previous`` (or disappeared from it).

    A metric regressed when it moved the wrong way by more than ``max(tolerance, stderr_multiplier *
    sqrt(stderr_prev² + stderr_now²))``; a metric of ``previous`` that ``current`` lacks (or has no value
    for) is a regression of kind ``"missing"``. Metrics new in ``current`` are not compared.

    :param previous: the previous report, or ``None`` (first run: nothing to compare).
    :param current: the report of this run.
    :param tolerance: the smallest change that counts, in the metric's unit.
    :param stderr_multiplier: how many combined standard errors a change must exceed (0: ignore stderr).
    :param lower_is_better: metric names where a rise is the regression.
    """
    if tolerance < 0 or stderr_multiplier < 0:
        raise ValueError("tolerance and stderr_multiplier must not be negative")
    if not previous:
        return []
    now = {_key(row): row for row in current["rows"]}
    regressions = []
    for before in sorted(previous.get("rows") or [], key=_key):
        after = now.get(_key(before))
        base = {key: before[key] for key in ("model", "benchmark", "subtask", "metric")}
        if before.get("value") is None:
            continue
        if after is None or after.get("value") is None:
            regressions.append({**base, "kind": "missing", "previous": before["value"], "current": None,
                                "change": None, "allowed": None})
            continue
        change = after["value"] - before["value"]
        worse = change if before["metric"] in lower_is_better else -change
        noise = math.hypot(before.get("stderr") or 0.0, after.get("stderr") or 0.0) * stderr_multiplier
        allowed = max(tolerance, noise)
        if worse > allowed:
            regressions.append({**base, "kind": "worse", "previous": before["value"], "current": after["value"],
                                "change": change, "allowed": allowed})
    return regressions


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def format_report(report: Mapping[str, Any]) -> str:
    """
    The report as a text table (one line per metric, regressions marked), then the regressions.

    :param report: a report with its ``regressions`` filled in.
    """
    flagged = {_key(r) for r in report.get("regressions") or []}
    previous = {_key(r): r.get("value") for r in ((report.get("previous") or {}).get("rows") or [])}
    header = ("model", "benchmark", "subtask", "metric", "value", "stderr", "previous", "")
    lines = [header]
    for row in report["rows"]:
        lines.append(
            (
                str(row["model"]), str(row["benchmark"]), str(row["subtask"] or "all"), str(row["metric"]),
                _cell(row["value"]), _cell(row["stderr"]), _cell(previous.get(_key(row))),
                "REGRESSION" if _key(row) in flagged else "",
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    text = ["  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in lines]
    regressions = report.get("regressions") or []
    text.append(f"{len(report['rows'])} metrics, {len(regressions)} regression(s)")
    for item in regressions:
        text.append(
            f"REGRESSION {item['model']} {item['benchmark']}/{item['subtask'] or 'all'}/{item['metric']}: "
            + ("missing" if item["kind"] == "missing" else
               f"{_cell(item['previous'])} -> {_cell(item['current'])} (allowed {_cell(item['allowed'])})")
        )
    return "\n".join(text)


def report_csv(report: Mapping[str, Any]) -> str:
    """
    The report's rows as CSV (header ``model,benchmark,subtask,metric,value,stderr,execution_arn,regression``).

    :param report: a report.
    """
    flagged = {_key(r) for r in report.get("regressions") or []}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*ROW_KEYS, "regression"])
    for row in report["rows"]:
        writer.writerow([*("" if row[k] is None else row[k] for k in ROW_KEYS), _key(row) in flagged])
    return out.getvalue()

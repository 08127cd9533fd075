"""The results as a markdown table: one row per provider and N, one ratio row per N, and notes."""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Callable
from typing import Any

from benchmarks.trigger_scale.acceptance import acceptance_section
from benchmarks.trigger_scale.common import (
    PAIRS,
    PROVIDERS,
    SERVER_SATURATED_MS,
    BenchConfig,
)


def _fmt(value: Any, digits: int = 2, unit: str = "") -> str:
    """
    A table cell: ``–`` for None, numbers rounded, thousands separated.

    :param value: the number (or None).
    :param digits: decimals.
    :param unit: suffix.
    """
    if value is None:
        return "–"
    if isinstance(value, int | float):
        return f"{value:,.{digits}f}{unit}"
    return str(value)


def _ratio(ours: Any, amazon: Any, digits: int = 2) -> str:
    """
    ``ours / amazon`` as a cell, ``–`` when either is missing or amazon is 0.

    :param ours: our value.
    :param amazon: the amazon provider's value.
    :param digits: decimals.
    """
    if not isinstance(ours, int | float) or not isinstance(amazon, int | float) or amazon == 0:
        return "–"
    return f"{ours / amazon:.{digits}f}×"


def _stall_pair(row: dict[str, Any]) -> tuple[float | None, float | None]:
    """
    Worst loop stall at start-up and in the steady state, seconds.

    :param row: a worker result.
    """
    startup = (row.get("stall_startup") or {}).get("worst_s")
    steady = (row.get("stall_steady") or {}).get("worst_s")
    return startup, steady


#: (column title, result key or function, digits, unit)
Column = tuple[str, Callable[[dict[str, Any]], Any], int, str]
COLUMNS: list[Column] = [
    ("peak RSS", lambda r: r.get("peak_rss_mib"), 0, " MiB"),
    ("RSS per trigger", lambda r: r.get("rss_per_trigger_mib"), 3, " MiB"),
    ("RSS per extra trigger (vs previous N)", lambda r: r.get("rss_marginal_per_trigger_mib"), 3, " MiB"),
    ("start-up (all triggers polled)", lambda r: r.get("startup_s"), 2, " s"),
    ("CPU at start-up", lambda r: r.get("cpu_startup_s"), 2, " s"),
    ("CPU per 60 s steady", lambda r: r.get("cpu_steady_per_60s"), 2, " s"),
    ("CPU per request steady", lambda r: r.get("cpu_ms_per_request_steady"), 2, " ms"),
    ("requests / job / poll", lambda r: r.get("requests_per_job_per_poll"), 2, ""),
    ("worst stall start-up", lambda r: _ms(_stall_pair(r)[0]), 0, " ms"),
    ("worst stall steady", lambda r: _ms(_stall_pair(r)[1]), 0, " ms"),
    ("job end → event p50", lambda r: _latency(r, "latency_p50_s"), 2, " s"),
    ("job end → event p99", lambda r: _latency(r, "latency_p99_s"), 2, " s"),
]


def _latency(row: dict[str, Any], key: str) -> float | str | None:
    """
    A job end → event percentile, or ``> grace`` when it falls among triggers that never fired.

    :param row: a worker result.
    :param key: ``latency_p50_s`` or ``latency_p99_s``.
    """
    value = row.get(key)
    if value is None and row.get("missing_events"):
        return f"> {row['config']['grace']:g} s"
    return value  # type: ignore[no-any-return]


def _ms(seconds: float | None) -> float | None:
    """
    Seconds to milliseconds, None stays None.

    :param seconds: a duration.
    """
    return None if seconds is None else seconds * 1000.0


def render_markdown(bench: BenchConfig, rows: list[dict[str, Any]], wall_s: float) -> str:
    """
    The results table (one row per provider and N, one ratio row per N) and notes.

    :param bench: the benchmark configuration.
    :param rows: worker results.
    :param wall_s: duration of the whole run.
    """
    header = ["trigger", "N", *(title for title, *_ in COLUMNS), "events"]
    lines = [
        "| " + " | ".join(header) + " |",
        "|---|---:|" + "---:|" * (len(COLUMNS) + 1),
    ]
    notes: list[str] = []
    for n in bench.ns:
        by_provider = {row["provider"]: row for row in rows if row["n"] == n}
        for _kind, ours_name, amazon_name in PAIRS:
            for provider in (ours_name, amazon_name):
                row = by_provider.get(provider)
                if row is None or provider not in bench.providers:
                    continue
                lines.append(_row_line(bench, row, notes))
            ours, amazon = by_provider.get(ours_name), by_provider.get(amazon_name)
            if ours and amazon and "failed" not in ours and "failed" not in amazon:
                cells = [_ratio(get(ours), get(amazon)) for _t, get, _d, _u in COLUMNS]
                lines.append(f"| **ours / amazon** | {n} | " + " | ".join(cells) + " | |")
    settings = (
        f"Jobs stay InProgress until every trigger has read its job once, then for {bench.window:g} s of "
        f"steady state (whole polls, from half a poll after the last first answer), then all end together "
        f"(the LocalSageMaker clock moves past their end); poll {bench.poll:g} s, "
        f"start-up timeout {bench.startup_timeout:g} s, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, {versions()}; "
        f"whole run {wall_s:.0f} s."
    )
    loads = [row["load_average_at_start"][0] for row in rows if row.get("load_average_at_start")]
    if loads:
        settings += (
            f" 1-minute load average when the workers started: {min(loads):.2f}-{max(loads):.2f} "
            "(anything else running on the machine competes with the worker and the server)."
        )
    text = "\n".join(lines) + "\n\n" + settings + "\n"
    if notes:
        text += "\n" + "\n".join(f"- {note}" for note in notes) + "\n"
    text += "\n" + server_latency_table(bench, rows)
    text += "\n" + acceptance_section(bench, rows)
    return text


def _row_line(bench: BenchConfig, row: dict[str, Any], notes: list[str]) -> str:
    """
    One table row for one worker result; its findings go to ``notes``.

    :param bench: the benchmark configuration.
    :param row: a worker result.
    :param notes: notes under the table (appended to).
    """
    n = row["n"]
    if "failed" in row:
        cells = ["failed"] * len(COLUMNS) + ["–"]
        notes.append(f"{row['label']} N={n}: {row['failed']} (see the JSON for the log tail).")
    else:
        cells = [_fmt(get(row), digits, unit) for _t, get, digits, unit in COLUMNS]
        ok = "all ok" if row.get("all_succeeded") else json.dumps(row.get("event_statuses"))
        cells.append(f"{row['events']}/{n} {ok}")
        notes.extend(_row_notes(bench, row))
    return f"| {row['label']} | {n} | " + " | ".join(cells) + " |"


def server_latency_table(bench: BenchConfig, rows: list[dict[str, Any]]) -> str:
    """
    The LocalSageMaker's own answer time for the triggers' requests, per row: is the server what is measured?

    :param bench: the benchmark configuration.
    :param rows: worker results.
    """
    lines = [
        "### LocalSageMaker answer time (server side, lock wait included), triggers' requests in the steady state",
        "",
        "| trigger | N | requests | requests / s | mean | p50 | p99 | max |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        summary = row.get("server_ms_steady")
        if "failed" in row or not summary:
            continue
        span = (row.get("steady_periods") or 0) * bench.poll
        rate = summary["count"] / span if span else None
        cells = [
            f"{summary['count']:,}",
            _fmt(rate, 1),
            *(_fmt(summary[key], 1, " ms") for key in ("mean", "p50", "p99", "max")),
        ]
        lines.append(f"| {row['label']} | {row['n']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _row_notes(bench: BenchConfig, row: dict[str, Any]) -> list[str]:
    """
    Findings worth a sentence under the table (timeouts, slow start-up, errors, stray requests).

    :param bench: the benchmark configuration.
    :param row: a worker result.
    """
    label, n = row["label"], row["n"]
    notes = []
    if row.get("timed_out"):
        notes.append(
            f"{label} N={n}: {row['timed_out']} trigger(s) had not fired {bench.grace:g} s after the jobs "
            f"ended and were cancelled; {row['started_triggers']}/{n} had polled."
        )
    if row.get("startup_s") is None:
        notes.append(
            f"{label} N={n}: only {row.get('started_triggers')}/{n} triggers ever asked for their job's status."
        )
    elif not row.get("steady_periods"):
        notes.append(
            f"{label} N={n}: not every first answer was in {bench.startup_timeout:g} s after launch "
            f"({row.get('answered_triggers')}/{n}): the jobs ended then, without a steady state to measure."
        )
    for operation, summary in (row.get("server_ms_steady_by_operation") or {}).items():
        # a List page of 100 jobs takes tens of ms by itself; a Describe queues only when the server is busy
        if operation.startswith("Describe") and summary and summary["p50"] > SERVER_SATURATED_MS:
            notes.append(
                f"{label} N={n}: LocalSageMaker's median answer to {operation} was {summary['p50']:.0f} ms in "
                "the steady state (server-side, its lock wait included): the server, not only the trigger, "
                "limits the poll rate here."
            )
    if row.get("missing_events"):
        notes.append(
            f"{label} N={n}: {row['missing_events']} trigger(s) never fired; job end → event percentiles "
            "that fall among them are shown as `> grace`."
        )
    if row.get("error_count"):
        notes.append(f"{label} N={n}: {row['error_count']} trigger task(s) raised, e.g. {row['errors']}.")
    if row.get("foreign_requests"):
        notes.append(
            f"{label} N={n}: {row['foreign_requests']} request(s) were not signed by the connection."
        )
    return notes


def versions() -> str:
    """Versions of the packages under test."""
    from importlib.metadata import PackageNotFoundError, version

    parts = []
    for dist in (
        "apache-airflow",
        "apache-airflow-providers-amazon",
        "aiobotocore",
        "airflow-provider-smtrain",
    ):
        try:
            parts.append(f"{dist} {version(dist)}")
        except PackageNotFoundError:
            continue
    return ", ".join(parts)


def add_marginal_rss(rows: list[dict[str, Any]]) -> None:
    """
    Set ``rss_marginal_per_trigger_mib`` on each row: the RSS one more trigger costs, from the previous N.

    ``(delta(N) - delta(N_prev)) / (N - N_prev)`` where delta is the RSS the triggers added in the
    worker and N_prev the next smaller N run for the provider; this removes one-time costs (the first
    client, the service model) that dominate ``rss_per_trigger_mib`` at small N.

    :param rows: worker results (changed in place).
    """
    for provider in PROVIDERS:
        measured = sorted(
            (r for r in rows if r["provider"] == provider and r.get("rss_delta_mib") is not None),
            key=lambda r: r["n"],
        )
        for previous, row in zip(measured, measured[1:], strict=False):
            if row["n"] > previous["n"]:
                marginal = (row["rss_delta_mib"] - previous["rss_delta_mib"]) / (row["n"] - previous["n"])
                row["rss_marginal_per_trigger_mib"] = round(marginal, 4)

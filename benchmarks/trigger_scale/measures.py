"""What the worker derives from the loop's samples: interpolated CPU/RSS, stall and latency summaries."""

from __future__ import annotations

import statistics
from typing import Any

from benchmarks.trigger_scale.common import AIRFLOW_BLOCK_WARNING_SECONDS, percentile
from benchmarks.trigger_scale.loop import Tick


def interpolate(ticks: list[Tick], t: float, attr: str) -> float | None:
    """
    A ticker quantity (``cpu`` or ``rss``) at time ``t``, linearly interpolated; None outside the samples.

    :param ticks: the ticker's samples, in time order.
    :param t: epoch seconds.
    :param attr: ``cpu`` or ``rss``.
    """
    if not ticks or t < ticks[0].t or t > ticks[-1].t:
        return None
    for before, after in zip(ticks, ticks[1:], strict=False):
        if before.t <= t <= after.t:
            span = after.t - before.t
            a, b = float(getattr(before, attr)), float(getattr(after, attr))
            return a if span <= 0 else a + (b - a) * (t - before.t) / span
    return float(getattr(ticks[-1], attr))


def stall_summary(
    ticks: list[Tick], start: float, end: float, launch: float, gc_pauses: list[tuple[float, int, float]]
) -> dict[str, Any]:
    """
    Loop lateness of the ticks that woke up in ``[start, end]``, with the worst five and the GC pauses in them.

    :param ticks: the ticker's samples.
    :param start: epoch seconds.
    :param end: epoch seconds.
    :param launch: epoch seconds of the launch (times in the summary are relative to it).
    :param gc_pauses: ``(epoch seconds, generation, seconds)`` of the collections.
    """
    inside = [tick for tick in ticks if start <= tick.t <= end]
    lates = [tick.late for tick in inside]
    if not lates:
        return {"ticks": 0, "worst_s": None, "p99_s": None, "blocked_over_0_2_s": None}
    worst = sorted(inside, key=lambda tick: tick.late, reverse=True)[:5]
    pauses = [(at, gen, took) for at, gen, took in gc_pauses if start <= at <= end]
    return {
        "ticks": len(lates),
        "worst_s": round(max(lates), 4),
        "p99_s": round(percentile(lates, 0.99) or 0.0, 4),
        # time spent in ticks later than Airflow's warning threshold (a lower bound on blocked time)
        "blocked_over_0_2_s": round(sum(late for late in lates if late > AIRFLOW_BLOCK_WARNING_SECONDS), 3),
        "worst_ticks": [{"at_s": round(tick.t - launch, 2), "late_s": round(tick.late, 4)} for tick in worst],
        "gc_collections": len(pauses),
        "gc_worst_s": round(max((took for _a, _g, took in pauses), default=0.0), 4),
        "gc_worst": [
            {"at_s": round(at - launch, 2), "generation": gen, "took_s": round(took, 4)}
            for at, gen, took in sorted(pauses, key=lambda p: p[2], reverse=True)[:3]
        ],
    }


def latency_summary(values: list[float]) -> dict[str, Any] | None:
    """
    Count, mean, median, p99 and max of server-side answer times (ms); None for none.

    :param values: milliseconds.
    """
    if not values:
        return None
    return {
        "count": len(values),
        "mean": round(statistics.fmean(values), 2),
        "p50": round(percentile(values, 0.5) or 0.0, 2),
        "p99": round(percentile(values, 0.99) or 0.0, 2),
        "max": round(max(values), 2),
    }

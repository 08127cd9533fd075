"""The acceptance check of issue #8 at N=1000: PASS/FAIL per target, from the measured numbers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from benchmarks.trigger_scale.common import PAIRS, BenchConfig

#: The N the targets are checked at.
ACCEPTANCE_N = 1000


@dataclass(frozen=True)
class Target:
    """
    One acceptance target.

    :param title: what is checked.
    :param measure: (ours row, amazon row, poll seconds) -> the measured value, or None when missing.
    :param limit: (poll seconds) -> the largest value that passes.
    :param unit: ``×`` for a ratio ours / amazon, else the unit of an absolute value of ours.
    """

    title: str
    measure: Callable[[dict[str, Any], dict[str, Any], float], float | None]
    limit: Callable[[float], float]
    unit: str


def _ratio(
    key: Callable[[dict[str, Any]], Any],
) -> Callable[[dict[str, Any], dict[str, Any], float], float | None]:
    """
    ``ours / amazon`` of one measurement; None when either is missing or amazon's is 0.

    :param key: reads the measurement from a row.
    """

    def measure(ours: dict[str, Any], amazon: dict[str, Any], _poll: float) -> float | None:
        a, b = key(ours), key(amazon)
        if not isinstance(a, int | float) or not isinstance(b, int | float) or b == 0:
            return None
        return float(a) / float(b)

    return measure


def _ours(
    key: Callable[[dict[str, Any]], Any],
) -> Callable[[dict[str, Any], dict[str, Any], float], float | None]:
    """
    One measurement of ours, absolute.

    :param key: reads the measurement from a row.
    """

    def measure(ours: dict[str, Any], _amazon: dict[str, Any], _poll: float) -> float | None:
        value = key(ours)
        return float(value) if isinstance(value, int | float) else None

    return measure


def _stall_ms(phase: str) -> Callable[[dict[str, Any]], float | None]:
    """
    Worst loop stall of a row in ``phase`` (``stall_startup`` or ``stall_steady``), in ms.

    :param phase: the JSON key of the phase.
    """

    def read(row: dict[str, Any]) -> float | None:
        worst = (row.get(phase) or {}).get("worst_s")
        return None if worst is None else worst * 1000.0

    return read


TARGETS = (
    Target("peak RSS, ours / amazon", _ratio(lambda r: r.get("peak_rss_mib")), lambda _p: 0.10, "×"),
    Target(
        "requests per job per poll, ours / amazon",
        _ratio(lambda r: r.get("requests_per_job_per_poll")),
        lambda _p: 0.05,
        "×",
    ),
    Target(
        "CPU per minute in the steady state, ours / amazon",
        _ratio(lambda r: r.get("cpu_steady_per_60s")),
        lambda _p: 0.10,
        "×",
    ),
    Target(
        "worst event-loop stall at start-up, ours", _ours(_stall_ms("stall_startup")), lambda _p: 100.0, " ms"
    ),
    Target(
        "worst event-loop stall in the steady state, ours",
        _ours(_stall_ms("stall_steady")),
        lambda _p: 100.0,
        " ms",
    ),
    Target(
        "job end → event p99, ours (≤ one poll interval)",
        _ours(lambda r: r.get("latency_p99_s")),
        lambda poll: poll,
        " s",
    ),
)


def check(ours: dict[str, Any], amazon: dict[str, Any], poll: float) -> list[dict[str, Any]]:
    """
    Every target for one pair of rows: title, measured value, limit, unit and verdict.

    A target whose value could not be measured (a failed worker, no steady state) is ``FAIL``.

    :param ours: our worker result.
    :param amazon: the amazon provider's worker result.
    :param poll: the poll interval, seconds.
    """
    verdicts = []
    for target in TARGETS:
        usable = "failed" not in ours and "failed" not in amazon
        value = target.measure(ours, amazon, poll) if usable else None
        limit = target.limit(poll)
        verdicts.append(
            {
                "target": target.title,
                "value": value,
                "limit": limit,
                "unit": target.unit,
                "verdict": "PASS" if value is not None and value <= limit else "FAIL",
            }
        )
    return verdicts


def acceptance_verdicts(
    bench: BenchConfig, rows: list[dict[str, Any]], n: int = ACCEPTANCE_N
) -> dict[str, list[dict[str, Any]]]:
    """
    The verdicts of :func:`check` per job kind at N=``n`` (for the JSON).

    :param bench: the benchmark configuration.
    :param rows: worker results.
    :param n: the N the targets apply to.
    """
    at_n = {row["provider"]: row for row in rows if row["n"] == n}
    return {
        kind: check(at_n[ours], at_n[amazon], bench.poll)
        for kind, ours, amazon in PAIRS
        if ours in at_n and amazon in at_n
    }


def _number(value: float | None, unit: str) -> str:
    """
    A value for the acceptance lines.

    :param value: the number (None: not measured).
    :param unit: ``×``, `` ms`` or `` s``.
    """
    if value is None:
        return "not measured"
    digits = 3 if unit == "×" else (0 if unit == " ms" else 2)
    return f"{value:.{digits}f}{unit}"


def acceptance_section(bench: BenchConfig, rows: list[dict[str, Any]], n: int = ACCEPTANCE_N) -> str:
    """
    The acceptance check as markdown: one PASS/FAIL line per target and job kind at N=``n``.

    :param bench: the benchmark configuration.
    :param rows: worker results.
    :param n: the N the targets apply to.
    """
    lines = [f"### Acceptance check at N={n} (issue #8)", ""]
    at_n = {row["provider"]: row for row in rows if row["n"] == n}
    checked = False
    for kind, ours_name, amazon_name in PAIRS:
        ours, amazon = at_n.get(ours_name), at_n.get(amazon_name)
        if ours is None or amazon is None:
            continue
        checked = True
        for item in check(ours, amazon, bench.poll):
            limit = _number(item["limit"], item["unit"])
            lines.append(
                f"- {kind}: {item['target']}: {_number(item['value'], item['unit'])} "
                f"(target ≤ {limit}): **{item['verdict']}**"
            )
    if not checked:
        lines.append(f"- not checked: this run has no ours/amazon pair at N={n}.")
    return "\n".join(lines) + "\n"

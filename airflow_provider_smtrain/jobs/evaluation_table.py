"""The metrics of evaluation results as a plain text table (task logs, the demo): base, tuned and delta."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["format_metrics"]


def format_metrics(results: Iterable[Mapping[str, Any]] | Mapping[str, Any]) -> str:
    """
    The metrics of one or more evaluation results as a text table: base, tuned and delta side by side.

    :param results: an evaluation result or a list of them.
    """
    items = [results] if isinstance(results, Mapping) else list(results)
    header = ("benchmark", "subtask", "metric", "base", "tuned", "delta")
    lines: list[tuple[str, ...]] = [header]
    for result in items:
        for row in result.get("metrics") or []:
            cells = [_cell(row[side], signed=side == "delta") for side in ("base", "tuned", "delta")]
            lines.append((str(row["benchmark"]), str(row["subtask"] or "all"), str(row["metric"]), *cells))
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in lines)


def _cell(value: float | None, signed: bool) -> str:
    if value is None:
        return "-"
    return f"{value:+.4f}" if signed else f"{value:.4f}"

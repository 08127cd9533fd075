"""Judge evaluation results against thresholds: the pure logic of ``EvaluationGateOperator``.

Thresholds are ``{address: rule}``. An address names metric rows of the evaluation results
(``docs/outputs.md``, Evaluation result): ``benchmark/subtask/metric`` (``mmlu/all/acc``, with ``all``
for the overall metrics), ``benchmark/metric`` (the overall ``metric`` of one benchmark) or ``metric``
(the overall ``metric`` of every benchmark); each part may hold ``fnmatch`` globs (``mmlu/*/acc``).
A rule is a number (the tuned model's minimum) or a dict of:

* ``min`` / ``max``: bounds of the value of ``side`` (``"tuned"``, the default, or ``"base"``);
* ``min_delta`` / ``max_delta``: bounds of ``tuned - base`` (both sides must have been evaluated).

Every bound of every matched row is one check; the gate passes when every check passes. A value that is
missing (that side was not evaluated) fails its check. An address that matches no row is an error that
lists the available addresses.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

__all__ = ["GateRule", "format_checks", "judge", "parse_thresholds", "rows_of"]

BOUNDS = ("min", "max", "min_delta", "max_delta")
SIDES = ("tuned", "base")
_RULE_KEYS = (*BOUNDS, "side")


@dataclass(frozen=True)
class GateRule:
    """
    One threshold: an address and its bounds.

    :param address: the address as written (``mmlu/*/acc``, ``acc``...).
    :param pattern: ``(benchmark, subtask, metric)`` globs the address stands for.
    :param bounds: ``{"min"|"max"|"min_delta"|"max_delta": threshold}``.
    :param side: the side ``min``/``max`` apply to.
    """

    address: str
    pattern: tuple[str, str, str]
    bounds: dict[str, float]
    side: str = "tuned"


def _pattern(address: str) -> tuple[str, str, str]:
    parts = address.split("/")
    if not address or any(not part for part in parts):
        raise ValueError(
            f"thresholds: address {address!r} is not 'metric', 'benchmark/metric' or 'benchmark/subtask/metric'"
        )
    if len(parts) == 1:
        return "*", "all", parts[0]
    if len(parts) == 2:
        return parts[0], "all", parts[1]
    return parts[0], "/".join(parts[1:-1]), parts[-1]


def _threshold(address: str, name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"thresholds[{address!r}].{name}: expected a number, got {type(value).__name__} {value!r}")
    return float(value)


def parse_thresholds(thresholds: Mapping[str, Any] | str) -> list[GateRule]:
    """
    The rules of a thresholds spec, with clear errors for what is malformed.

    :param thresholds: ``{address: number or {"min", "max", "min_delta", "max_delta", "side"}}``, or that
        mapping as a JSON string (a rendered template).
    """
    if isinstance(thresholds, str):
        text = thresholds
        try:
            thresholds = json.loads(text)
        except ValueError:
            raise ValueError(f"thresholds: not a JSON object: {text[:80]!r}") from None
    if not isinstance(thresholds, Mapping) or not thresholds:
        raise TypeError(
            "thresholds: expected a non-empty dict {address: min or {min, max, min_delta, max_delta, side}}, "
            f"got {thresholds!r}"
        )
    rules = []
    for address, rule in thresholds.items():
        if not isinstance(address, str):
            raise TypeError(f"thresholds: address {address!r} is not a string")
        pattern = _pattern(address)
        if not isinstance(rule, Mapping):
            rules.append(GateRule(address, pattern, {"min": _threshold(address, "min", rule)}))
            continue
        unknown = sorted(set(rule) - set(_RULE_KEYS))
        if unknown:
            raise ValueError(f"thresholds[{address!r}]: unknown key(s) {unknown}; accepted: {', '.join(_RULE_KEYS)}")
        bounds = {name: _threshold(address, name, rule[name]) for name in BOUNDS if name in rule}
        if not bounds:
            raise ValueError(f"thresholds[{address!r}]: no bound; give at least one of {', '.join(BOUNDS)}")
        side = rule.get("side", "tuned")
        if side not in SIDES:
            raise ValueError(f"thresholds[{address!r}].side: {side!r} is not one of {', '.join(SIDES)}")
        for low, high in (("min", "max"), ("min_delta", "max_delta")):
            if low in bounds and high in bounds and bounds[low] > bounds[high]:
                raise ValueError(f"thresholds[{address!r}]: {low} {bounds[low]} is above {high} {bounds[high]}")
        rules.append(GateRule(address, pattern, bounds, side))
    return rules


def rows_of(results: Any) -> list[tuple[int, dict[str, Any]]]:
    """
    ``(index of the result, metric row)`` of one evaluation result or of a list (nested lists are flattened).

    :param results: an evaluation result dict, or an iterable of them (e.g. a mapped task's XCom).
    """
    flat: list[Any] = []

    def add(item: Any) -> None:
        if isinstance(item, Mapping):
            flat.append(item)
        elif isinstance(item, Iterable) and not isinstance(item, str | bytes):
            for inner in item:
                add(inner)
        else:
            raise TypeError(f"results: expected evaluation results (dicts), got {type(item).__name__} {item!r}")

    add(results)
    if not flat:
        raise ValueError("results: no evaluation result to judge")
    rows: list[tuple[int, dict[str, Any]]] = []
    for index, result in enumerate(flat):
        if not isinstance(result.get("metrics"), list):
            raise ValueError(
                f"results[{index}]: not an evaluation result (no 'metrics' list); keys: {sorted(result)[:12]}"
            )
        rows.extend((index, dict(row)) for row in result["metrics"])
    return rows


def _address(row: Mapping[str, Any]) -> str:
    return f"{row['benchmark']}/{row['subtask'] or 'all'}/{row['metric']}"


def _matches(pattern: tuple[str, str, str], row: Mapping[str, Any]) -> bool:
    values = (str(row["benchmark"]), str(row["subtask"] or "all"), str(row["metric"]))
    return all(fnmatchcase(value, glob) for value, glob in zip(values, pattern, strict=True))


def _check(rule: GateRule, bound: str, index: int, row: Mapping[str, Any]) -> dict[str, Any]:
    is_delta = bound.endswith("_delta")
    side = "delta" if is_delta else rule.side
    value = row.get(side)
    threshold = rule.bounds[bound]
    passed = value is not None and (value >= threshold if bound.startswith("min") else value <= threshold)
    return {
        "rule": rule.address,
        "address": _address(row),
        "result_index": index,
        "side": side,
        "bound": bound,
        "value": value,
        "threshold": threshold,
        "passed": passed,
    }


def judge(results: Any, thresholds: Mapping[str, Any] | str | list[GateRule]) -> dict[str, Any]:
    """
    Judge evaluation results: ``{"passed": bool, "checks": [...]}`` with one check per rule, bound and row.

    :param results: an evaluation result or a list of them.
    :param thresholds: the thresholds spec (or rules from :func:`parse_thresholds`).
    """
    rules = thresholds if isinstance(thresholds, list) else parse_thresholds(thresholds)
    rows = rows_of(results)
    checks: list[dict[str, Any]] = []
    for rule in rules:
        matched = [(index, row) for index, row in rows if _matches(rule.pattern, row)]
        if not matched:
            available = sorted({_address(row) for _, row in rows})
            raise ValueError(
                f"thresholds: {rule.address!r} matches no metric of the evaluation results; available: "
                + (", ".join(available) or "none (the results hold no metrics)")
            )
        for bound in BOUNDS:
            if bound in rule.bounds:
                checks.extend(_check(rule, bound, index, row) for index, row in matched)
    return {"passed": all(check["passed"] for check in checks), "checks": checks}


def _number(value: float | None, signed: bool) -> str:
    if value is None:
        return "missing"
    return f"{value:+.4f}" if signed else f"{value:.4f}"


def format_checks(gate: Mapping[str, Any]) -> str:
    """
    A readable table of every check (address, side, rule, value, threshold, PASS/FAIL) and the verdict.

    :param gate: what :func:`judge` returned.
    """
    checks = gate["checks"]
    header = ("metric", "side", "rule", "value", "threshold", "result")
    lines = [header]
    for check in checks:
        signed = check["side"] == "delta"
        operator = ">=" if check["bound"].startswith("min") else "<="
        address = check["address"] + (f" [{check['result_index']}]" if check["result_index"] else "")
        lines.append(
            (
                address,
                check["side"],
                f"{operator} {check['bound']}",
                _number(check["value"], signed),
                _number(check["threshold"], signed),
                "PASS" if check["passed"] else "FAIL",
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    failed = sum(not check["passed"] for check in checks)
    verdict = "PASSED" if gate["passed"] else "FAILED"
    table = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip() for line in lines]
    return "\n".join([f"Evaluation gate {verdict}: {len(checks) - failed} of {len(checks)} checks passed", *table])

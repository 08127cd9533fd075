"""Paging of List* responses, as SageMaker does it: validate ``MaxResults``, resume at ``NextToken``."""

from __future__ import annotations

from typing import Any, TypeVar

T = TypeVar("T")

DEFAULT_MAX_RESULTS = 10
MAX_RESULTS = 100


def max_results_violation(max_results: int) -> str | None:
    """
    SageMaker's message for an out-of-range ``MaxResults``, or ``None``.

    :param max_results: The requested page size.
    """
    if 1 <= max_results <= MAX_RESULTS:
        return None
    return (
        f"Value '{max_results}' at 'maxResults' failed to satisfy constraint: "
        f"Member must have value less than or equal to {MAX_RESULTS}"
    )


def page(items: list[T], key: str, max_results: Any, next_token: Any) -> dict[str, Any]:
    """
    One page of ``items`` (already filtered and sorted) as ``{key: [...], "NextToken": ...}``.

    :param items: Everything the listing holds.
    :param key: Response member of the page, e.g. ``TrainingJobSummaries``.
    :param max_results: ``MaxResults`` of the request (``None`` = the default, 10).
    :param next_token: ``NextToken`` of the request (an offset this module issued), or ``None``.
    :raises ValueError: Invalid ``MaxResults`` or token (message like AWS).
    """
    size = int(max_results or DEFAULT_MAX_RESULTS)
    violation = max_results_violation(size)
    if violation is not None:
        raise ValueError(f"1 validation error detected: {violation}")
    try:
        start = int(next_token) if next_token else 0
    except ValueError:
        raise ValueError("Invalid pagination token.") from None
    result: dict[str, Any] = {key: items[start : start + size]}
    if start + size < len(items):
        result["NextToken"] = str(start + size)
    return result

"""What every SageMaker List* call of jobs does to its request: validate, filter by time and status, sort, page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from airflow_provider_smtrain.testing.engine.timeline import to_datetime
from airflow_provider_smtrain.testing.services.paging import DEFAULT_MAX_RESULTS, max_results_violation, page

SORT_ORDER = ("Ascending", "Descending")
#: The request parameters :func:`list_jobs` reads.
LIST_PARAMS = (
    "NameContains",
    "StatusEquals",
    "CreationTimeAfter",
    "CreationTimeBefore",
    "LastModifiedTimeAfter",
    "LastModifiedTimeBefore",
    "SortBy",
    "SortOrder",
    "MaxResults",
    "NextToken",
)
#: Time filters: request parameter -> (job attribute, keep(value, bound)).
TIME_BOUNDS: dict[str, tuple[str, Callable[[datetime, datetime], bool]]] = {
    "CreationTimeAfter": ("creation_time", lambda value, bound: value > bound),
    "CreationTimeBefore": ("creation_time", lambda value, bound: value < bound),
    "LastModifiedTimeAfter": ("last_modified_time", lambda value, bound: value > bound),
    "LastModifiedTimeBefore": ("last_modified_time", lambda value, bound: value < bound),
}


def list_jobs(
    jobs: list[Any],
    params: dict[str, Any],
    *,
    name: Callable[[Any], str],
    status: Callable[[Any], str],
    statuses: tuple[str, ...],
    default_sort: str,
    summaries_key: str,
    summary: Callable[[Any], dict[str, Any]],
) -> dict[str, Any]:
    """
    One page of a List* response over ``jobs`` (moto objects already brought up to date).

    ``SortBy`` is ``Name``, ``CreationTime`` or ``Status`` (ties broken by name); ``NameContains``,
    ``StatusEquals`` and the four time bounds filter first. Every invalid parameter is named in one
    ``ValueError`` (message like AWS).

    :param jobs: the account's and region's jobs of one kind.
    :param params: request parameters (:data:`LIST_PARAMS`).
    :param name: a job's name.
    :param status: a job's status.
    :param statuses: the statuses ``StatusEquals`` accepts.
    :param default_sort: ``SortBy`` when the request has none.
    :param summaries_key: response member of the page.
    :param summary: a job's summary.
    :raises ValueError: invalid parameters.
    """
    sort_by = params.get("SortBy") or default_sort
    sort_order = params.get("SortOrder") or "Ascending"
    wanted = params.get("StatusEquals")
    errors = []
    if sort_by not in ("Name", "CreationTime", "Status"):
        errors.append(enum_error(sort_by, "sortBy", ("Name", "CreationTime", "Status")))
    if sort_order not in SORT_ORDER:
        errors.append(enum_error(sort_order, "sortOrder", SORT_ORDER))
    if wanted is not None and wanted not in statuses:
        errors.append(enum_error(wanted, "statusEquals", statuses))
    size_violation = max_results_violation(int(params.get("MaxResults") or DEFAULT_MAX_RESULTS))
    if size_violation is not None:
        errors.append(size_violation)
    if errors:
        noun = "error" if len(errors) == 1 else "errors"
        raise ValueError(f"{len(errors)} validation {noun} detected: " + "; ".join(errors))

    contains = params.get("NameContains")
    if contains:
        jobs = [job for job in jobs if contains in name(job)]
    for param, (attr, keep) in TIME_BOUNDS.items():
        if params.get(param) is not None:
            bound = as_datetime(params[param])
            jobs = [job for job in jobs if keep(getattr(job, attr), bound)]
    if wanted is not None:
        jobs = [job for job in jobs if status(job) == wanted]
    sort_key: Callable[[Any], Any] = {
        "Name": name,
        "Status": lambda job: (status(job), name(job)),
        "CreationTime": lambda job: (job.creation_time, name(job)),
    }[sort_by]
    jobs = sorted(jobs, key=sort_key, reverse=sort_order == "Descending")
    return page([summary(job) for job in jobs], summaries_key, params.get("MaxResults"), params.get("NextToken"))


def as_datetime(value: Any) -> datetime:
    """
    A request timestamp (epoch seconds from awsJson, or ISO 8601) as moto's naive-UTC datetime.

    :param value: the request value.
    """
    if isinstance(value, int | float):
        return to_datetime(float(value))
    if isinstance(value, datetime):
        return to_datetime(value.timestamp()) if value.tzinfo else value
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return to_datetime(parsed.timestamp()) if parsed.tzinfo else parsed


def enum_error(value: str, member: str, allowed: tuple[str, ...]) -> str:
    """
    SageMaker's message for a value outside an enum.

    :param value: the request value.
    :param member: the request member, camelCase.
    :param allowed: the accepted values.
    """
    return (
        f"Value '{value}' at '{member}' failed to satisfy constraint: "
        f"Member must satisfy enum value set: [{', '.join(allowed)}]"
    )

"""ListTrainingJobs as SageMaker answers it: filter, then sort, then page (server process only)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow_provider_smtrain.testing.engine.timeline import to_datetime
from airflow_provider_smtrain.testing.services.paging import DEFAULT_MAX_RESULTS, max_results_violation, page
from airflow_provider_smtrain.testing.services.training.lifecycle import TrainingService
from airflow_provider_smtrain.testing.services.tuning.lifecycle import TuningService

SORT_BY = ("Name", "CreationTime", "Status")
SORT_ORDER = ("Ascending", "Descending")
STATUSES = ("InProgress", "Completed", "Failed", "Stopping", "Stopped", "Deleting")
#: The request parameters :func:`list_training_jobs` reads.
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


def list_training_jobs(
    training: TrainingService, tuning: TuningService, account_id: str, region: str, params: dict[str, Any]
) -> dict[str, Any]:
    """
    The ListTrainingJobs response for one account and region.

    Only the jobs that pass ``NameContains`` are brought up to date (due tuning children are created
    first), so a listing costs what it lists.

    :param training: The training service.
    :param tuning: The tuning service (due children are created before listing).
    :param account_id: Account of the caller.
    :param region: Region of the call.
    :param params: Request parameters (``NameContains``, ``StatusEquals``, ``CreationTimeAfter`` ...).
    :raises ValueError: Invalid parameters (message like AWS).
    """
    sort_by = params.get("SortBy") or "CreationTime"
    sort_order = params.get("SortOrder") or "Ascending"
    status = params.get("StatusEquals")
    errors = []
    if sort_by not in SORT_BY:
        errors.append(_enum_error(sort_by, "sortBy", SORT_BY))
    if sort_order not in SORT_ORDER:
        errors.append(_enum_error(sort_order, "sortOrder", SORT_ORDER))
    if status is not None and status not in STATUSES:
        errors.append(_enum_error(status, "statusEquals", STATUSES))
    size_violation = max_results_violation(int(params.get("MaxResults") or DEFAULT_MAX_RESULTS))
    if size_violation is not None:
        errors.append(size_violation)
    if errors:
        noun = "error" if len(errors) == 1 else "errors"
        raise ValueError(f"{len(errors)} validation {noun} detected: " + "; ".join(errors))

    tuning.touch_region(account_id, region)
    contains = params.get("NameContains")
    sims = [
        sim
        for (account, reg, name), sim in training.jobs.items()
        if (account, reg) == (account_id, region) and (not contains or contains in name)
    ]
    for sim in sims:
        training.touch(sim.key)
    jobs = [sim.job for sim in sims]
    bounds = {
        "CreationTimeAfter": ("creation_time", lambda value, bound: value > bound),
        "CreationTimeBefore": ("creation_time", lambda value, bound: value < bound),
        "LastModifiedTimeAfter": ("last_modified_time", lambda value, bound: value > bound),
        "LastModifiedTimeBefore": ("last_modified_time", lambda value, bound: value < bound),
    }
    for param, (attr, keep) in bounds.items():
        if params.get(param) is not None:
            bound = _as_datetime(params[param])
            jobs = [job for job in jobs if keep(getattr(job, attr), bound)]
    if status is not None:
        jobs = [job for job in jobs if job.training_job_status == status]
    if sort_by == "Name":
        jobs.sort(key=lambda job: job.training_job_name)
    elif sort_by == "Status":
        jobs.sort(key=lambda job: (job.training_job_status, job.training_job_name))
    else:
        jobs.sort(key=lambda job: (job.creation_time, job.training_job_name))
    if sort_order == "Descending":
        jobs.reverse()
    return page(
        [_summary(job) for job in jobs],
        "TrainingJobSummaries",
        params.get("MaxResults"),
        params.get("NextToken"),
    )


def _summary(job: Any) -> dict[str, Any]:
    summary = {
        "TrainingJobName": job.training_job_name,
        "TrainingJobArn": job.arn,
        "CreationTime": job.creation_time,
        "LastModifiedTime": job.last_modified_time,
        "TrainingJobStatus": job.training_job_status,
        "SecondaryStatus": job.secondary_status,
    }
    if job.training_end_time is not None:
        summary["TrainingEndTime"] = job.training_end_time
    return summary


def _as_datetime(value: Any) -> datetime:
    """A request timestamp (epoch seconds from awsJson, or ISO 8601) as moto's naive-UTC datetime."""
    if isinstance(value, int | float):
        return to_datetime(float(value))
    if isinstance(value, datetime):
        return to_datetime(value.timestamp()) if value.tzinfo else value
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return to_datetime(parsed.timestamp()) if parsed.tzinfo else parsed


def _enum_error(value: str, member: str, allowed: tuple[str, ...]) -> str:
    return (
        f"Value '{value}' at '{member}' failed to satisfy constraint: "
        f"Member must satisfy enum value set: [{', '.join(allowed)}]"
    )

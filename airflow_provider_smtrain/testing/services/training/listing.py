"""ListTrainingJobs as SageMaker answers it: filter, then sort, then page (server process only)."""

from __future__ import annotations

from typing import Any

from airflow_provider_smtrain.testing.services.listing import LIST_PARAMS, list_jobs
from airflow_provider_smtrain.testing.services.training.lifecycle import TrainingService
from airflow_provider_smtrain.testing.services.tuning.lifecycle import TuningService

__all__ = ["LIST_PARAMS", "STATUSES", "list_training_jobs"]

STATUSES = ("InProgress", "Completed", "Failed", "Stopping", "Stopped", "Deleting")


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
    tuning.touch_region(account_id, region)
    contains = params.get("NameContains")
    sims = [
        sim
        for (account, reg, name), sim in training.jobs.items()
        if (account, reg) == (account_id, region) and (not contains or contains in name)
    ]
    for sim in sims:
        training.touch(sim.key)
    return list_jobs(
        [sim.job for sim in sims],
        params,
        name=lambda job: job.training_job_name,
        status=lambda job: job.training_job_status,
        statuses=STATUSES,
        default_sort="CreationTime",
        summaries_key="TrainingJobSummaries",
        summary=_summary,
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

"""ListHyperParameterTuningJobs as SageMaker answers it: filter, then sort, then page (server process only)."""

from __future__ import annotations

from typing import Any

from airflow_provider_smtrain.testing.services.listing import list_jobs
from airflow_provider_smtrain.testing.services.tuning.lifecycle import TuningService

STATUSES = ("Completed", "InProgress", "Failed", "Stopped", "Stopping", "Deleting", "DeleteFailed")


def list_tuning_jobs(tuning: TuningService, account_id: str, region: str, params: dict[str, Any]) -> dict[str, Any]:
    """
    The ListHyperParameterTuningJobs response for one account and region; jobs are brought up to date first.

    :param tuning: The tuning service.
    :param account_id: Account of the caller.
    :param region: Region of the call.
    :param params: Request parameters (``NameContains``, ``StatusEquals``, ``LastModifiedTimeAfter`` ...).
    :raises ValueError: Invalid parameters (message like AWS).
    """
    tuning.touch_region(account_id, region)
    sims = [sim for sim in tuning.jobs.values() if (sim.account_id, sim.region) == (account_id, region)]
    return list_jobs(
        [sim.job for sim in sims],
        params,
        name=lambda job: job.hyper_parameter_tuning_job_name,
        status=lambda job: job.hyper_parameter_tuning_job_status,
        statuses=STATUSES,
        default_sort="Name",
        summaries_key="HyperParameterTuningJobSummaries",
        summary=lambda job: {key: value for key, value in job.summary().items() if value is not None},
    )

"""Triggers that wait for SageMaker jobs in the triggerer, sharing one client per connection."""

from __future__ import annotations

from typing import Any

from airflow_provider_smtrain.jobs.catalog import trigger_class
from airflow_provider_smtrain.jobs.kinds import JobKind
from airflow_provider_smtrain.triggers.base import SageMakerJobTrigger
from airflow_provider_smtrain.triggers.jobs import TrainingJobTrigger, TuningJobTrigger

__all__ = ["SageMakerJobTrigger", "TrainingJobTrigger", "TuningJobTrigger", "trigger_for"]


def trigger_for(kind: JobKind, **kwargs: Any) -> SageMakerJobTrigger:
    """
    The trigger that waits for jobs of ``kind`` (the class the job catalog names), built with ``kwargs``.

    :param kind: the job kind.
    :param kwargs: the trigger's arguments (job_name, connection parameters, deadline, ...).
    """
    return trigger_class(kind)(**kwargs)

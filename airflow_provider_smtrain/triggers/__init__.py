"""Triggers that wait for SageMaker jobs in the triggerer, sharing one client per connection."""

from __future__ import annotations

from typing import Any, Protocol

from airflow_provider_smtrain.jobs.catalog import trigger_class
from airflow_provider_smtrain.jobs.kinds import JobKind
from airflow_provider_smtrain.triggers.base import SageMakerJobTrigger
from airflow_provider_smtrain.triggers.endpoint import EndpointTrigger
from airflow_provider_smtrain.triggers.jobs import AgentRFTJobTrigger, TrainingJobTrigger, TuningJobTrigger
from airflow_provider_smtrain.triggers.pipelines import PipelineExecutionTrigger
from airflow_provider_smtrain.triggers.registry import HubContentTrigger

__all__ = [
    "AgentRFTJobTrigger",
    "EndpointTrigger",
    "HubContentTrigger",
    "PipelineExecutionTrigger",
    "SageMakerJobTrigger",
    "TrainingJobTrigger",
    "TuningJobTrigger",
    "trigger_for",
    "trigger_for_task",
]


class AwsTask(Protocol):
    """What a trigger takes from the operator or sensor that defers to it: its connection settings."""

    @property
    def aws_conn_id(self) -> str | None:
        """The Airflow ``aws`` connection id (None: the default credential chain)."""

    @property
    def verify(self) -> bool | str | None:
        """SSL verification flag or CA bundle path."""

    @property
    def botocore_config(self) -> dict[str, Any] | None:
        """botocore client configuration."""


def trigger_for(kind: JobKind, **kwargs: Any) -> SageMakerJobTrigger:
    """
    The trigger that waits for jobs of ``kind`` (the class the job catalog names), built with ``kwargs``.

    :param kind: the job kind.
    :param kwargs: the trigger's arguments (job_name, connection parameters, deadline, ...).
    """
    return trigger_class(kind)(**kwargs)


def trigger_for_task(
    task: AwsTask, kind: JobKind, *, job_name: str, region_name: str, **options: Any
) -> SageMakerJobTrigger:
    """
    The trigger a task defers to: it connects exactly as the task does (connection, verify, botocore config).

    :param task: the deferring operator or sensor.
    :param kind: the job kind.
    :param job_name: the job to wait for.
    :param region_name: the region the task resolved (the trigger must not fall back to another).
    :param options: the waiting options: ``poll_interval``, ``deadline``, ``stop_on_deadline``,
        ``stop_on_kill``, retry settings.
    """
    return trigger_for(
        kind,
        job_name=job_name,
        aws_conn_id=task.aws_conn_id,
        region_name=region_name,
        verify=task.verify,
        botocore_config=task.botocore_config,
        **options,
    )

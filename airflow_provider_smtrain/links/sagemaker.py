"""Operator extra links to the SageMaker and CloudWatch console pages of a task's job.

Each link reads what the operator persisted to XCom right after the job was submitted or found
(``{"region_name", "aws_domain", "job_name"}``), so the link works while the task is still running or
deferred. The URLs come from :mod:`airflow_provider_smtrain.jobs.console`, the same builder the results'
``console_url`` and ``logs_url`` use. The base class, :class:`~airflow_provider_smtrain.links.base.ConsoleLink`,
stores and reads that XCom.
"""

from __future__ import annotations

from typing import Any, ClassVar

from airflow_provider_smtrain.jobs.console import (
    AGENT_RFT_LOG_GROUP,
    TRAINING_LOG_GROUP,
    console_url,
    log_console_url,
)
from airflow_provider_smtrain.jobs.kinds import AGENT_RFT, ENDPOINT, HUB_CONTENT, TRAINING, TUNING, JobKind
from airflow_provider_smtrain.links.base import ConsoleLink


class SageMakerJobLink(ConsoleLink):
    """Base of the links to a job's SageMaker console page; subclasses set ``job_kind``."""

    job_kind: ClassVar[JobKind]

    def format_link(self, **kwargs: Any) -> str:
        """
        The console URL of the persisted job, or ``""`` when the XCom lacks the region or the name.

        :param kwargs: what :meth:`persist` stored: ``region_name``, ``aws_domain``, ``job_name``.
        """
        region, name = kwargs.get("region_name"), kwargs.get("job_name")
        if not region or not name:
            return ""
        return console_url(self.job_kind, str(name), str(region))


class TrainingJobLink(SageMakerJobLink):
    """Link to the SageMaker console page of a training job."""

    name = "SageMaker Training Job"
    key = "smtrain_training_job"
    job_kind = TRAINING


class TuningJobLink(SageMakerJobLink):
    """Link to the SageMaker console page of a hyperparameter tuning job."""

    name = "SageMaker Tuning Job"
    key = "smtrain_tuning_job"
    job_kind = TUNING


class HubContentLink(SageMakerJobLink):
    """Link to the SageMaker console's hubs page, where the AI Registry hub of the content is listed."""

    name = "SageMaker AI Registry"
    key = "smtrain_hub_content"
    job_kind = HUB_CONTENT


class AgentRFTJobLink(SageMakerJobLink):
    """Link to the SageMaker console page of an AgentRFT job."""

    name = "SageMaker AgentRFT Job"
    key = "smtrain_agent_rft_job"
    job_kind = AGENT_RFT


class EndpointLink(SageMakerJobLink):
    """Link to the SageMaker console page of a real-time endpoint."""

    name = "SageMaker Endpoint"
    key = "smtrain_endpoint"
    job_kind = ENDPOINT


class TrainingLogsLink(ConsoleLink):
    """Link to the CloudWatch log streams of a training job."""

    name = "Training Job Logs"
    key = "smtrain_training_logs"
    #: The CloudWatch log group of the job kind.
    log_group: ClassVar[str] = TRAINING_LOG_GROUP

    def format_link(self, **kwargs: Any) -> str:
        """
        The CloudWatch console URL of the persisted job's log streams, or ``""`` when incomplete.

        :param kwargs: what :meth:`persist` stored: ``region_name``, ``aws_domain``, ``job_name``.
        """
        region, name = kwargs.get("region_name"), kwargs.get("job_name")
        if not region or not name:
            return ""
        return log_console_url(str(name), str(region), self.log_group)


class AgentRFTLogsLink(TrainingLogsLink):
    """Link to the CloudWatch log streams of an AgentRFT job."""

    name = "AgentRFT Job Logs"
    key = "smtrain_agent_rft_logs"
    log_group = AGENT_RFT_LOG_GROUP

"""Operator extra link to the SageMaker console page of a task's pipeline execution (an evaluation)."""

from __future__ import annotations

from typing import Any

from airflow_provider_smtrain.jobs.console import console_url
from airflow_provider_smtrain.jobs.kinds import PIPELINE_EXECUTION
from airflow_provider_smtrain.links.base import ConsoleLink


class PipelineExecutionLink(ConsoleLink):
    """Link to the SageMaker console page of a pipeline execution (persisted ``job_name`` is its ARN)."""

    name = "SageMaker Pipeline Execution"
    key = "smtrain_pipeline_execution"

    def format_link(self, **kwargs: Any) -> str:
        """
        The console URL of the persisted execution, or ``""`` when the XCom lacks the region or the ARN.

        :param kwargs: what :meth:`persist` stored: ``region_name``, ``aws_domain``, ``job_name`` (the ARN).
        """
        region, arn = kwargs.get("region_name"), kwargs.get("job_name")
        if not region or not arn:
            return ""
        return console_url(PIPELINE_EXECUTION, str(arn), str(region))

"""Operator extra link to the SageMaker console page of a task's pipeline execution (an evaluation)."""

from __future__ import annotations

from airflow_provider_smtrain.jobs.kinds import PIPELINE_EXECUTION
from airflow_provider_smtrain.links.sagemaker import SageMakerJobLink


class PipelineExecutionLink(SageMakerJobLink):
    """Link to the SageMaker console page of a pipeline execution (the persisted ``job_name`` is its ARN)."""

    name = "SageMaker Pipeline Execution"
    key = "smtrain_pipeline_execution"
    job_kind = PIPELINE_EXECUTION

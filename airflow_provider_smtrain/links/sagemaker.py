"""Operator extra links to the SageMaker and CloudWatch console pages of a task's job.

Each link reads what the operator persisted to XCom right after the job was submitted or found,
so the link works while the task is still running or deferred.
"""

from __future__ import annotations

from airflow.providers.amazon.aws.links.base_aws import BASE_AWS_CONSOLE_LINK, BaseAwsLink


class TrainingJobLink(BaseAwsLink):
    """Link to the SageMaker console page of a training job."""

    name = "SageMaker Training Job"
    key = "smtrain_training_job"
    format_str = BASE_AWS_CONSOLE_LINK + "/sagemaker/home?region={region_name}#/jobs/{job_name}"


class TuningJobLink(BaseAwsLink):
    """Link to the SageMaker console page of a hyperparameter tuning job."""

    name = "SageMaker Tuning Job"
    key = "smtrain_tuning_job"
    format_str = BASE_AWS_CONSOLE_LINK + "/sagemaker/home?region={region_name}#/hyper-tuning-jobs/{job_name}"


class TrainingLogsLink(BaseAwsLink):
    """Link to the CloudWatch log streams of a training job."""

    name = "Training Job Logs"
    key = "smtrain_training_logs"
    format_str = (
        BASE_AWS_CONSOLE_LINK + "/cloudwatch/home?region={region_name}#logStream:"
        "group=/aws/sagemaker/TrainingJobs;prefix={job_name};streamFilter=typeLogStreamPrefix"
    )

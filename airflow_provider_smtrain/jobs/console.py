"""The one place that builds AWS console URLs and knows where SageMaker writes training logs.

Results (:mod:`~airflow_provider_smtrain.jobs.outputs`), operator extra links
(:mod:`~airflow_provider_smtrain.links.sagemaker`) and log messages all take their URLs from here,
so a link and a result can never point at two different pages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from airflow_provider_smtrain.jobs.kinds import JobKind

#: CloudWatch log group of every SageMaker training job (one stream per instance: ``<job>/algo-<n>-<epoch>``).
TRAINING_LOG_GROUP = "/aws/sagemaker/TrainingJobs"
#: CloudWatch log group of AgentRFT jobs (``CreateJob``; streams are prefixed with the job name).
AGENT_RFT_LOG_GROUP = "/aws/sagemaker/Job/AgentRFT"


def console_domain(region: str) -> str:
    """
    The AWS console host for a region's partition.

    :param region: the AWS region.
    """
    if region.startswith("cn-"):
        return f"{region}.console.amazonaws.cn"
    if region.startswith("us-gov-"):
        return f"{region}.console.amazonaws-us-gov.com"
    return f"{region}.console.aws.amazon.com"


def console_url(kind: JobKind, name: str, region: str, **fields: str) -> str:
    """
    SageMaker console page of a job.

    :param kind: the job kind; its ``console_fragment`` is formatted with ``name`` and ``fields``.
    :param name: the job name (or, for kinds identified by ARN, the name the fragment shows).
    :param region: the AWS region of the job.
    :param fields: further values the kind's fragment needs (e.g. an execution id).
    """
    derived = kind.console_fields(name) if kind.console_fields is not None else {}
    fragment = kind.console_fragment.format(name=name, **{**derived, **fields})
    return f"https://{console_domain(region)}/sagemaker/home?region={region}#/{fragment}"


def log_console_url(job_name: str, region: str, group: str = TRAINING_LOG_GROUP) -> str:
    """
    CloudWatch console page of a job's log streams.

    :param job_name: the job name (its streams' prefix).
    :param region: the AWS region of the job.
    :param group: the log group (default: training jobs').
    """
    return (
        f"https://{console_domain(region)}/cloudwatch/home?region={region}"
        f"#logStream:group={group};prefix={job_name};streamFilter=typeLogStreamPrefix"
    )


def model_package_console_url(arn: str, region: str) -> str:
    """
    SageMaker console page of a model package version (the model registry).

    :param arn: the model package ARN (``...:model-package/<group>/<version>``).
    :param region: the AWS region of the package.
    """
    group, _, version = arn.split(":model-package/", 1)[-1].partition("/")
    return (
        f"https://{console_domain(region)}/sagemaker/home?region={region}"
        f"#/model-registry/model-package-groups/{group}/versions/{version}"
    )


def mlflow_console_url(arn: str, region: str) -> str:
    """
    SageMaker console page of an MLflow app or tracking server (its UI opens from there).

    :param arn: the MLflow app (``...:mlflow-app/<id>``) or tracking server ARN.
    :param region: the AWS region of the app.
    """
    kind, _, name = arn.rsplit(":", 1)[-1].partition("/")
    page = "mlflow-apps" if kind == "mlflow-app" else "mlflow-tracking-servers"
    return f"https://{console_domain(region)}/sagemaker/home?region={region}#/{page}/{name}"

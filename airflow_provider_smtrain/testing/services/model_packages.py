"""
The model package version a fine-tuning job registers on success (server process only, lock held).

A serverless training job with ``ModelPackageConfig`` and an AgentRFT job with
``ModelPackageConfig.OutputModelPackageGroupArn`` both end with a new version in the group
(:mod:`~airflow_provider_smtrain.testing.services.model_registry` builds it: its container points at the
fine-tuned weights and names the hub base model the SDK reads back).
"""

from __future__ import annotations

from moto.sagemaker import models as sm_models

from airflow_provider_smtrain.testing.engine.timeline import to_datetime
from airflow_provider_smtrain.testing.services import model_registry


def group_name(group_arn: str) -> str:
    """
    The name part of a model package group ARN (a bare name is returned as is).

    :param group_arn: ``arn:aws:sagemaker:<region>:<account>:model-package-group/<name>``.
    """
    return group_arn.rsplit("model-package-group/", 1)[-1]


def group_exists(account_id: str, region: str, group_arn: str) -> bool:
    """
    Whether a model package group exists.

    :param account_id: Account.
    :param region: Region.
    :param group_arn: Its ARN (or name).
    """
    return group_name(group_arn) in sm_models.sagemaker_backends[account_id][region].model_package_groups


def base_model(base_model_arn: str) -> tuple[str, str | None]:
    """
    Hub content name and version of a base model's hub content ARN.

    :param base_model_arn: ``arn:aws:sagemaker:<region>:aws:hub-content/<hub>/Model/<name>[/<version>]``.
    """
    tail = base_model_arn.split("/Model/", 1)[-1].split("/")
    return tail[0], (tail[1] if len(tail) > 1 else None)


def register_version(
    account_id: str,
    region: str,
    group_arn: str,
    *,
    job_name: str,
    job_arn: str,
    base_model_arn: str,
    weights_uri: str,
    at: float,
) -> str:
    """
    Register the model a completed fine-tuning job produced as a new version in its group; return its ARN.

    The version is :func:`~airflow_provider_smtrain.testing.services.model_registry.register_model_package`'s,
    created at the simulated time.

    :param account_id: Account.
    :param region: Region.
    :param group_arn: The group's ARN.
    :param job_name: The job that produced the model.
    :param job_arn: Its ARN.
    :param base_model_arn: Hub content ARN of the model that was fine-tuned.
    :param weights_uri: S3 prefix of the fine-tuned weights.
    :param at: Simulated creation time.
    """
    name, version = base_model(base_model_arn)
    arn = model_registry.register_model_package(
        account_id,
        region,
        group_arn,
        training_job_name=job_name,
        training_job_arn=job_arn,
        model_data_s3_uri=weights_uri,
        base_model=name,
        base_model_version=version,
    )
    sm_models.sagemaker_backends[account_id][region].model_packages[arn].creation_time = to_datetime(at)
    return arn

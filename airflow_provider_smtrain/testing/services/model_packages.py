"""
Model package versions that SageMaker registers for fine-tuning jobs (server process only, lock held).

A serverless training job with ``ModelPackageConfig`` and an AgentRFT job with
``ModelPackageConfig.OutputModelPackageGroupArn`` both end, on success, with a new version in the group:
its container points at the fine-tuned weights and names the hub base model (what the SDK's
``model_resolution`` reads when the version is fine-tuned further).
"""

from __future__ import annotations

from typing import Any

from moto.sagemaker import models as sm_models

from airflow_provider_smtrain.testing.engine.timeline import to_datetime


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
    base_model_arn: str,
    weights_uri: str,
    description: str,
    metadata: dict[str, str],
    at: float,
    recipe_name: str | None = None,
    image: str | None = None,
) -> str:
    """
    Create a new version in a model package group; return its ARN.

    :param account_id: Account.
    :param region: Region.
    :param group_arn: The group's ARN.
    :param base_model_arn: Hub content ARN of the model that was fine-tuned.
    :param weights_uri: S3 prefix of the fine-tuned weights.
    :param description: ModelPackageDescription.
    :param metadata: CustomerMetadataProperties (the job that produced it, ...).
    :param at: Simulated creation time.
    :param recipe_name: The recipe used (``BaseModel.RecipeName``).
    :param image: Inference image of the container.
    """
    backend = sm_models.sagemaker_backends[account_id][region]
    name, version = base_model(base_model_arn)
    container: dict[str, Any] = {
        "ModelDataSource": {
            "S3DataSource": {"S3Uri": weights_uri, "S3DataType": "S3Prefix", "CompressionType": "None"}
        },
        "BaseModel": {"HubContentName": name, **({"HubContentVersion": version} if version else {})},
    }
    if recipe_name:
        container["BaseModel"]["RecipeName"] = recipe_name
    if image:
        container["Image"] = image
    arn: str = backend.create_model_package(
        model_package_name=None,
        model_package_group_name=group_name(group_arn),
        model_package_description=description,
        inference_specification={"Containers": [container]},
        validation_specification=None,
        source_algorithm_specification=None,
        certify_for_marketplace=False,
        tags=None,
        model_approval_status="PendingManualApproval",
        metadata_properties=None,
        model_metrics=None,
        client_token=None,
        customer_metadata_properties=metadata,
        drift_check_baselines=None,
        domain=None,
        task=None,
        sample_payload_url=None,
        additional_inference_specifications=None,
    )
    backend.model_packages[arn].creation_time = to_datetime(at)
    return arn

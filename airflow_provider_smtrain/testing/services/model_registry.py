"""
Model package groups and packages (server process only): what moto lacks, and registration of fine-tuned models.

moto implements CreateModelPackageGroup, DescribeModelPackageGroup, CreateModelPackage,
DescribeModelPackage, ListModelPackages and UpdateModelPackage; :func:`install` makes two of its
responses what SageMaker sends (``CreatedBy`` of a group, ``ModelPackageName`` of a versioned
package are required members; status detail names are the package's name, not its ARN), and
groups can be named by ARN, as SageMaker allows. :func:`register_model_package` is what a completed fine-tuning job
does with its ``ModelPackageConfig``: a new version in the group, whose container names the base
model the SDK reads back (``InferenceSpecification.Containers[0].BaseModel.HubContentName``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from moto.sagemaker import models as sm_models

from airflow_provider_smtrain.testing import moto_support
from airflow_provider_smtrain.testing.services.hub import public_models


def install() -> None:
    """Install the model registry patches (once per process)."""
    moto_support.patch_once(sm_models.ModelPackageGroup, "gen_response_object", _group_response)
    moto_support.patch_once(sm_models.ModelPackage, "gen_response_object", _package_response)
    for method in ("describe_model_package_group", "create_model_package"):
        moto_support.patch_once(sm_models.SageMakerModelBackend, method, _group_by_name_or_arn)


def _group_by_name_or_arn(original: Callable[..., Any]) -> Callable[..., Any]:
    """SageMaker takes a group's name or ARN as ``ModelPackageGroupName``; moto only its name."""

    @functools.wraps(original)
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        group = kwargs.get("model_package_group_name")
        if isinstance(group, str) and group.startswith("arn:") and ":model-package-group/" in group:
            kwargs["model_package_group_name"] = group.rsplit("/", 1)[-1]
        elif args and isinstance(args[0], str) and ":model-package-group/" in args[0]:
            args = (args[0].rsplit("/", 1)[-1], *args[1:])
        return original(self, *args, **kwargs)

    return method


def _group_response(original: Callable[[Any], dict[str, Any]]) -> Callable[[Any], dict[str, Any]]:
    @functools.wraps(original)
    def gen_response_object(self: Any) -> dict[str, Any]:
        response = original(self)
        response.setdefault("CreatedBy", {})  # a caller outside SageMaker Studio: no user profile
        return response

    return gen_response_object


def _package_response(original: Callable[[Any], dict[str, Any]]) -> Callable[[Any], dict[str, Any]]:
    @functools.wraps(original)
    def gen_response_object(self: Any) -> dict[str, Any]:
        response = original(self)
        name = self.model_package_group_name or self.model_package_name
        if self.model_package_group_name:  # a versioned package is named after its group
            response.setdefault("ModelPackageName", name)
        details = response.get("ModelPackageStatusDetails") or {}
        for key in ("ValidationStatuses", "ImageScanStatuses"):  # moto names them by ARN (> 63 characters)
            details[key] = [dict(item, Name=name) for item in details.get(key) or []]
        return response

    return gen_response_object


def register_model_package(
    account_id: str,
    region: str,
    group: str,
    *,
    training_job_name: str,
    training_job_arn: str,
    model_data_s3_uri: str,
    base_model: str | None = None,
    base_model_version: str | None = None,
    recipe_name: str | None = None,
    image: str | None = None,
    approval_status: str = "PendingManualApproval",
) -> str:
    """
    Create the next model package version in ``group`` for a completed fine-tuning job; return its ARN.

    Call it with the simulator lock held (as every moto mutation). The group must exist (moto raises
    its ValidationException otherwise).

    :param account_id: Account of the job.
    :param region: Region of the job.
    :param group: Model package group name or ARN (``ModelPackageConfig.ModelPackageGroupArn``).
    :param training_job_name: The job that produced the model.
    :param training_job_arn: Its ARN.
    :param model_data_s3_uri: S3 prefix (uncompressed) or ``model.tar.gz`` of the fine-tuned weights.
    :param base_model: Hub content name of the base model (``ServerlessJobConfig.BaseModelArn``'s name).
    :param base_model_version: Its hub content version (default: the public hub's version of it).
    :param recipe_name: The recipe used.
    :param image: Inference image (default: the base model's hosting image in the public hub, if known).
    :param approval_status: ``ModelApprovalStatus`` of the new version.
    """
    backend = sm_models.sagemaker_backends[account_id][region]
    group_name = group.rsplit("/", 1)[-1]
    known = public_models.MODELS.get(base_model or "")
    container: dict[str, Any] = {}
    hosting_image = image or (known.document(region)["HostingEcrUri"] if known else None)
    if hosting_image:
        container["Image"] = hosting_image
    if model_data_s3_uri.endswith(".tar.gz"):
        container["ModelDataUrl"] = model_data_s3_uri
    else:
        container["ModelDataSource"] = {
            "S3DataSource": {
                "S3Uri": model_data_s3_uri.rstrip("/") + "/",
                "S3DataType": "S3Prefix",
                "CompressionType": "None",
            }
        }
    if base_model:
        base: dict[str, str] = {"HubContentName": base_model}
        version = base_model_version or (known.version if known else None)
        if version:
            base["HubContentVersion"] = version
        if recipe_name:
            base["RecipeName"] = recipe_name
        container["BaseModel"] = base
    arn: str = backend.create_model_package(
        model_package_name=None,
        model_package_group_name=group_name,
        model_package_description=f"Fine-tuned by training job {training_job_name}",
        inference_specification={
            "Containers": [container],
            "SupportedContentTypes": ["application/json"],
            "SupportedResponseMIMETypes": ["application/json"],
        },
        validation_specification=None,
        source_algorithm_specification=None,
        certify_for_marketplace=False,
        tags=None,
        model_approval_status=approval_status,
        metadata_properties=None,
        model_metrics=None,
        client_token=None,
        customer_metadata_properties={
            "TrainingJobName": training_job_name,
            "TrainingJobArn": training_job_arn,
        },
        drift_check_baselines=None,
        domain=None,
        task=None,
        sample_payload_url=None,
        additional_inference_specifications=None,
    )
    return arn

"""
Model package groups and packages (server process only): what moto lacks, and registration of fine-tuned models.

moto implements CreateModelPackageGroup, DescribeModelPackageGroup, CreateModelPackage,
DescribeModelPackage, ListModelPackages and UpdateModelPackage; :func:`install` makes two of its
responses what SageMaker sends (``CreatedBy`` of a group, ``ModelPackageName`` of a versioned
package are required members; status detail names are the package's name, not its ARN), and
groups can be named by ARN, as SageMaker allows. :func:`register_model_package` is what a completed
fine-tuning job does with its ``ModelPackageConfig`` (through :mod:`.model_packages`, as the serverless
jobs do): a new version in the group, whose container names the base model the SDK reads back
(``InferenceSpecification.Containers[0].BaseModel.HubContentName``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from moto.sagemaker import models as sm_models

from airflow_provider_smtrain.testing import moto_support
from airflow_provider_smtrain.testing.engine.simulator import active
from airflow_provider_smtrain.testing.services import model_packages
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
    base_model: str,
    base_model_version: str | None = None,
    recipe_name: str | None = None,
    image: str | None = None,
    at: float | None = None,
) -> str:
    """
    Create the next model package version in ``group`` for a completed fine-tuning job; return its ARN.

    The same version a serverless training job registers on success
    (:func:`~airflow_provider_smtrain.testing.services.model_packages.register_version`), for tests that
    need a fine-tuned model without running one. Call it with the simulator lock held.

    :param account_id: Account of the job.
    :param region: Region of the job.
    :param group: Model package group name or ARN (must exist).
    :param training_job_name: The job that produced the model.
    :param training_job_arn: Its ARN.
    :param model_data_s3_uri: S3 prefix of the fine-tuned weights.
    :param base_model: Hub content name of the base model.
    :param base_model_version: Its hub content version (default: the public hub's version of it).
    :param recipe_name: The recipe used.
    :param image: Inference image (default: the base model's hosting image in the public hub, if known).
    :param at: Simulated creation time (default: now on the simulation clock).
    :raises ValueError: The group does not exist.
    """
    if not model_packages.group_exists(account_id, region, group):
        raise ValueError(f"ModelPackageGroup {group} does not exist.")
    known = public_models.MODELS.get(base_model)
    version = base_model_version or (known.version if known else None)
    base_model_arn = (
        f"arn:aws:sagemaker:{region}:aws:hub-content/{public_models.PUBLIC_HUB_NAME}/Model/{base_model}"
    )
    return model_packages.register_version(
        account_id,
        region,
        group,
        base_model_arn=f"{base_model_arn}/{version}" if version else base_model_arn,
        weights_uri=model_data_s3_uri.rstrip("/") + "/",
        description=f"Fine-tuned by training job {training_job_name}",
        metadata={"TrainingJobName": training_job_name, "TrainingJobArn": training_job_arn},
        at=active().clock.now() if at is None else at,
        recipe_name=recipe_name,
        image=image or (known.document(region)["HostingEcrUri"] if known else None),
    )

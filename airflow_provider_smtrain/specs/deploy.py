"""Specs of deploying a model to a real-time endpoint and of approving a model package version.

Validated before any AWS call. A model package or model data may be given as the whole result of an
upstream task (the XCom dict of a fine-tuning or training operator): the ARN or S3 URI is taken from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, model_validator

from airflow_provider_smtrain.specs.base import Problems, SpecModel, matches, parse_container_string
from airflow_provider_smtrain.specs.common import S3_ACCEPTED, S3_URI_PATTERN, IamRoleArn

__all__ = ["ApproveModelPackageSpec", "DeployModelSpec", "MODEL_PACKAGE_ARN_PATTERN"]

#: A versioned model package: ``arn:aws:sagemaker:<region>:<account>:model-package/<group>/<version>``.
MODEL_PACKAGE_ARN_PATTERN = (
    r"arn:aws[a-z-]*:sagemaker:[a-z]{2}(-[a-z]+)+-\d:\d{12}:model-package/[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}/\d+"
)
_PACKAGE_ACCEPTED = "a model package version ARN like arn:aws:sagemaker:us-east-1:123456789012:model-package/my-group/3"


def _from_result(key: str, what: str) -> BeforeValidator:
    """Accept an upstream result dict (or its JSON) and take ``key`` from it."""

    def pick(value: Any) -> Any:
        value = parse_container_string(value)
        if isinstance(value, Mapping):
            picked = value.get(key)
            if not picked:
                raise ValueError(f"the result given has no {key} ({what}); pass the {key} itself")
            return picked
        return value

    return BeforeValidator(pick)


ModelPackageArn = Annotated[
    str, _from_result("model_package_arn", "did the job register a model?"), matches(MODEL_PACKAGE_ARN_PATTERN, _PACKAGE_ACCEPTED)
]
"""A model package version ARN, or a result dict holding one as ``model_package_arn``."""

ModelDataUrl = Annotated[
    str, _from_result("model_artifacts", "did the training job complete?"), matches(S3_URI_PATTERN, S3_ACCEPTED)
]
"""An S3 URI of model data, or a training result dict holding it as ``model_artifacts``."""

ResourceName = Annotated[
    str,
    Field(max_length=63),
    matches(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}", "letters, digits and hyphens, not starting or ending with '-'"
            " (at most 63 characters)"),
]
"""An endpoint or variant name: ``^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$``."""

InstanceType = Annotated[
    str,
    matches(r"ml\.[a-z][a-z0-9-]*\.(medium|large|[0-9]*xlarge|metal)", "an instance type like ml.g5.2xlarge"),
]
"""A real-time inference instance type, ``ml.<family>.<size>``."""

ImageUri = Annotated[
    str,
    Field(max_length=255),
    matches(r"[a-z0-9.-]+(:\d+)?/[a-z0-9._/-]+([:@][\w.:-]+)?", "a container image URI like "
            "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.5-gpu"),
]
"""An inference container image URI."""


class DeployModelSpec(SpecModel):
    """
    A model to deploy to a real-time endpoint (created, or updated if it exists).

    :param endpoint_name: the endpoint: letters, digits and hyphens, at most 63 characters.
    :param role: IAM role ARN SageMaker hosts the model with (``ExecutionRoleArn``).
    :param model_package_arn: a model package version ARN, or an upstream result holding one.
    :param model_data_url: S3 URI of model data, or a training result holding ``model_artifacts``.
    :param image: inference image; required with ``model_data_url``, optional with a package.
    :param instance_type: instance type, e.g. ``ml.g5.2xlarge``.
    :param initial_instance_count: instances, 1 to 100.
    :param variant_name: the production variant's name.
    :param environment: container environment variables.
    """

    endpoint_name: ResourceName
    role: IamRoleArn
    model_package_arn: ModelPackageArn | None = None
    model_data_url: ModelDataUrl | None = None
    image: ImageUri | None = None
    instance_type: InstanceType = "ml.g5.2xlarge"
    initial_instance_count: Annotated[int, Field(ge=1, le=100)] = 1
    variant_name: ResourceName = "AllTraffic"
    environment: dict[str, Annotated[str, Field(max_length=1024)]] | None = None

    @model_validator(mode="after")
    def _one_model(self) -> DeployModelSpec:
        problems = Problems()
        if (self.model_package_arn is None) == (self.model_data_url is None):
            problems.add("model_package_arn", "give exactly one of model_package_arn (a model package version, or "
                         "a fine-tune result) and model_data_url (S3 model data, with image)")
        if self.model_data_url is not None and self.image is None:
            problems.add("image", "is required with model_data_url (the container that serves the model data)")
        problems.raise_if_any()
        return self

    def model_container(self) -> dict[str, Any]:
        """The ``PrimaryContainer`` of ``CreateModel``."""
        container: dict[str, Any] = {}
        if self.model_package_arn:
            container["ModelPackageName"] = self.model_package_arn
        if self.image:
            container["Image"] = self.image
        if self.model_data_url:
            container["ModelDataUrl"] = self.model_data_url
        if self.environment:
            container["Environment"] = dict(self.environment)
        return container


class ApproveModelPackageSpec(SpecModel):
    """
    A model package version to approve.

    :param model_package_arn: a model package version ARN, or an upstream result holding one.
    :param approval_description: why it is approved (recorded on the package).
    """

    model_package_arn: ModelPackageArn
    approval_description: Annotated[str, Field(max_length=1024)] | None = None

"""``ApproveModelPackageOperator``: set a model package version's ``ModelApprovalStatus`` to ``Approved``.

Idempotent: a version that is already approved is not updated again (one ``DescribeModelPackage``).
Not a job: there is nothing to wait for, and the operator derives from
:class:`~airflow_provider_smtrain.operators.sdk_operator.SageMakerSdkOperator` directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_smtrain.links.finetune import ModelPackageLink
from airflow_provider_smtrain.operators.sdk_operator import SageMakerSdkOperator

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_smtrain.specs import ApproveModelPackageSpec

APPROVED = "Approved"


class ApproveModelPackageOperator(SageMakerSdkOperator):
    """
    Approve a model package version (``UpdateModelPackage`` with ``ModelApprovalStatus=Approved``).

    Returns ``{"model_package_arn", "model_package_group_name", "version", "status",
    "previous_status", "changed", "approval_description", "console_url"}`` (``docs/deploy.md``).

    :param model_package_arn: a model package version ARN, or the whole result of a fine-tuning task
        (its ``model_package_arn`` is used).
    :param approval_description: why the version is approved (recorded on the package).
    """

    template_fields: Sequence[str] = (
        *SageMakerSdkOperator.template_fields, "model_package_arn", "approval_description",
    )
    template_fields_renderers: ClassVar[dict[str, str]] = {"model_package_arn": "json"}
    operator_extra_links = (ModelPackageLink(),)
    ui_color = "#e8daef"

    def __init__(self, *, model_package_arn: Any, approval_description: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.model_package_arn = model_package_arn
        self.approval_description = approval_description

    def build_spec(self) -> ApproveModelPackageSpec:
        """Validate the rendered arguments into an :class:`ApproveModelPackageSpec`."""
        from airflow_provider_smtrain.specs import ApproveModelPackageSpec, parse_spec

        given = {"model_package_arn": self.model_package_arn, "approval_description": self.approval_description}
        return parse_spec(ApproveModelPackageSpec, given, owner=type(self).__name__)

    def execute(self, context: Context) -> dict[str, Any]:
        """Approve the version unless it is approved already; return its state."""
        from airflow_provider_smtrain.jobs.console import model_package_console_url
        from airflow_provider_smtrain.jobs.retry import call_with_retries

        spec = self._spec  # validation first: nothing is called for bad input
        region = self.region
        client = self.hook.sagemaker_client
        arn = spec.model_package_arn

        def describe() -> dict[str, Any]:
            result: dict[str, Any] = call_with_retries(
                lambda: client.describe_model_package(ModelPackageName=arn), what=f"DescribeModelPackage of {arn}",
                log=self.log,
            )
            return result

        with self.hook.credentials_scope():
            before = describe()
            previous = before.get("ModelApprovalStatus")
            changed = previous != APPROVED
            if changed:
                request: dict[str, Any] = {"ModelPackageArn": arn, "ModelApprovalStatus": APPROVED}
                if spec.approval_description:
                    request["ApprovalDescription"] = spec.approval_description
                call_with_retries(lambda: client.update_model_package(**request),  # setting Approved twice is harmless
                                  what=f"UpdateModelPackage of {arn}", log=self.log)
                self.log.info("Approved model package %s (was %s)", arn, previous)
                after = describe()
            else:
                self.log.info("Model package %s is approved already: nothing to do", arn)
                after = before
        ModelPackageLink.persist(context=context, operator=self, region_name=region,
                                 aws_partition=client.meta.partition, arn=arn)
        return {
            "model_package_arn": arn,
            "model_package_group_name": after.get("ModelPackageGroupName"),
            "version": after.get("ModelPackageVersion"),
            "status": after.get("ModelApprovalStatus"),
            "previous_status": previous,
            "changed": changed,
            "approval_description": after.get("ApprovalDescription"),
            "console_url": model_package_console_url(arn, region),
        }

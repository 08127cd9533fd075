"""What the fine-tuning operators share: argument handling, submission through the SDK, result and links.

The concrete operators (:mod:`airflow_provider_smtrain.operators.finetune`) only list their arguments.
The job lifecycle (one job per task instance, deferral, re-attach, stop) is
:class:`~airflow_provider_smtrain.operators.base.SageMakerJobOperator`'s: a fine-tuning job is a
training job (kind ``training``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_smtrain.jobs.kinds import TRAINING
from airflow_provider_smtrain.jobs.outputs import finetune_result
from airflow_provider_smtrain.links.finetune import MlflowLink, ModelPackageLink
from airflow_provider_smtrain.links.sagemaker import TrainingJobLink, TrainingLogsLink
from airflow_provider_smtrain.operators.base import SageMakerJobOperator
from airflow_provider_smtrain.operators.trainer_args import given_arguments, s3_bucket

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_smtrain.specs.finetune import _FineTuneSpec

#: The arguments every fine-tuning operator takes, in SDK order (all templated).
COMMON_FIELDS: tuple[str, ...] = (
    "model",
    "role",
    "training_type",
    "model_package_group",
    "training_dataset",
    "validation_dataset",
    "s3_output_path",
    "hyperparameters",
    "mlflow_resource_arn",
    "mlflow_experiment_name",
    "mlflow_run_name",
    "accept_eula",
    "networking",
    "kms_key_id",
    "tags",
    "stopping_condition",
    "sequence_length",
)

COMMON_PARAMS = """
    :param model: base model: a hub model id, a model package ARN, or the output of an earlier
        trainer task (``"{{ ti.xcom_pull('sft') }}"`` or the task's ``.output``): its fine-tuned model
        package is trained further.
    :param role: IAM role ARN the job runs as.
    :param training_type: ``LORA`` (default) or ``FULL``.
    :param model_package_group: model package group (name or ARN) the fine-tuned model is registered
        in; required on the serverless path unless ``model`` is a model package.
    :param training_dataset: S3 URI, AI Registry dataset ARN, or registered dataset name.
    :param validation_dataset: S3 URI, AI Registry dataset ARN, or registered dataset name.
    :param s3_output_path: S3 URI of the job output.
    :param hyperparameters: overrides of the model's recipe, checked against it before submission.
    :param mlflow_resource_arn: MLflow app ARN, or ``"default"`` for the account's default app;
        unset: no MLflow (and no MLflow app is ever created).
    :param mlflow_experiment_name: MLflow experiment name.
    :param mlflow_run_name: MLflow run name.
    :param accept_eula: accept the license of a gated model.
    :param networking: ``{"subnets": [...], "security_group_ids": [...]}``.
    :param kms_key_id: KMS key that encrypts the output.
    :param tags: tags of the job.
    :param stopping_condition: ``{"max_runtime_in_seconds": ...}``.
    :param sequence_length: recipe sequence length (``1K`` .. ``128K``)."""

COMPUTE_PARAM = """
    :param compute: instances for the serverful path (``{"instance_type": ..., "instance_count": ...}``);
        unset: serverless."""


class FineTuneOperator(SageMakerJobOperator):
    """
    Base of the fine-tuning operators: the SDK trainer named by the spec's technique, on a training job.

    Subclasses set :attr:`spec_name` and :attr:`trainer_fields` and take those fields as arguments.
    """

    job_kind = TRAINING
    job_link = TrainingJobLink
    operator_extra_links = (TrainingJobLink(), TrainingLogsLink(), ModelPackageLink(), MlflowLink())
    #: The name of the spec class in :mod:`airflow_provider_smtrain.specs`.
    spec_name: ClassVar[str]
    #: The operator's own arguments (all spec fields, all templated).
    trainer_fields: ClassVar[tuple[str, ...]] = COMMON_FIELDS

    def _set_fields(self, values: Mapping[str, Any]) -> None:
        for name in self.trainer_fields:
            setattr(self, name, values.get(name))

    def build_spec(self) -> _FineTuneSpec:
        """Validate the rendered arguments into the operator's spec."""
        from airflow_provider_smtrain import specs

        spec: _FineTuneSpec = specs.parse_spec(
            getattr(specs, self.spec_name), given_arguments(self, self.trainer_fields), owner=type(self).__name__
        )
        return spec

    def staging_bucket(self, spec: _FineTuneSpec) -> str | None:
        """The SDK's default bucket: the output path's."""
        return s3_bucket(spec.s3_output_path)

    def submit_job(self, spec: _FineTuneSpec, name: str, context: Context) -> None:
        """Check the recipe overrides, then start the job with the SDK trainer under the fixed name."""
        from airflow_provider_smtrain.sdk.finetune import start_finetune_job
        from airflow_provider_smtrain.specs import SpecValidationError

        try:
            with self.hook.sdk_scope() as session:
                start_finetune_job(type(self).__name__, session, spec, name, self.region)
        except SpecValidationError:
            self._rejected = True  # bad input found by a lookup: no job was created
            raise

    def _stop_if_last_try(self, context: Context) -> None:
        """Nothing to stop when the SDK rejected the input before creating the job."""
        if not getattr(self, "_rejected", False):
            super()._stop_if_last_try(context)

    def job_result(self, describe: dict[str, Any]) -> dict[str, Any]:
        """See ``docs/outputs.md`` (fine-tune result)."""
        spec = self._spec
        return finetune_result(
            describe,
            self.region,
            base_model_id=None if spec.model_is_package else spec.model,
            training_type=spec.training_type,
            technique=spec.technique,
        )

    def on_job_found(self, describe: dict[str, Any], context: Context) -> None:
        """Persist the logs link."""
        assert self._job_name is not None
        TrainingLogsLink.persist(
            context=context,
            operator=self,
            region_name=self.region,
            aws_partition=self.hook.sagemaker_client.meta.partition,
            job_name=self._job_name,
        )

    def execute(self, context: Context) -> dict[str, Any]:
        """Run, re-attach to, or return the result of this task instance's job; link its products."""
        from airflow_provider_smtrain.sdk.finetune import preflight

        spec, region = self._spec, self.region  # bad arguments and a missing region first
        # The SDK's fine-tuning modules build AWS clients at import and raise NoRegionError in a process
        # without a region in its environment: its checks run where the connection's region is exported.
        with self.hook.credentials_scope():
            preflight(type(self).__name__, spec, region)  # before any job is created
        result = super().execute(context)
        self._persist_result_links(context, result)
        return result

    def execute_complete(
        self, context: Context, event: dict[str, Any] | None = None, deadline: float | None = None
    ) -> dict[str, Any]:
        """
        Resume after the trigger fired; link the job's products.

        :param context: the task context.
        :param event: the trigger event payload.
        :param deadline: the deadline the task deferred with.
        """
        result = super().execute_complete(context, event=event, deadline=deadline)
        self._persist_result_links(context, result)
        return result

    def _persist_result_links(self, context: Context, result: dict[str, Any]) -> None:
        partition = self.hook.sagemaker_client.meta.partition
        for link, arn in (
            (ModelPackageLink, (result.get("model_package") or {}).get("arn")),
            (MlflowLink, (result.get("mlflow") or {}).get("resource_arn")),
        ):
            if arn:
                link.persist(
                    context=context, operator=self, region_name=self.region, aws_partition=partition, arn=arn
                )


def fields_of(*extra: str) -> tuple[str, ...]:
    """
    The common fields followed by a trainer's own.

    :param extra: the trainer's own field names.
    """
    return (*COMMON_FIELDS, *extra)


def template_fields_for(fields: Sequence[str]) -> tuple[str, ...]:
    """
    The operator's template fields: the base's and every trainer field.

    :param fields: the trainer fields.
    """
    return (*SageMakerJobOperator.template_fields, *fields)

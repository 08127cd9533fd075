"""What the fine-tuning operators share: the common arguments, submission through the SDK, result and links.

:class:`FineTuneJobOperator` is the lifecycle of a fine-tuning job (the SDK trainer named by the spec,
its result and links), shared with ``MultiTurnRLTrainerOperator``. :class:`FineTuneOperator` adds the
arguments every SDK trainer takes; :class:`ServerfulFineTuneOperator` adds ``compute`` for the trainers
that also run on instances. The concrete operators (:mod:`airflow_provider_smtrain.operators.finetune`)
only add their own arguments. The job lifecycle (one job per task instance, deferral, re-attach, stop)
is :class:`~airflow_provider_smtrain.operators.base.SageMakerJobOperator`'s: a fine-tuning job is a
training job (kind ``training``).
"""

from __future__ import annotations

from collections.abc import Sequence
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

__all__ = ["COMMON_FIELDS", "FineTuneJobOperator", "FineTuneOperator", "ServerfulFineTuneOperator"]

#: The arguments every SDK trainer takes (:class:`FineTuneOperator`'s), in SDK order, all templated.
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


class FineTuneJobOperator(SageMakerJobOperator):
    """
    Base of the fine-tuning operators' lifecycle: the SDK trainer named by the spec, on a training job.

    A subclass sets :attr:`spec_name` and takes exactly the spec's fields as arguments, stored under
    their names (:meth:`build_spec` reads them back).
    """

    job_kind = TRAINING
    job_link = TrainingJobLink
    operator_extra_links = (TrainingJobLink(), TrainingLogsLink(), ModelPackageLink(), MlflowLink())
    #: The name of the spec class in :mod:`airflow_provider_smtrain.specs`.
    spec_name: ClassVar[str]

    def build_spec(self) -> _FineTuneSpec:
        """Validate the rendered arguments into the operator's spec."""
        from airflow_provider_smtrain import specs

        spec_class = getattr(specs, self.spec_name)
        spec: _FineTuneSpec = specs.parse_spec(
            spec_class, given_arguments(self, tuple(spec_class.model_fields)), owner=type(self).__name__
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
        self.persist_job_link(TrainingLogsLink, context)

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


class FineTuneOperator(FineTuneJobOperator):
    """
    Base of the SDK trainer operators (SFT, DPO, RLAIF, RLVR): the arguments they all take.

    Every argument is templated (rendered as JSON) and validated into the trainer's spec before
    anything is created (``docs/specs.md``).

    :param model: base model: a hub model id, a model package ARN, or the output of an earlier
        trainer task (``"{{ ti.xcom_pull('sft') }}"`` or the task's ``.output``): its fine-tuned model
        package is trained further.
    :param role: IAM role ARN the job runs as.
    :param training_dataset: S3 URI, AI Registry dataset ARN, or registered dataset name.
    :param training_type: ``LORA`` (default) or ``FULL``.
    :param model_package_group: model package group (name or ARN) the fine-tuned model is registered
        in; required on the serverless path unless ``model`` is a model package.
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
    :param sequence_length: recipe sequence length (``1K`` .. ``128K``).
    """

    template_fields: Sequence[str] = (*SageMakerJobOperator.template_fields, *COMMON_FIELDS)
    template_fields_renderers: ClassVar[dict[str, str]] = dict.fromkeys(COMMON_FIELDS, "json")

    def __init__(
        self,
        *,
        model: Any,
        role: str,
        training_dataset: str,
        training_type: str | None = None,
        model_package_group: str | None = None,
        validation_dataset: str | None = None,
        s3_output_path: str | None = None,
        hyperparameters: Any = None,
        mlflow_resource_arn: str | None = None,
        mlflow_experiment_name: str | None = None,
        mlflow_run_name: str | None = None,
        accept_eula: Any = None,
        networking: Any = None,
        kms_key_id: str | None = None,
        tags: Any = None,
        stopping_condition: Any = None,
        sequence_length: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.model = model
        self.role = role
        self.training_type = training_type
        self.model_package_group = model_package_group
        self.training_dataset = training_dataset
        self.validation_dataset = validation_dataset
        self.s3_output_path = s3_output_path
        self.hyperparameters = hyperparameters
        self.mlflow_resource_arn = mlflow_resource_arn
        self.mlflow_experiment_name = mlflow_experiment_name
        self.mlflow_run_name = mlflow_run_name
        self.accept_eula = accept_eula
        self.networking = networking
        self.kms_key_id = kms_key_id
        self.tags = tags
        self.stopping_condition = stopping_condition
        self.sequence_length = sequence_length


class ServerfulFineTuneOperator(FineTuneOperator):
    """
    Base of the trainer operators that also run on instances (SFT, DPO, RLVR): serverless unless ``compute``.

    :param compute: instances for the serverful path (``{"instance_type": ..., "instance_count": ...}``);
        unset: serverless.
    """

    template_fields: Sequence[str] = (*FineTuneOperator.template_fields, "compute")
    template_fields_renderers: ClassVar[dict[str, str]] = {
        **FineTuneOperator.template_fields_renderers,
        "compute": "json",
    }

    def __init__(self, *, compute: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.compute = compute


def template_fields_for(fields: Sequence[str]) -> tuple[str, ...]:
    """
    The template fields of an operator taking ``fields``: the job operator's and every one of them.

    :param fields: the operator's own arguments.
    """
    return (*SageMakerJobOperator.template_fields, *fields)

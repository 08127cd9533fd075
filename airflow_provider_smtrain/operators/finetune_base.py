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
from airflow_provider_smtrain.operators.declared_arguments import Argument, keyword_init, params_doc
from airflow_provider_smtrain.operators.trainer_args import given_arguments, s3_bucket

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_smtrain.specs.finetune import _FineTuneSpec

#: The arguments every fine-tuning operator takes, in SDK order (all templated).
COMMON_ARGUMENTS: tuple[Argument, ...] = (
    Argument(
        "model",
        "base model: a hub model id, a model package ARN, or the output of an earlier\n"
        "        trainer task (``\"{{ ti.xcom_pull('sft') }}\"`` or the task's ``.output``): its fine-tuned model\n"
        "        package is trained further.",
        required=True,
    ),
    Argument("role", "IAM role ARN the job runs as.", "str", required=True),
    Argument("training_type", "``LORA`` (default) or ``FULL``.", "str | None"),
    Argument(
        "model_package_group",
        "model package group (name or ARN) the fine-tuned model is registered\n"
        "        in; required on the serverless path unless ``model`` is a model package.",
        "str | None",
    ),
    Argument(
        "training_dataset",
        "S3 URI, AI Registry dataset ARN, or registered dataset name.",
        "str",
        required=True,
    ),
    Argument(
        "validation_dataset", "S3 URI, AI Registry dataset ARN, or registered dataset name.", "str | None"
    ),
    Argument("s3_output_path", "S3 URI of the job output.", "str | None"),
    Argument("hyperparameters", "overrides of the model's recipe, checked against it before submission."),
    Argument(
        "mlflow_resource_arn",
        "MLflow app ARN, or ``\"default\"`` for the account's default app;\n"
        "        unset: no MLflow (and no MLflow app is ever created).",
        "str | None",
    ),
    Argument("mlflow_experiment_name", "MLflow experiment name.", "str | None"),
    Argument("mlflow_run_name", "MLflow run name.", "str | None"),
    Argument("accept_eula", "accept the license of a gated model."),
    Argument("networking", '``{"subnets": [...], "security_group_ids": [...]}``.'),
    Argument("kms_key_id", "KMS key that encrypts the output.", "str | None"),
    Argument("tags", "tags of the job."),
    Argument("stopping_condition", '``{"max_runtime_in_seconds": ...}``.'),
    Argument("sequence_length", "recipe sequence length (``1K`` .. ``128K``).", "str | None"),
)

#: The names of :data:`COMMON_ARGUMENTS`.
COMMON_FIELDS: tuple[str, ...] = tuple(argument.name for argument in COMMON_ARGUMENTS)

#: The serverful path's instances (SFT, DPO, RLVR).
COMPUTE = Argument(
    "compute",
    'instances for the serverful path (``{"instance_type": ..., "instance_count": ...}``);\n'
    "        unset: serverless.",
)


class FineTuneOperator(SageMakerJobOperator):
    """
    Base of the fine-tuning operators: the SDK trainer named by the spec's technique, on a training job.

    A subclass sets :attr:`spec_name` and either declares :attr:`own_arguments` (its constructor,
    :attr:`trainer_fields`, template fields and the ``:param:`` lines of its docstring are then derived
    from :data:`COMMON_ARGUMENTS` and them) or sets :attr:`trainer_fields` and writes its ``__init__``.
    """

    job_kind = TRAINING
    job_link = TrainingJobLink
    operator_extra_links = (TrainingJobLink(), TrainingLogsLink(), ModelPackageLink(), MlflowLink())
    #: The name of the spec class in :mod:`airflow_provider_smtrain.specs`.
    spec_name: ClassVar[str]
    #: The operator's own arguments (all spec fields, all templated).
    trainer_fields: ClassVar[tuple[str, ...]] = COMMON_FIELDS
    #: The trainer's arguments after :data:`COMMON_ARGUMENTS`, declared by a subclass that does not write
    #: its own ``__init__``.
    own_arguments: ClassVar[tuple[Argument, ...]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Derive the constructor, fields, template fields and docstring of a class declaring ``own_arguments``."""
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("own_arguments")
        if own is None:
            return
        arguments = (*COMMON_ARGUMENTS, *own)
        cls.trainer_fields = tuple(argument.name for argument in arguments)
        cls.template_fields = template_fields_for(cls.trainer_fields)
        cls.template_fields_renderers = dict.fromkeys(cls.trainer_fields, "json")
        init = keyword_init(arguments, FineTuneOperator._set_fields, base=FineTuneOperator)
        init.__qualname__ = f"{cls.__qualname__}.__init__"
        init.__module__ = cls.__module__
        cls.__init__ = init  # type: ignore[method-assign]
        cls.__doc__ = f"\n    {(cls.__doc__ or '').strip()}\n{params_doc(arguments)}\n    "

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


def template_fields_for(fields: Sequence[str]) -> tuple[str, ...]:
    """
    The operator's template fields: the base's and every trainer field.

    :param fields: the trainer fields.
    """
    return (*SageMakerJobOperator.template_fields, *fields)

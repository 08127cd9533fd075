"""Build and start a SageMaker SDK ``ModelTrainer`` from a :class:`ModelTrainerSpec`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_smtrain.exceptions import SageMakerSubmitError
from airflow_provider_smtrain.sdk.interrupts import sdk_call
from airflow_provider_smtrain.sdk.naming import fixed_unique_name

if TYPE_CHECKING:
    from airflow_provider_smtrain.specs import ModelTrainerSpec


def _dump(part: Any) -> dict[str, Any]:
    return part.model_dump(exclude_none=True) if part is not None else {}


def input_channels(spec: ModelTrainerSpec) -> list[Any]:
    """
    The spec's input channels as SDK ``InputData`` objects.

    :param spec: the validated spec.
    """
    from sagemaker.core.training.configs import InputData

    return [InputData(**_dump(channel)) for channel in spec.input_data]


def build_model_trainer(
    session: Any, spec: ModelTrainerSpec, *, base_job_name: str, with_inputs: bool = True
) -> Any:
    """
    A ``ModelTrainer`` configured from ``spec`` (no AWS calls beyond the SDK's role validation).

    :param session: the SDK ``Session`` from :meth:`SageMakerTrainHook.sdk_scope`.
    :param spec: the validated spec.
    :param base_job_name: the SDK's base job name (used in S3 staging prefixes).
    :param with_inputs: put the input channels on the trainer (the tuner takes them separately).
    """
    from sagemaker.core.shapes import MetricDefinition, Tag
    from sagemaker.core.training.configs import (
        CheckpointConfig,
        Compute,
        Networking,
        OutputDataConfig,
        SourceCode,
        StoppingCondition,
    )
    from sagemaker.train.distributed import MPI, Torchrun
    from sagemaker.train.model_trainer import ModelTrainer

    kwargs: dict[str, Any] = {
        "sagemaker_session": session,
        "role": spec.role,
        "base_job_name": base_job_name,
        "compute": Compute(**_dump(spec.compute)),
        "stopping_condition": StoppingCondition(**_dump(spec.stopping_condition)),
        "output_data_config": OutputDataConfig(s3_output_path=spec.output_path),
        "hyperparameters": dict(spec.hyperparameters or {}),
        "environment": dict(spec.environment or {}),
    }
    if spec.training_image:
        kwargs["training_image"] = spec.training_image
    if spec.algorithm_name:
        kwargs["algorithm_name"] = spec.algorithm_name
    if spec.source_code is not None:
        kwargs["source_code"] = SourceCode(**_dump(spec.source_code))
    if spec.input_data and with_inputs:
        kwargs["input_data_config"] = input_channels(spec)
    if spec.checkpoint is not None:
        kwargs["checkpoint_config"] = CheckpointConfig(**_dump(spec.checkpoint))
    if spec.networking is not None:
        kwargs["networking"] = Networking(**_dump(spec.networking))
    if spec.distributed is not None:
        distributed = _dump(spec.distributed)
        kind = distributed.pop("type")
        kwargs["distributed"] = Torchrun(**distributed) if kind == "torchrun" else MPI(**distributed)
    if spec.tags:
        kwargs["tags"] = [Tag(key=key, value=value) for key, value in spec.tags.items()]
    if spec.training_input_mode:
        kwargs["training_input_mode"] = spec.training_input_mode
    trainer = ModelTrainer(**kwargs)
    if spec.tensorboard_output_path:
        from sagemaker.core.training.configs import TensorBoardOutputConfig

        trainer = trainer.with_tensorboard_output_config(
            TensorBoardOutputConfig(s3_output_path=spec.tensorboard_output_path)
        )
    if spec.metric_definitions:
        trainer = trainer.with_metric_definitions(
            [MetricDefinition(name=m.name, regex=m.regex) for m in spec.metric_definitions]
        )
    return trainer


def start_training_job(session: Any, spec: ModelTrainerSpec, job_name: str) -> dict[str, str]:
    """
    Start a training job called ``job_name`` and return its name and ARN; do not wait.

    :param session: the SDK ``Session`` from :meth:`SageMakerTrainHook.sdk_scope`.
    :param spec: the validated spec.
    :param job_name: the deterministic job name chosen by the operator.
    """
    import sagemaker.train.model_trainer as model_trainer_module

    trainer = build_model_trainer(session, spec, base_job_name=spec.base_job_name or job_name)
    with sdk_call(), fixed_unique_name(model_trainer_module, job_name):
        trainer.train(wait=False, logs=False)
    job = getattr(trainer, "_latest_training_job", None)
    if job is None or getattr(job, "training_job_name", None) != job_name:
        found = getattr(job, "training_job_name", None)
        raise SageMakerSubmitError(
            f"ModelTrainer.train() did not start training job {job_name!r} (SDK reported {found!r}); "
            "the installed sagemaker-train may be outside the supported range"
        )
    return {"job_name": job_name, "job_arn": str(job.training_job_arn)}

"""Build and start a SageMaker SDK ``HyperparameterTuner`` from a :class:`HyperparameterTunerSpec`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_smtrain.exceptions import SageMakerSubmitError
from airflow_provider_smtrain.sdk.interrupts import sdk_call
from airflow_provider_smtrain.sdk.model_trainer import build_model_trainer, input_channels

if TYPE_CHECKING:
    from airflow_provider_smtrain.specs import HyperparameterTunerSpec

_WARM_START_TYPES = {"IdenticalDataAndAlgorithm": "IdenticalDataAndAlgorithm", "TransferLearning": "TransferLearning"}


def _parameter_ranges(spec: HyperparameterTunerSpec) -> dict[str, Any]:
    from sagemaker.core.parameter import CategoricalParameter, ContinuousParameter, IntegerParameter

    ranges: dict[str, Any] = {}
    for name, item in spec.hyperparameter_ranges.items():
        if item.type == "categorical":
            ranges[name] = CategoricalParameter(list(item.values))
        elif item.type == "integer":
            ranges[name] = IntegerParameter(item.min_value, item.max_value, scaling_type=item.scaling_type)
        else:
            ranges[name] = ContinuousParameter(item.min_value, item.max_value, scaling_type=item.scaling_type)
    return ranges


def _optional_configs(spec: HyperparameterTunerSpec) -> dict[str, Any]:
    from sagemaker.core.shapes import (
        BestObjectiveNotImproving,
        ConvergenceDetected,
        HyperbandStrategyConfig,
        HyperParameterTuningJobStrategyConfig,
        HyperParameterTuningJobWarmStartConfig,
        ParentHyperParameterTuningJob,
        TuningJobCompletionCriteria,
    )

    out: dict[str, Any] = {}
    if spec.warm_start is not None:
        out["warm_start_config"] = HyperParameterTuningJobWarmStartConfig(
            warm_start_type=_WARM_START_TYPES[spec.warm_start.type],
            parent_hyper_parameter_tuning_jobs=[
                ParentHyperParameterTuningJob(hyper_parameter_tuning_job_name=parent)
                for parent in spec.warm_start.parents
            ],
        )
    criteria = spec.completion_criteria
    if criteria is not None:
        fields: dict[str, Any] = {}
        if criteria.target_objective_metric_value is not None:
            fields["target_objective_metric_value"] = criteria.target_objective_metric_value
        if criteria.max_number_of_training_jobs_not_improving is not None:
            fields["best_objective_not_improving"] = BestObjectiveNotImproving(
                max_number_of_training_jobs_not_improving=criteria.max_number_of_training_jobs_not_improving
            )
        if criteria.complete_on_convergence is not None:
            fields["convergence_detected"] = ConvergenceDetected(
                complete_on_convergence="Enabled" if criteria.complete_on_convergence else "Disabled"
            )
        out["completion_criteria_config"] = TuningJobCompletionCriteria(**fields)
    if spec.hyperband_strategy_config is not None:
        out["strategy_config"] = HyperParameterTuningJobStrategyConfig(
            hyperband_strategy_config=HyperbandStrategyConfig(
                **spec.hyperband_strategy_config.model_dump(exclude_none=True)
            )
        )
    return out


def start_tuning_job(session: Any, spec: HyperparameterTunerSpec, job_name: str) -> dict[str, str]:
    """
    Start a hyperparameter tuning job called ``job_name`` and return its name and ARN; do not wait.

    :param session: the SDK ``Session`` from :meth:`SageMakerTrainHook.sdk_scope`.
    :param spec: the validated spec.
    :param job_name: the deterministic tuning job name chosen by the operator (≤ 32 characters).
    """
    from sagemaker.train.tuner import HyperparameterTuner

    # The tuner only turns channels passed to tune() into its job definition's channels.
    trainer = build_model_trainer(
        session, spec.trainer, base_job_name=spec.trainer.base_job_name or job_name, with_inputs=False
    )
    kwargs: dict[str, Any] = {
        "model_trainer": trainer,
        "objective_metric_name": spec.objective_metric_name,
        "objective_type": spec.objective_type,
        "hyperparameter_ranges": _parameter_ranges(spec),
        "strategy": spec.strategy,
        "max_jobs": spec.max_jobs,
        "max_parallel_jobs": spec.max_parallel_jobs,
        "early_stopping_type": spec.early_stopping_type,
        **_optional_configs(spec),
    }
    if spec.metric_definitions:
        kwargs["metric_definitions"] = [{"Name": m.name, "Regex": m.regex} for m in spec.metric_definitions]
    if spec.random_seed is not None:
        kwargs["random_seed"] = spec.random_seed
    if spec.max_runtime_in_seconds is not None:
        kwargs["max_runtime_in_seconds"] = spec.max_runtime_in_seconds
    if spec.tags:
        kwargs["tags"] = [{"Key": key, "Value": value} for key, value in spec.tags.items()]
    tuner = HyperparameterTuner(**kwargs)
    with sdk_call():
        tuner.tune(inputs=input_channels(spec.trainer) or None, job_name=job_name, wait=False)
    job = getattr(tuner, "latest_tuning_job", None)
    found = getattr(job, "hyper_parameter_tuning_job_name", None)
    if job is None or found != job_name:
        raise SageMakerSubmitError(
            f"HyperparameterTuner.tune() did not start tuning job {job_name!r} (SDK reported {found!r})"
        )
    return {"job_name": job_name, "job_arn": str(job.hyper_parameter_tuning_job_arn)}

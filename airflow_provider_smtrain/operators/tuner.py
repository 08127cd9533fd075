"""``HyperparameterTunerOperator``: run one SageMaker tuning job through the SDK's ``HyperparameterTuner``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_smtrain.jobs.kinds import TRAINING, TUNING
from airflow_provider_smtrain.jobs.outputs import final_metrics, tuning_result
from airflow_provider_smtrain.links.sagemaker import TuningJobLink
from airflow_provider_smtrain.operators.base import SageMakerJobOperator
from airflow_provider_smtrain.operators.trainer_args import (
    given_arguments,
    mask_environment,
    s3_bucket,
    with_resolved_source_dir,
)
from airflow_provider_smtrain.operators.waiting import find_job

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_smtrain.specs import HyperparameterTunerSpec

TUNER_FIELDS: tuple[str, ...] = (
    "trainer",
    "objective_metric_name",
    "objective_type",
    "metric_definitions",
    "hyperparameter_ranges",
    "strategy",
    "max_jobs",
    "max_parallel_jobs",
    "early_stopping_type",
    "warm_start",
    "completion_criteria",
    "hyperband_strategy_config",
    "random_seed",
    "max_runtime_in_seconds",
    "tags",
    "base_tuning_job_name",
)


class HyperparameterTunerOperator(SageMakerJobOperator):
    """
    Tune hyperparameters with the SageMaker Python SDK v3 ``HyperparameterTuner``: one tuning job per task instance.

    All arguments are templated and JSON-native; see ``docs/specs.md`` for every field.

    .. seealso::
        ``docs/operators.md`` and the example DAG ``example_dags/example_tuning.py``.

    :param trainer: the ``ModelTrainer`` arguments of the training jobs, exactly as
        :class:`~airflow_provider_smtrain.operators.model_trainer.ModelTrainerOperator` takes them.
    :param objective_metric_name: the metric to optimise.
    :param hyperparameter_ranges: ``{name: {"type": "continuous"|"integer"|"categorical", ...}}``.
    :param objective_type: ``Maximize`` or ``Minimize``.
    :param metric_definitions: ``[{"name": ..., "regex": ...}]``; must include the objective metric.
    :param strategy: ``Bayesian``, ``Random``, ``Hyperband`` or ``Grid``.
    :param max_jobs: the most training jobs to run.
    :param max_parallel_jobs: the most training jobs to run at once.
    :param early_stopping_type: ``Off`` or ``Auto``.
    :param warm_start: ``{"type": "IdenticalDataAndAlgorithm"|"TransferLearning", "parents": [...]}``.
    :param completion_criteria: ``target_objective_metric_value``,
        ``max_number_of_training_jobs_not_improving``, ``complete_on_convergence``.
    :param hyperband_strategy_config: ``{"min_resource": ..., "max_resource": ...}``; only with
        ``strategy="Hyperband"``.
    :param random_seed: seed for the search.
    :param max_runtime_in_seconds: the longest the tuning job may run.
    :param tags: tags of the tuning job.
    :param base_tuning_job_name: readable start of the tuning job names (at most 32 characters in
        all, so it is shortened to fit); ``job_name_prefix`` wins when both are given, the task id is
        the default.
    """

    job_kind = TUNING
    job_link = TuningJobLink
    operator_extra_links = (TuningJobLink(),)
    template_fields: Sequence[str] = (*SageMakerJobOperator.template_fields, *TUNER_FIELDS)
    template_fields_renderers = {field: "json" for field in TUNER_FIELDS}

    def __init__(
        self,
        *,
        trainer: Any,
        objective_metric_name: str,
        hyperparameter_ranges: Any,
        objective_type: str = "Maximize",
        metric_definitions: Any = None,
        strategy: str = "Bayesian",
        max_jobs: int | str = 1,
        max_parallel_jobs: int | str = 1,
        early_stopping_type: str = "Off",
        warm_start: Any = None,
        completion_criteria: Any = None,
        hyperband_strategy_config: Any = None,
        random_seed: int | str | None = None,
        max_runtime_in_seconds: int | str | None = None,
        tags: Any = None,
        base_tuning_job_name: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.trainer = trainer
        self.objective_metric_name = objective_metric_name
        self.hyperparameter_ranges = hyperparameter_ranges
        self.objective_type = objective_type
        self.metric_definitions = metric_definitions
        self.strategy = strategy
        self.max_jobs = max_jobs
        self.max_parallel_jobs = max_parallel_jobs
        self.early_stopping_type = early_stopping_type
        self.warm_start = warm_start
        self.completion_criteria = completion_criteria
        self.hyperband_strategy_config = hyperband_strategy_config
        self.random_seed = random_seed
        self.max_runtime_in_seconds = max_runtime_in_seconds
        self.tags = tags
        self.base_tuning_job_name = base_tuning_job_name

    def build_spec(self) -> HyperparameterTunerSpec:
        """Validate the rendered arguments into a :class:`HyperparameterTunerSpec`."""
        from airflow_provider_smtrain.specs import HyperparameterTunerSpec, parse_spec

        args = given_arguments(self, TUNER_FIELDS)
        if isinstance(args.get("trainer"), dict):
            args["trainer"] = with_resolved_source_dir(args["trainer"], self.dag_folder())
        spec = parse_spec(HyperparameterTunerSpec, args, owner=type(self).__name__)
        mask_environment(spec.trainer.environment)
        return spec

    def name_prefix(self, spec: HyperparameterTunerSpec) -> str:
        """Tuning job names start with ``job_name_prefix``, else ``base_tuning_job_name``, else the task id."""
        return self.job_name_prefix or spec.base_tuning_job_name or self.task_id

    def staging_bucket(self, spec: HyperparameterTunerSpec) -> str | None:
        """The SDK stages code in the trainer's output path bucket."""
        return s3_bucket(spec.trainer.output_path)

    def submit_job(self, spec: HyperparameterTunerSpec, name: str, context: Context) -> None:
        """Start the tuning job with ``HyperparameterTuner.tune(wait=False)`` under the fixed name."""
        from airflow_provider_smtrain.sdk.tuner import start_tuning_job

        with self.hook.sdk_scope() as session:
            start_tuning_job(session, spec, name)

    def job_result(self, describe: dict[str, Any]) -> dict[str, Any]:
        """See ``docs/outputs.md`` (tuning result); the best job also gets its model artifacts and metrics."""
        result = tuning_result(describe, self.region)
        best = result["best_training_job"]
        if best and best.get("job_name"):
            best_describe = find_job(self, best["job_name"], TRAINING) or {}
            best["model_artifacts"] = (best_describe.get("ModelArtifacts") or {}).get("S3ModelArtifacts")
            best["final_metrics"] = final_metrics(best_describe)
        return result

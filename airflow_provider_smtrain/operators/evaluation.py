"""The evaluator operators: ``BenchMarkEvaluator``, ``CustomScorerEvaluator``, ``LLMAsJudgeEvaluator`` and
``MultiTurnRLEvaluator`` (serverless pipeline path) on the shared job lifecycle (see ``docs/evaluation.md``).

Each operator only lists its arguments; the lifecycle (one pipeline execution per task instance
generation in its own pipeline, idempotent start, re-attach, stop on kill/clear/timeout, result with
the metrics read from S3) is :class:`~airflow_provider_smtrain.operators.evaluation_base.EvaluatorOperator`'s.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_smtrain.operators.evaluation_base import (
    COMMON_FIELDS,
    EvaluatorOperator,
    template_fields_for,
)

if TYPE_CHECKING:
    from airflow_provider_smtrain.specs import (
        BenchMarkEvaluatorSpec,
        CustomScorerEvaluatorSpec,
        LLMAsJudgeEvaluatorSpec,
        MultiTurnRLEvaluatorSpec,
    )

__all__ = [
    "BenchMarkEvaluatorOperator",
    "CustomScorerEvaluatorOperator",
    "LLMAsJudgeEvaluatorOperator",
    "MultiTurnRLEvaluatorOperator",
]

COMMON_PARAMS = """
    :param model: the model to evaluate: a hub model id, a model package ARN, an S3 checkpoint URI, or the
        output of an earlier trainer task (``sft.output``: its fine-tuned model package).
    :param role: IAM role ARN the pipeline and its jobs run as.
    :param s3_output_path: S3 URI the evaluation writes its results under.
    :param evaluate_base_model: also evaluate the base model, side by side (its metrics are ``base``).
    :param mlflow_resource_arn: MLflow app ARN, or ``"default"`` for the account's app; unset: no MLflow
        (and no MLflow app is ever created).
    :param mlflow_experiment_name: MLflow experiment name.
    :param mlflow_run_name: MLflow run name.
    :param networking: ``{"subnets": [...], "security_group_ids": [...]}``.
    :param kms_key_id: KMS key that encrypts the output.
    :param model_package_group: model package group (name or ARN) of the evaluated model.
    :param tags: tags of the evaluation's pipeline."""

OVERRIDES_PARAM = """
    :param hyperparameters: inference overrides (``temperature``, ``max_new_tokens``, ``top_p``...),
        checked against the model's evaluation recipe before anything is created."""


def _doc(summary: str, *params: str) -> str:
    return f"\n    {summary}\n" + COMMON_PARAMS + "".join(params) + "\n    "


def _fields(*extra: str) -> tuple[str, ...]:
    return (*COMMON_FIELDS, *extra)


_BENCHMARK_FIELDS = _fields("benchmark", "subtasks", "hyperparameters")
_CUSTOM_SCORER_FIELDS = _fields("evaluator", "dataset", "hyperparameters")
_LLMAJ_FIELDS = _fields("evaluator_model", "dataset", "builtin_metrics", "custom_metrics")
_MTRL_FIELDS = _fields("dataset", "agent_config", "agent_qualifier", "accept_eula", "stopping_condition")


class BenchMarkEvaluatorOperator(EvaluatorOperator):
    __doc__ = _doc(
        "Evaluate a model on a standard benchmark with the SDK's ``BenchMarkEvaluator`` (serverless pipeline).",
        """
    :param benchmark: ``mmlu``, ``mmlu_pro``, ``bbh``, ``gpqa``, ``math``, ``strong_reject``, ``ifeval``,
        ``mmmu`` or ``llm_judge``.
    :param subtasks: a subtask, a list of subtasks, or ``ALL``.""",
        OVERRIDES_PARAM,
    )

    spec_name = "BenchMarkEvaluatorSpec"
    evaluator_fields = _BENCHMARK_FIELDS
    template_fields = template_fields_for(_BENCHMARK_FIELDS)
    template_fields_renderers = {field: "json" for field in _BENCHMARK_FIELDS}

    def __init__(
        self,
        *,
        model: Any,
        role: str,
        s3_output_path: str,
        benchmark: str,
        evaluate_base_model: bool | str | None = None,
        mlflow_resource_arn: str | None = None,
        mlflow_experiment_name: str | None = None,
        mlflow_run_name: str | None = None,
        networking: Any = None,
        kms_key_id: str | None = None,
        model_package_group: str | None = None,
        tags: Any = None,
        subtasks: Any = None,
        hyperparameters: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._set_fields(locals())

    def build_spec(self) -> BenchMarkEvaluatorSpec:
        """Validate the rendered arguments into ``BenchMarkEvaluatorSpec``."""
        spec: BenchMarkEvaluatorSpec = super().build_spec()  # type: ignore[assignment]
        return spec


class CustomScorerEvaluatorOperator(EvaluatorOperator):
    __doc__ = _doc(
        "Evaluate a model on a dataset with a built-in metric or a registered evaluator (``CustomScorerEvaluator``).",
        """
    :param evaluator: ``prime_math``, ``prime_code``, an AI Registry evaluator ARN or name, or a
        ``CreateEvaluatorOperator`` task's output.
    :param dataset: S3 URI, AI Registry dataset ARN or name, or a ``CreateDataSetOperator`` output.""",
        OVERRIDES_PARAM,
    )

    spec_name = "CustomScorerEvaluatorSpec"
    evaluator_fields = _CUSTOM_SCORER_FIELDS
    template_fields = template_fields_for(_CUSTOM_SCORER_FIELDS)
    template_fields_renderers = {field: "json" for field in _CUSTOM_SCORER_FIELDS}

    def __init__(
        self,
        *,
        model: Any,
        role: str,
        s3_output_path: str,
        evaluator: Any,
        dataset: Any,
        evaluate_base_model: bool | str | None = None,
        mlflow_resource_arn: str | None = None,
        mlflow_experiment_name: str | None = None,
        mlflow_run_name: str | None = None,
        networking: Any = None,
        kms_key_id: str | None = None,
        model_package_group: str | None = None,
        tags: Any = None,
        hyperparameters: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._set_fields(locals())

    def build_spec(self) -> CustomScorerEvaluatorSpec:
        """Validate the rendered arguments into ``CustomScorerEvaluatorSpec``."""
        spec: CustomScorerEvaluatorSpec = super().build_spec()  # type: ignore[assignment]
        return spec


class LLMAsJudgeEvaluatorOperator(EvaluatorOperator):
    __doc__ = _doc(
        "Evaluate a model's answers with a judge model on Amazon Bedrock (``LLMAsJudgeEvaluator``).",
        """
    :param evaluator_model: the judge's Amazon Bedrock model id.
    :param dataset: S3 URI, AI Registry dataset ARN or name, or a ``CreateDataSetOperator`` output.
    :param builtin_metrics: judge metrics (``Correctness``, ``Helpfulness``...; a ``Builtin.`` prefix is allowed).
    :param custom_metrics: custom judge metrics: a JSON string, or a list/dict.""",
    )

    spec_name = "LLMAsJudgeEvaluatorSpec"
    evaluator_fields = _LLMAJ_FIELDS
    template_fields = template_fields_for(_LLMAJ_FIELDS)
    template_fields_renderers = {field: "json" for field in _LLMAJ_FIELDS}

    def __init__(
        self,
        *,
        model: Any,
        role: str,
        s3_output_path: str,
        evaluator_model: str,
        dataset: Any,
        evaluate_base_model: bool | str | None = None,
        mlflow_resource_arn: str | None = None,
        mlflow_experiment_name: str | None = None,
        mlflow_run_name: str | None = None,
        networking: Any = None,
        kms_key_id: str | None = None,
        model_package_group: str | None = None,
        tags: Any = None,
        builtin_metrics: Any = None,
        custom_metrics: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._set_fields(locals())

    def build_spec(self) -> LLMAsJudgeEvaluatorSpec:
        """Validate the rendered arguments into ``LLMAsJudgeEvaluatorSpec``."""
        spec: LLMAsJudgeEvaluatorSpec = super().build_spec()  # type: ignore[assignment]
        return spec


class MultiTurnRLEvaluatorOperator(EvaluatorOperator):
    __doc__ = _doc(
        "Evaluate an agent model in its environment with ``MultiTurnRLEvaluator`` (serverless pipeline path).",
        """
    :param dataset: prompt dataset: S3 URI, AI Registry dataset ARN or name.
    :param agent_config: the agent environment: a Bedrock AgentCore runtime ARN or a Lambda ARN.
    :param agent_qualifier: Bedrock AgentCore endpoint qualifier.
    :param accept_eula: accept the base model's license (default True, as the SDK).
    :param stopping_condition: largest job duration in seconds (at most 72 hours).""",
    )

    spec_name = "MultiTurnRLEvaluatorSpec"
    evaluator_fields = _MTRL_FIELDS
    template_fields = template_fields_for(_MTRL_FIELDS)
    template_fields_renderers = {field: "json" for field in _MTRL_FIELDS}

    def __init__(
        self,
        *,
        model: Any,
        role: str,
        s3_output_path: str,
        dataset: Any,
        agent_config: str,
        evaluate_base_model: bool | str | None = None,
        mlflow_resource_arn: str | None = None,
        mlflow_experiment_name: str | None = None,
        mlflow_run_name: str | None = None,
        networking: Any = None,
        kms_key_id: str | None = None,
        model_package_group: str | None = None,
        tags: Any = None,
        agent_qualifier: str | None = None,
        accept_eula: bool | str | None = None,
        stopping_condition: int | str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._set_fields(locals())

    def build_spec(self) -> MultiTurnRLEvaluatorSpec:
        """Validate the rendered arguments into ``MultiTurnRLEvaluatorSpec``."""
        spec: MultiTurnRLEvaluatorSpec = super().build_spec()  # type: ignore[assignment]
        return spec

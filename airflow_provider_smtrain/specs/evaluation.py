"""Validated arguments of the serverless evaluators: ``BenchMarkEvaluator``, ``CustomScorerEvaluator``,
``LLMAsJudgeEvaluator`` and ``MultiTurnRLEvaluator`` (``sagemaker.train.evaluate``).

Field names mirror the SDK's constructor arguments. What needs a lookup (the model exists, a subtask
belongs to the benchmark, an inference override fits the model's evaluation recipe, a registry name
exists) is checked in ``execute()`` before any pipeline is created (:mod:`airflow_provider_smtrain.sdk.evaluation`)
and reported with the same :class:`~airflow_provider_smtrain.specs.errors.SpecValidationError`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BeforeValidator, Field, JsonValue, model_validator

from airflow_provider_smtrain.specs.base import Loose, Problems, SpecModel, loosen, matches, one_of
from airflow_provider_smtrain.specs.common import (
    S3_URI_PATTERN,
    HyperparameterName,
    IamRoleArn,
    NonEmptyStr,
    S3Uri,
    Tags,
)
from airflow_provider_smtrain.specs.finetune import (
    EVALUATOR_ARN,
    MODEL_PACKAGE_ARN,
    DatasetSource,
    MlflowName,
    MlflowResource,
    ModelPackageGroup,
    RegistryOutput,
    VpcConfigSpec,
    model_check,
)

__all__ = [
    "BENCHMARKS",
    "BenchMarkEvaluatorSpec",
    "CustomScorerEvaluatorSpec",
    "LLMAsJudgeEvaluatorSpec",
    "MultiTurnRLEvaluatorSpec",
]

#: Benchmarks of ``BenchMarkEvaluator`` (the SDK's ``_Benchmark`` values).
BENCHMARKS = ("mmlu", "mmlu_pro", "bbh", "gpqa", "math", "strong_reject", "ifeval", "mmmu", "llm_judge")
#: Built-in metrics of ``CustomScorerEvaluator`` (the SDK's ``_BuiltInMetric`` values).
BUILTIN_SCORERS = ("prime_math", "prime_code")
#: Built-in judge metrics of ``LLMAsJudgeEvaluator`` (Amazon Bedrock model evaluation).
JUDGE_METRICS = (
    "Correctness", "Completeness", "Faithfulness", "Helpfulness", "Coherence", "Relevance",
    "FollowingInstructions", "ProfessionalStyleAndTone", "Harmfulness", "Stereotyping", "Refusal",
)
#: ``MultiTurnRLEvaluator``'s largest stopping condition (72 hours).
MAX_MTRL_SECONDS = 72 * 3600
S3_CHECKPOINT = r"s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?"
BEDROCK_MODEL_ID = r"[a-z0-9-]+\.[A-Za-z0-9._:-]+|arn:aws[a-z-]*:bedrock:[a-z0-9-]+:\d{0,12}:[A-Za-z0-9/._:-]+"
AGENT_ARN = (
    r"arn:aws[a-z-]*:bedrock-agentcore:[a-z0-9-]+:\d{12}:(agent-runtime|runtime)/.+"
    r"|arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:.+"
)

_MODEL_ACCEPTED = (
    "a hub model id (e.g. meta-textgeneration-llama-3-2-1b-instruct), a model package ARN "
    "(arn:aws:sagemaker:<region>:<account>:model-package/<group>/<version>), an S3 checkpoint URI "
    "(s3://bucket/prefix/), or the output of an earlier trainer task (a dict with model_package_arn)"
)


def _model_reference(value: Any) -> Any:
    value = loosen(value)
    if isinstance(value, Mapping):
        arn = value.get("model_package_arn") or (value.get("model_package") or {}).get("arn")
        if not isinstance(arn, str) or not arn:
            raise ValueError(
                "the given output has no model_package_arn (did the trainer task register its model "
                "in a model package group, and did its job complete?); accepted: " + _MODEL_ACCEPTED
            )
        return arn
    return value


_check_model = model_check(_MODEL_ACCEPTED, S3_CHECKPOINT, urls="only s3:// URIs are accepted")


EvalModel = Annotated[str, BeforeValidator(_model_reference), Field(min_length=1), AfterValidator(_check_model)]


def _subtasks(value: Any) -> Any:
    value = loosen(value)
    return [value] if isinstance(value, str) else value


def _json_text(value: Any) -> Any:
    """Custom judge metrics given as a list or dict become the JSON string the SDK takes."""
    value = loosen(value)
    if isinstance(value, list | dict):
        return json.dumps(value)
    return value


def _check_json(value: str) -> str:
    try:
        json.loads(value)
    except ValueError:
        raise ValueError("must be JSON (a string, or a list/dict of metric definitions)") from None
    return value


def _check_evaluator(value: str) -> str:
    if value in BUILTIN_SCORERS or re.fullmatch(EVALUATOR_ARN, value):
        return value
    if re.fullmatch(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}", value):
        return value
    raise ValueError(
        f"must be a built-in metric ({', '.join(BUILTIN_SCORERS)}), an AI Registry evaluator ARN, a "
        "registered evaluator name, or the output of a CreateEvaluatorOperator task"
    )


def _judge_metric(value: Any) -> Any:
    if isinstance(value, str) and value.lower().startswith("builtin."):
        value = value[len("builtin."):]
    return {m.lower(): m for m in JUDGE_METRICS}.get(value.lower(), value) if isinstance(value, str) else value


JudgeMetric = Annotated[
    str,
    BeforeValidator(_judge_metric),
    matches("|".join(JUDGE_METRICS), "one of " + ", ".join(JUDGE_METRICS) + " (a Builtin. prefix is allowed)"),
]

_COMMON_DOC = """
    :param model: the model to evaluate: {model}.
    :param role: IAM role ARN the pipeline and its jobs run as.
    :param s3_output_path: S3 URI the evaluation writes its results under.
    :param evaluate_base_model: also evaluate the base model, side by side (default False).
    :param mlflow_resource_arn: MLflow app or tracking server ARN the evaluation reports to, or
        ``"default"`` to let the SDK find (or create) the account's app. Unset: no MLflow and no MLflow call.
    :param mlflow_experiment_name: MLflow experiment name.
    :param mlflow_run_name: MLflow run name.
    :param networking: ``{{"subnets": [...], "security_group_ids": [...]}}``.
    :param kms_key_id: KMS key that encrypts the output.
    :param model_package_group: model package group (name or ARN) of the evaluated model.
    :param tags: tags of the pipeline (a mapping, or a list of ``{{key, value}}``)."""


class _EvaluatorSpec(SpecModel):
    """Arguments every evaluator takes."""

    evaluation_type: ClassVar[str]
    model: EvalModel
    role: IamRoleArn
    s3_output_path: S3Uri
    evaluate_base_model: bool = False
    mlflow_resource_arn: MlflowResource | None = None
    mlflow_experiment_name: MlflowName | None = None
    mlflow_run_name: MlflowName | None = None
    networking: VpcConfigSpec | None = None
    kms_key_id: NonEmptyStr | None = None
    model_package_group: ModelPackageGroup | None = None
    tags: Tags = {}

    @model_validator(mode="after")
    def _mlflow_names_need_app(self) -> _EvaluatorSpec:
        problems = Problems()
        for field in ("mlflow_experiment_name", "mlflow_run_name"):
            if getattr(self, field) is not None and self.mlflow_resource_arn is None:
                problems.add(field, "needs mlflow_resource_arn (an MLflow app ARN or 'default')")
        problems.raise_if_any()
        return self

    @property
    def model_is_package(self) -> bool:
        """Whether ``model`` is a model package ARN."""
        return re.fullmatch(MODEL_PACKAGE_ARN, self.model) is not None


Overrides = Annotated[dict[HyperparameterName, JsonValue], Loose, Field(max_length=200)]


class BenchMarkEvaluatorSpec(_EvaluatorSpec):
    __doc__ = (
        "\n    Arguments of ``BenchMarkEvaluator``.\n"
        + _COMMON_DOC.format(model=_MODEL_ACCEPTED)
        + f"\n    :param benchmark: one of {', '.join(BENCHMARKS)} (any casing)."
        + "\n    :param subtasks: a subtask, a list of subtasks, or ``ALL``; checked against the benchmark."
        + "\n    :param hyperparameters: inference overrides (``temperature``, ``max_new_tokens``...),"
        + " checked against the model's evaluation recipe before anything is created.\n    "
    )

    evaluation_type: ClassVar[str] = "benchmark"
    benchmark: Annotated[Literal[BENCHMARKS], one_of(BENCHMARKS)]  # type: ignore[valid-type]
    subtasks: Annotated[list[NonEmptyStr], BeforeValidator(_subtasks), Field(min_length=1, max_length=100)] | None = None
    hyperparameters: Overrides = {}


class CustomScorerEvaluatorSpec(_EvaluatorSpec):
    __doc__ = (
        "\n    Arguments of ``CustomScorerEvaluator``.\n"
        + _COMMON_DOC.format(model=_MODEL_ACCEPTED)
        + f"\n    :param evaluator: a built-in metric ({', '.join(BUILTIN_SCORERS)}), an AI Registry evaluator"
        + " ARN or name, or a ``CreateEvaluatorOperator`` task's output."
        + "\n    :param dataset: S3 URI, AI Registry dataset ARN or name, or a ``CreateDataSetOperator`` output."
        + "\n    :param hyperparameters: inference overrides, checked against the model's evaluation recipe.\n    "
    )

    evaluation_type: ClassVar[str] = "custom_scorer"
    evaluator: Annotated[str, RegistryOutput, BeforeValidator(lambda v: v.lower() if isinstance(v, str) and v.lower() in BUILTIN_SCORERS else v), Field(min_length=1), AfterValidator(_check_evaluator)]
    dataset: DatasetSource
    hyperparameters: Overrides = {}


class LLMAsJudgeEvaluatorSpec(_EvaluatorSpec):
    __doc__ = (
        "\n    Arguments of ``LLMAsJudgeEvaluator``.\n"
        + _COMMON_DOC.format(model=_MODEL_ACCEPTED)
        + "\n    :param evaluator_model: the judge: an Amazon Bedrock model id (``anthropic.claude-3-5-haiku-20241022-v1:0``)."
        + "\n    :param dataset: S3 URI, AI Registry dataset ARN or name, or a ``CreateDataSetOperator`` output."
        + f"\n    :param builtin_metrics: judge metrics among {', '.join(JUDGE_METRICS)}."
        + "\n    :param custom_metrics: custom judge metrics: a JSON string, or a list/dict rendered to JSON.\n    "
    )

    evaluation_type: ClassVar[str] = "llm_as_judge"
    evaluator_model: Annotated[str, matches(BEDROCK_MODEL_ID, "an Amazon Bedrock model id like anthropic.claude-3-5-haiku-20241022-v1:0")]
    dataset: DatasetSource
    builtin_metrics: Annotated[list[JudgeMetric], BeforeValidator(_subtasks), Field(max_length=20)] | None = None
    custom_metrics: Annotated[str, BeforeValidator(_json_text), AfterValidator(_check_json)] | None = None

    @model_validator(mode="after")
    def _some_metric(self) -> LLMAsJudgeEvaluatorSpec:
        if not self.builtin_metrics and not self.custom_metrics:
            problems = Problems()
            problems.add("builtin_metrics", "give at least one judge metric (builtin_metrics or custom_metrics)")
            problems.raise_if_any()
        return self


class MultiTurnRLEvaluatorSpec(_EvaluatorSpec):
    __doc__ = (
        "\n    Arguments of ``MultiTurnRLEvaluator`` (serverless pipeline path).\n"
        + _COMMON_DOC.format(model=_MODEL_ACCEPTED)
        + "\n    :param dataset: prompt dataset: S3 URI, AI Registry dataset ARN or name."
        + "\n    :param agent_config: the agent environment: a Bedrock AgentCore runtime ARN or a Lambda ARN."
        + "\n    :param agent_qualifier: Bedrock AgentCore endpoint qualifier."
        + "\n    :param accept_eula: accept the base model's license (default True, as the SDK)."
        + f"\n    :param stopping_condition: largest job duration in seconds, 1..{MAX_MTRL_SECONDS}.\n    "
    )

    evaluation_type: ClassVar[str] = "multi_turn_rl"
    dataset: DatasetSource
    agent_config: Annotated[str, matches(AGENT_ARN, "a Bedrock AgentCore runtime ARN or a Lambda function ARN")]
    agent_qualifier: NonEmptyStr | None = None
    accept_eula: bool = True
    stopping_condition: Annotated[int, Field(ge=1, le=MAX_MTRL_SECONDS)] = 86400


def s3_dataset(value: str | None) -> bool:
    """
    Whether a dataset argument is an S3 URI.

    :param value: the dataset argument.
    """
    return bool(value) and re.fullmatch(S3_URI_PATTERN, str(value)) is not None

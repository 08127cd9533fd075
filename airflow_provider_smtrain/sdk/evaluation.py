"""Build and start the SDK's serverless evaluators (``BenchMarkEvaluator``, ``CustomScorerEvaluator``,
``LLMAsJudgeEvaluator``, ``MultiTurnRLEvaluator``) from a validated spec, with the SDK's hazards neutralised.

Everything runs inside :meth:`SageMakerTrainHook.sdk_scope` (every client the SDK creates, including
``MultiTurnRLEvaluator``'s direct ``boto3.client("sagemaker")``, is signed by the task's connection).
On top of that:

* **No MLflow app unless asked.** Without ``mlflow_resource_arn`` the SDK would list the account's MLflow
  apps and, finding none, create one and wait for it, at construction time. Its resolver is replaced
  for the call: no MLflow request at all; ``mlflow_resource_arn="default"`` keeps the SDK's behaviour.
* **One pipeline per task instance generation, started idempotently.** The SDK reuses one account-wide
  pipeline per evaluation type, ``UpdatePipeline``-s it before every start (two concurrent evaluations
  can run each other's definition) and starts it with a random ``ClientRequestToken``; it also swallows
  every error of the start (``start()`` returns a "Failed" object, sometimes without an ARN). Here the
  evaluator renders its definition as usual, and the start is replaced for the evaluator instance:
  the definition goes into the pipeline the operator named (created, or updated when an earlier try of
  the same generation created it), started with the operator's deterministic token and display name.
  A repeated start with the same token returns the same execution; AWS errors propagate unchanged.
* **Nothing in the worker's working directory.** ``MultiTurnRLEvaluator`` writes its definition to
  ``./mtrl_eval_pipeline_input.json``; it runs in a temporary directory that is removed afterwards.
* **Inference overrides** are checked against the model's evaluation recipe before anything is created.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import logging
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_smtrain.exceptions import SageMakerSubmitError
from airflow_provider_smtrain.sdk.finetune import resolve_registry_name, telemetry_reuses
from airflow_provider_smtrain.sdk.finetune_checks import construction_error, recipe_override_errors
from airflow_provider_smtrain.specs.errors import SpecValidationError
from airflow_provider_smtrain.specs.finetune import MLFLOW_DEFAULT

if TYPE_CHECKING:
    from airflow_provider_smtrain.specs.evaluation import _EvaluatorSpec

log = logging.getLogger(__name__)

#: evaluation type -> (SDK module, evaluator class, SDK pipeline name prefix).
EVALUATORS: dict[str, tuple[str, str, str]] = {
    "benchmark": (
        "sagemaker.train.evaluate.benchmark_evaluator", "BenchMarkEvaluator", "SagemakerEvaluation-BenchmarkEvaluation"
    ),
    "custom_scorer": (
        "sagemaker.train.evaluate.custom_scorer_evaluator", "CustomScorerEvaluator",
        "SagemakerEvaluation-CustomScorerEvaluation",
    ),
    "llm_as_judge": (
        "sagemaker.train.evaluate.llm_as_judge_evaluator", "LLMAsJudgeEvaluator", "SagemakerEvaluation-LLMAJEvaluation"
    ),
    "multi_turn_rl": (
        "sagemaker.train.evaluate.multi_turn_rl_evaluator", "MultiTurnRLEvaluator", "SagemakerEvaluation-MTRLEvaluation"
    ),
}
#: Tag every pipeline the provider creates carries (its value: the display name of the execution).
OWNER_TAG = "airflow-smtrain:execution"


def pipeline_name_for(evaluation_type: str, display_name: str) -> str:
    """
    The pipeline of one task instance generation: the SDK's prefix (so the SDK recognises the evaluation
    type from the ARN) followed by the deterministic display name.

    :param evaluation_type: ``benchmark``, ``custom_scorer``, ``llm_as_judge`` or ``multi_turn_rl``.
    :param display_name: the execution display name the operator derived from the task instance.
    """
    return f"{EVALUATORS[evaluation_type][2]}-{display_name}"


def pipeline_token(token: str) -> str:
    """
    The ``ClientRequestToken`` of ``CreatePipeline``, derived from the execution's token.

    :param token: the execution's request token.
    """
    return hashlib.sha256(f"pipeline\x1f{token}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class StartPlan:
    """
    Where and how one evaluation starts.

    :param pipeline_name: the pipeline of this task instance generation.
    :param display_name: the execution display name.
    :param token: the execution's ``ClientRequestToken``.
    """

    pipeline_name: str
    display_name: str
    token: str


@contextlib.contextmanager
def mlflow_only_if_asked(spec: _EvaluatorSpec) -> Iterator[None]:
    """
    Without ``mlflow_resource_arn``, the evaluator's MLflow resolver answers "no MLflow" without a request.

    :param spec: the validated spec.
    """
    if spec.mlflow_resource_arn is not None:
        yield
        return
    from sagemaker.train.evaluate import base_evaluator

    original = base_evaluator._resolve_mlflow_resource_arn
    base_evaluator._resolve_mlflow_resource_arn = lambda *args, **kwargs: None
    try:
        yield
    finally:
        base_evaluator._resolve_mlflow_resource_arn = original


@contextlib.contextmanager
def private_workdir(enabled: bool) -> Iterator[None]:
    """
    Run the block in a temporary working directory, removed afterwards (the worker's own is left alone).

    :param enabled: False runs the block where it is.
    """
    if not enabled:
        yield
        return
    before = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="smtrain-eval-") as scratch:
        os.chdir(scratch)
        try:
            yield
        finally:
            os.chdir(before)


def evaluator_arguments(owner: str, spec: _EvaluatorSpec, session: Any, region: str, name: str) -> dict[str, Any]:
    """
    The SDK evaluator's constructor arguments.

    :param owner: the operator class name (named in errors).
    :param spec: the validated spec.
    :param session: the SDK session of the scope.
    :param region: the task's region.
    :param name: the execution's display name (the SDK's ``base_eval_name``).
    """
    kwargs: dict[str, Any] = {
        "model": spec.model,
        "role": spec.role,
        "s3_output_path": spec.s3_output_path,
        "sagemaker_session": session,
        "region": region,
        "evaluate_base_model": spec.evaluate_base_model,
        "kms_key_id": spec.kms_key_id,
        "model_package_group": spec.model_package_group,
        "base_eval_name": name,
        "tags": [{"key": key, "value": value} for key, value in spec.tags.items()] or None,
        "mlflow_experiment_name": spec.mlflow_experiment_name,
        "mlflow_run_name": spec.mlflow_run_name,
    }
    if spec.mlflow_resource_arn not in (None, MLFLOW_DEFAULT):
        kwargs["mlflow_resource_arn"] = spec.mlflow_resource_arn
    if spec.networking is not None:
        from sagemaker.core.shapes import VpcConfig

        kwargs["networking"] = VpcConfig(
            subnets=list(spec.networking.subnets), security_group_ids=list(spec.networking.security_group_ids)
        )
    kind = spec.evaluation_type
    if kind == "benchmark":
        kwargs.update(benchmark=_benchmark(spec.benchmark), subtasks=spec.subtasks)  # type: ignore[attr-defined]
    if kind in ("custom_scorer", "llm_as_judge", "multi_turn_rl"):
        kwargs["dataset"] = resolve_registry_name(owner, "dataset", "DataSet", spec.dataset, session)  # type: ignore[attr-defined]
    if kind == "custom_scorer":
        evaluator = spec.evaluator  # type: ignore[attr-defined]
        kwargs["evaluator"] = resolve_registry_name(owner, "evaluator", "JsonDoc", evaluator, session) if not _builtin(evaluator) else evaluator
    if kind == "llm_as_judge":
        kwargs.update(
            evaluator_model=spec.evaluator_model,  # type: ignore[attr-defined]
            builtin_metrics=spec.builtin_metrics,  # type: ignore[attr-defined]
            custom_metrics=spec.custom_metrics,  # type: ignore[attr-defined]
        )
    if kind == "multi_turn_rl":
        kwargs.update(
            agent_config=spec.agent_config,  # type: ignore[attr-defined]
            agent_qualifier=spec.agent_qualifier,  # type: ignore[attr-defined]
            accept_eula=spec.accept_eula,  # type: ignore[attr-defined]
            stopping_condition=spec.stopping_condition,  # type: ignore[attr-defined]
        )
    return {key: value for key, value in kwargs.items() if value is not None}


def _builtin(evaluator: str) -> bool:
    from airflow_provider_smtrain.specs.evaluation import BUILTIN_SCORERS

    return evaluator in BUILTIN_SCORERS


def _benchmark(value: str) -> Any:
    from sagemaker.train.evaluate.benchmark_evaluator import _Benchmark

    return _Benchmark(value)


def build_evaluator(owner: str, spec: _EvaluatorSpec, session: Any, region: str, name: str) -> Any:
    """
    The SDK evaluator for ``spec`` (its construction errors about an argument become :class:`SpecValidationError`).

    :param owner: the operator class name.
    :param spec: the validated spec.
    :param session: the SDK session of the scope.
    :param region: the task's region.
    :param name: the execution's display name.
    """
    module_name, class_name, _ = EVALUATORS[spec.evaluation_type]
    evaluator_class = getattr(importlib.import_module(module_name), class_name)
    kwargs = evaluator_arguments(owner, spec, session, region, name)
    try:
        evaluator = evaluator_class(**kwargs)
    except (ValueError, AttributeError) as err:
        raise _argument_error(owner, err) from None
    apply_overrides(owner, spec, evaluator)
    return evaluator


def _argument_error(owner: str, err: Exception) -> Exception:
    """The SDK's construction error as an error naming the argument (pydantic locations, or known messages)."""
    translated = construction_error(owner, err)
    if translated is not None:
        return translated
    errors = getattr(err, "errors", None)
    if callable(errors):
        try:
            items = [
                {"field": ".".join(str(part) for part in item.get("loc", ()) or ("<root>",)),
                 "message": " ".join(str(item.get("msg", "")).split())}
                for item in errors()
            ]
        except Exception:
            items = []
        if items:
            return SpecValidationError(owner, items)
    return err


def apply_overrides(owner: str, spec: _EvaluatorSpec, evaluator: Any) -> None:
    """
    Check the inference overrides against the model's evaluation recipe, then set them.

    :param owner: the operator class name.
    :param spec: the validated spec.
    :param evaluator: the SDK evaluator (its ``hyperparameters`` hold the recipe's override spec).
    """
    overrides = getattr(spec, "hyperparameters", None)
    if not overrides:
        return
    options = evaluator.hyperparameters
    specs = getattr(options, "_specs", None)
    if not isinstance(specs, dict):
        raise SageMakerSubmitError("the SDK evaluator exposes no recipe override spec to check hyperparameters against")
    converted, errors = recipe_override_errors(overrides, specs, spec.model)
    if errors:
        raise SpecValidationError(owner, errors)
    for name, value in converted.items():
        try:
            setattr(options, name, value)
        except (ValueError, AttributeError) as err:
            raise SpecValidationError(owner, [{"field": f"hyperparameters.{name}", "message": str(err)}]) from None


def ensure_pipeline(client: Any, plan: StartPlan, definition: str, role_arn: str, tags: list[dict[str, str]]) -> None:
    """
    Put ``definition`` into this generation's pipeline: create it, or update it when an earlier try of
    the same generation created it (it is nobody else's: its name holds the task instance digest).

    :param client: a boto3 SageMaker client of the connection.
    :param plan: where the evaluation starts.
    :param definition: the rendered pipeline definition.
    :param role_arn: the pipeline's role.
    :param tags: the pipeline's tags (``Key``/``Value``).
    """
    from botocore.exceptions import ClientError

    try:
        client.create_pipeline(
            PipelineName=plan.pipeline_name,
            PipelineDefinition=definition,
            PipelineDescription=f"Evaluation pipeline of {plan.display_name} (airflow-provider-smtrain)",
            RoleArn=role_arn,
            ClientRequestToken=pipeline_token(plan.token),
            Tags=[*tags, {"Key": OWNER_TAG, "Value": plan.display_name}],
        )
        log.info("Created pipeline %s", plan.pipeline_name)
    except ClientError as err:
        error = err.response.get("Error") or {}
        exists = error.get("Code") == "ResourceInUse" or "already exists" in str(error.get("Message", ""))
        if not exists:
            raise
        client.update_pipeline(PipelineName=plan.pipeline_name, PipelineDefinition=definition, RoleArn=role_arn)
        log.info("Pipeline %s existed (an earlier try of this generation): updated its definition", plan.pipeline_name)


def start_execution(client: Any, plan: StartPlan, description: str) -> str:
    """
    Start this generation's execution with its deterministic token; a repeated call returns the same ARN.

    :param client: a boto3 SageMaker client of the connection.
    :param plan: where the evaluation starts.
    :param description: the execution's description.
    """
    response = client.start_pipeline_execution(
        PipelineName=plan.pipeline_name,
        PipelineExecutionDisplayName=plan.display_name,
        PipelineExecutionDescription=description[:3072],
        PipelineParameters=[],
        ClientRequestToken=plan.token,
    )
    return str(response["PipelineExecutionArn"])


def _sdk_tags(evaluator: Any) -> list[dict[str, str]]:
    tags: list[Any] = []
    if getattr(evaluator, "_is_jumpstart_model", False):
        from sagemaker.core.jumpstart.utils import add_jumpstart_model_info_tags

        tags = add_jumpstart_model_info_tags(tags, evaluator.model, "*") or []
    tags = [*tags, *(evaluator.tags or [])]
    pairs = []
    for tag in tags:
        key = tag.get("Key", tag.get("key")) if isinstance(tag, dict) else getattr(tag, "key", None)
        value = tag.get("Value", tag.get("value")) if isinstance(tag, dict) else getattr(tag, "value", None)
        if key and value is not None:
            pairs.append({"Key": str(key), "Value": str(value)})
    return pairs


@contextlib.contextmanager
def replaced_start(evaluator_class: type, client: Any, plan: StartPlan, started: dict[str, str]) -> Iterator[None]:
    """
    Make evaluators of ``evaluator_class`` start their rendered definition in the plan's pipeline.

    Patched on the class for the block only; SDK code runs only inside a credentials scope, and scopes
    are serialised process-wide, so no other evaluation sees the patch.

    :param evaluator_class: the SDK evaluator class.
    :param client: a boto3 SageMaker client of the connection.
    :param plan: where the evaluation starts.
    :param started: receives ``arn`` once the execution started.
    """
    from jinja2 import Template

    def _start(self: Any, eval_type: Any = None, name: str = "", pipeline_definition: str = "",
               role_arn: str = "", region: str | None = None) -> None:
        definition = Template(pipeline_definition).render(pipeline_name=plan.pipeline_name)
        ensure_pipeline(client, plan, definition, role_arn, _sdk_tags(self))
        started["arn"] = start_execution(client, plan, f"Evaluation execution: {name}")
        log.info("Started pipeline execution %s (%s)", started["arn"], plan.display_name)

    def _start_mtrl(self: Any, pipeline_definition: str, name: str, role_arn: str, region: str) -> None:
        _start(self, None, name, pipeline_definition, role_arn, region)

    patches = {"_start_execution": _start, "_start_mtrl_execution": _start_mtrl}
    originals = {attr: evaluator_class.__dict__.get(attr) for attr in patches}
    for attr, replacement in patches.items():
        setattr(evaluator_class, attr, replacement)
    try:
        yield
    finally:
        for attr, original in originals.items():
            if original is None:
                delattr(evaluator_class, attr)
            else:
                setattr(evaluator_class, attr, original)


def start_evaluation(owner: str, session: Any, client: Any, spec: _EvaluatorSpec, plan: StartPlan, region: str) -> str:
    """
    Build the evaluator and start this generation's execution; return its ARN. Call inside ``hook.sdk_scope()``.

    :param owner: the operator class name (named in errors).
    :param session: the SDK session from :meth:`SageMakerTrainHook.sdk_scope`.
    :param client: a boto3 SageMaker client of the connection (the hook's).
    :param spec: the validated spec.
    :param plan: the pipeline, display name and token the operator derived from the task instance.
    :param region: the task's region.
    """
    started: dict[str, str] = {}
    with mlflow_only_if_asked(spec), telemetry_reuses(session), private_workdir(spec.evaluation_type == "multi_turn_rl"):
        evaluator = build_evaluator(owner, spec, session, region, plan.display_name)
        try:
            with replaced_start(type(evaluator), client, plan, started):
                evaluator.evaluate()
        except (ValueError, AttributeError) as err:
            if "arn" in started:
                raise
            raise _argument_error(owner, err) from None
    if "arn" not in started:
        raise SageMakerSubmitError(
            f"{type(evaluator).__name__}.evaluate() returned without starting a pipeline execution; the "
            "installed sagemaker-train may be outside the supported range"
        )
    return started["arn"]

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
import importlib
import logging
import os
import tempfile
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from airflow_provider_smtrain.exceptions import SageMakerSubmitError
from airflow_provider_smtrain.sdk.evaluation_pipeline import (
    EVALUATORS,
    StartPlan,
    replaced_start,
)
from airflow_provider_smtrain.sdk.finetune import resolve_registry_name, telemetry_reuses
from airflow_provider_smtrain.sdk.finetune_checks import construction_error, recipe_override_errors
from airflow_provider_smtrain.sdk.interrupts import sdk_call
from airflow_provider_smtrain.specs.errors import SpecValidationError
from airflow_provider_smtrain.specs.finetune import MLFLOW_DEFAULT

if TYPE_CHECKING:
    from airflow_provider_smtrain.specs.evaluation import _EvaluatorSpec

log = logging.getLogger(__name__)

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
    with sdk_call(), mlflow_only_if_asked(spec), telemetry_reuses(session), private_workdir(
        spec.evaluation_type == "multi_turn_rl"
    ):
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

"""The pipeline each evaluation runs in: one per task-instance generation, never the SDK's shared one.

The SDK reuses one account-wide pipeline per evaluation type and updates it before every start, so two
concurrent evaluations can run each other's definition. Here the SDK still renders the definition, but
its start is replaced (:func:`replaced_start`) by ``CreatePipeline`` (or ``UpdatePipeline`` of this
generation's own pipeline) and ``StartPipelineExecution`` with the generation's deterministic token.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from airflow_provider_smtrain.sdk.interrupts import recording

__all__ = [
    "EVALUATORS",
    "OWNER_TAG",
    "StartPlan",
    "drop_unset_mlflow",
    "ensure_pipeline",
    "pipeline_name_for",
    "pipeline_token",
    "replaced_start",
    "start_execution",
]

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


#: What the SDK's templates render for an MLflow ARN it does not have (Jinja prints ``None`` as ``"None"``).
_UNSET_ARNS = frozenset({"", "None", "none", "null"})


def drop_unset_mlflow(definition: str) -> str:
    """
    The definition without an ``MlflowConfig`` whose ``MlflowResourceArn`` is unset.

    The SDK's evaluation templates always render ``"MlflowConfig": {"MlflowResourceArn": "{{ arn }}"}``;
    without MLflow (the provider's default) that is the string ``"None"``, which the pipeline would carry
    into its description, its training jobs and the task's result as if it were an ARN.

    :param definition: the rendered pipeline definition (JSON).
    """
    document = json.loads(definition)
    config = document.get("MlflowConfig") if isinstance(document, dict) else None
    if not isinstance(config, dict) or str(config.get("MlflowResourceArn") or "").strip() not in _UNSET_ARNS:
        return definition
    del document["MlflowConfig"]
    return json.dumps(document)


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
def replaced_start(evaluator_class: type, client: Any, plan: StartPlan, started: dict[str, Any]) -> Iterator[None]:
    """
    Make evaluators of ``evaluator_class`` start their rendered definition in the plan's pipeline.

    Patched on the class for the block only; SDK code runs only inside a credentials scope, and scopes
    are serialised process-wide, so no other evaluation sees the patch.

    The SDK's telemetry decorator around ``evaluate()`` swallows Airflow's timeout and termination: one
    raised while the pipeline is put or the execution started is recorded for the caller's
    :func:`~airflow_provider_smtrain.sdk.interrupts.sdk_call` block, which raises it again.

    :param evaluator_class: the SDK evaluator class.
    :param client: a boto3 SageMaker client of the connection.
    :param plan: where the evaluation starts.
    :param started: receives ``arn`` once the execution started.
    """
    from jinja2 import Template

    def _start(self: Any, eval_type: Any = None, name: str = "", pipeline_definition: str = "",
               role_arn: str = "", region: str | None = None) -> None:
        definition = drop_unset_mlflow(Template(pipeline_definition).render(pipeline_name=plan.pipeline_name))
        with recording():
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

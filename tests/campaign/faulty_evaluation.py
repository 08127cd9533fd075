"""The campaign's evaluators (kind ``evaluation``): the real evaluator operators, dying where a scenario says.

An evaluation starts in two requests, ``CreatePipeline`` (or ``UpdatePipeline`` of the generation's own
pipeline) then ``StartPipelineExecution``; besides the death points of every kind
(:class:`~tests.campaign.faulty._Dying`) a worker can die between the two (``after_pipeline``) and
right after the start was carried out, its response lost with the worker (``start_lost``). Both are
raised from inside the SDK's start, through :func:`pipeline_death_points`, which wraps the provider's
two request functions while a scenario runs; the wrappers act only in a thread whose operator is
starting (:data:`STARTING`), so the other deployment's thread and other tests are untouched.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from airflow_provider_smtrain.operators.evaluation import (
    BenchMarkEvaluatorOperator,
    CustomScorerEvaluatorOperator,
    LLMAsJudgeEvaluatorOperator,
    MultiTurnRLEvaluatorOperator,
)
from airflow_provider_smtrain.operators.evaluation_base import EvaluatorOperator
from airflow_provider_smtrain.sdk import evaluation_pipeline
from tests.campaign.faulty import _Dying

if TYPE_CHECKING:
    from airflow_provider_smtrain.sdk.evaluation_pipeline import StartPlan
    from airflow_provider_smtrain.specs.evaluation import _EvaluatorSpec
    from tests.campaign.faulty import CampaignFaults

#: The death points of the start, inside the SDK call (see the module docstring).
START_POINTS = ("after_pipeline", "start_lost")
#: The faults of the operator whose worker (this thread) is starting an evaluation, if any.
STARTING: contextvars.ContextVar[CampaignFaults | None] = contextvars.ContextVar("campaign_starting", default=None)


class _DyingEvaluator(_Dying):
    """The evaluator's submission is :meth:`EvaluatorOperator._start` (its ARN comes from SageMaker)."""

    def _start(self, spec: _EvaluatorSpec, plan: StartPlan) -> str:
        self.campaign.die_at("before_submit")
        token = STARTING.set(self.campaign)
        try:
            with self.campaign.submitting():
                arn: str = super()._start(spec, plan)  # type: ignore[misc]
        finally:
            STARTING.reset(token)
        self.campaign.die_at("after_create")
        return arn


class CampaignBenchMark(_DyingEvaluator, BenchMarkEvaluatorOperator):
    """``BenchMarkEvaluatorOperator`` with the campaign's death points."""


class CampaignCustomScorer(_DyingEvaluator, CustomScorerEvaluatorOperator):
    """``CustomScorerEvaluatorOperator`` with the campaign's death points."""


class CampaignLLMAsJudge(_DyingEvaluator, LLMAsJudgeEvaluatorOperator):
    """``LLMAsJudgeEvaluatorOperator`` with the campaign's death points."""


class CampaignMultiTurnRLEval(_DyingEvaluator, MultiTurnRLEvaluatorOperator):
    """``MultiTurnRLEvaluatorOperator`` (an AgentRFT evaluation job step) with the campaign's death points."""


EVALUATOR_CLASSES: dict[str, type[EvaluatorOperator]] = {
    "benchmark": CampaignBenchMark,
    "custom_scorer": CampaignCustomScorer,
    "llm_as_judge": CampaignLLMAsJudge,
    "multi_turn_rl": CampaignMultiTurnRLEval,
}


@contextlib.contextmanager
def pipeline_death_points() -> Iterator[None]:
    """
    While the block runs, a starting evaluator's worker can die after its pipeline was put
    (``after_pipeline``) and after ``StartPipelineExecution`` was carried out (``start_lost``).
    """
    ensure, start = evaluation_pipeline.ensure_pipeline, evaluation_pipeline.start_execution

    def ensure_then_maybe_die(*args: Any, **kwargs: Any) -> None:
        ensure(*args, **kwargs)
        faults = STARTING.get()
        if faults is not None:
            faults.die_at("after_pipeline")

    def start_then_maybe_die(*args: Any, **kwargs: Any) -> str:
        arn = start(*args, **kwargs)
        faults = STARTING.get()
        if faults is not None:
            faults.die_at("start_lost")
        return arn

    evaluation_pipeline.ensure_pipeline = ensure_then_maybe_die  # type: ignore[assignment]
    evaluation_pipeline.start_execution = start_then_maybe_die  # type: ignore[assignment]
    try:
        yield
    finally:
        evaluation_pipeline.ensure_pipeline, evaluation_pipeline.start_execution = ensure, start


#: The base model, the model package group and version 1 (the evaluated model) of ``evaluation`` scenarios.
EVAL_MODEL = "meta-textgeneration-llama-3-2-1b-instruct"
EVAL_GROUP = "campaign-eval-models"
EVAL_PACKAGE = f"arn:aws:sagemaker:us-east-1:123456789012:model-package/{EVAL_GROUP}/1"
EVAL_RECORDS = b'{"query": "2+2?", "response": "4"}\n{"query": "3+3?", "response": "6"}\n'
JUDGE_MODEL = "anthropic.claude-3-5-haiku-20241022-v1:0"
AGENT_ARN = "arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/campaignAgent-aBcDeFgHiJ"


def prepare_evaluation(sm: Any, bucket: str) -> None:
    """
    What an ``evaluation`` scenario needs in the (freshly reset) local SageMaker: the evaluation records
    and a model package fine-tuned from :data:`EVAL_MODEL`.

    :param sm: the local SageMaker client.
    :param bucket: the S3 bucket of inputs and outputs.
    """
    sm.put_object(bucket, "eval/data.jsonl", EVAL_RECORDS)
    sm.put_object(bucket, "tuned/weights/adapter.safetensors", b"weights")
    client = sm.boto3_client("sagemaker")
    client.create_model_package_group(ModelPackageGroupName=EVAL_GROUP)
    container = {
        "ModelDataSource": {"S3DataSource": {"S3Uri": f"s3://{bucket}/tuned/weights/", "S3DataType": "S3Prefix",
                                             "CompressionType": "None"}},
        "BaseModel": {"HubContentName": EVAL_MODEL, "HubContentVersion": "1.3.0"},
    }
    arn = client.create_model_package(ModelPackageGroupName=EVAL_GROUP, InferenceSpecification={"Containers": [container]})
    if arn["ModelPackageArn"] != EVAL_PACKAGE:
        raise AssertionError(f"the evaluated model package is {arn['ModelPackageArn']}, not {EVAL_PACKAGE}")


def evaluator_args(evaluator: str, bucket: str, role_arn: str) -> dict[str, Any]:
    """
    Arguments of one small evaluation of :data:`EVAL_PACKAGE` (base model not evaluated: one job step).

    :param evaluator: ``benchmark``, ``custom_scorer``, ``llm_as_judge`` or ``multi_turn_rl``.
    :param bucket: the S3 bucket of inputs and outputs.
    :param role_arn: the execution role.
    """
    data = f"s3://{bucket}/eval/data.jsonl"
    by_evaluator: dict[str, dict[str, Any]] = {
        "benchmark": {"benchmark": "mmlu", "subtasks": ["anatomy"]},
        "custom_scorer": {"evaluator": "prime_math", "dataset": data},
        "llm_as_judge": {"evaluator_model": JUDGE_MODEL, "dataset": data, "builtin_metrics": ["Correctness"]},
        "multi_turn_rl": {"dataset": data, "agent_config": AGENT_ARN},
    }
    own = by_evaluator[evaluator]
    return {"model": EVAL_PACKAGE, "role": role_arn, "s3_output_path": f"s3://{bucket}/eval-out",
            "evaluate_base_model": False, **own}

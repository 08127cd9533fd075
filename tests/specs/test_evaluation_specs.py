"""Evaluator specs: bad input is rejected naming the field and what is accepted; good input normalised."""

from __future__ import annotations

import json
from typing import Any

import pytest

from airflow_provider_smtrain.specs import (
    BenchMarkEvaluatorSpec,
    CustomScorerEvaluatorSpec,
    LLMAsJudgeEvaluatorSpec,
    MultiTurnRLEvaluatorSpec,
    SpecValidationError,
    parse_spec,
)

ROLE = "arn:aws:iam::123456789012:role/Eval"
PACKAGE = "arn:aws:sagemaker:us-east-1:123456789012:model-package/tuned/3"
BASE: dict[str, Any] = {"model": "meta-textgeneration-llama-3-2-1b-instruct", "role": ROLE, "s3_output_path": "s3://bucket/eval"}
GOOD: dict[type, dict[str, Any]] = {
    BenchMarkEvaluatorSpec: {**BASE, "benchmark": "mmlu"},
    CustomScorerEvaluatorSpec: {**BASE, "evaluator": "prime_math", "dataset": "s3://bucket/data.jsonl"},
    LLMAsJudgeEvaluatorSpec: {**BASE, "evaluator_model": "anthropic.claude-3-5-haiku-20241022-v1:0",
                              "dataset": "s3://bucket/data.jsonl", "builtin_metrics": ["Correctness"]},
    MultiTurnRLEvaluatorSpec: {**BASE, "dataset": "s3://bucket/prompts.jsonl",
                               "agent_config": "arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/agent-1"},
}

BAD: list[tuple[type, dict[str, Any], str, str]] = [
    (BenchMarkEvaluatorSpec, {"model": "not a model id"}, "model", "hub model id"),
    (BenchMarkEvaluatorSpec, {"model": "arn:aws:sagemaker:us-east-1:123456789012:model-package-group/g"}, "model",
     "not a versioned model package ARN"),
    (BenchMarkEvaluatorSpec, {"model": "https://example.com/model"}, "model", "only s3:// URIs"),
    (BenchMarkEvaluatorSpec, {"model": {"job_name": "x"}}, "model", "no model_package_arn"),
    (BenchMarkEvaluatorSpec, {"benchmark": "squad"}, "benchmark", "mmlu"),
    (BenchMarkEvaluatorSpec, {"subtasks": []}, "subtasks", "at least 1"),
    (BenchMarkEvaluatorSpec, {"role": "EvalRole"}, "role", "IAM role ARN"),
    (BenchMarkEvaluatorSpec, {"s3_output_path": "/tmp/out"}, "s3_output_path", "S3 URI"),
    (BenchMarkEvaluatorSpec, {"mlflow_resource_arn": "my-app"}, "mlflow_resource_arn", "MLflow app"),
    (BenchMarkEvaluatorSpec, {"mlflow_run_name": "run-1"}, "mlflow_run_name", "needs mlflow_resource_arn"),
    (BenchMarkEvaluatorSpec, {"networking": {"subnets": ["net-1"], "security_group_ids": ["sg-1"]}},
     "networking.subnets[0]", "subnet id"),
    (BenchMarkEvaluatorSpec, {"tags": {"aws:owner": "x"}}, "tags.aws:owner", "aws:"),
    (BenchMarkEvaluatorSpec, {"evaluate_base_model": "perhaps"}, "evaluate_base_model", "bool"),
    (BenchMarkEvaluatorSpec, {"hyperparameters": {"": 1}}, "hyperparameters.", "at least 1 character"),
    (BenchMarkEvaluatorSpec, {"model_package_group": "bad group!"}, "model_package_group", "model package group"),
    (CustomScorerEvaluatorSpec, {"evaluator": "accuracy!!"}, "evaluator", "prime_math"),
    (CustomScorerEvaluatorSpec, {"dataset": "ftp://host/data"}, "dataset", "S3 URI"),
    (LLMAsJudgeEvaluatorSpec, {"evaluator_model": "claude"}, "evaluator_model", "Bedrock model id"),
    (LLMAsJudgeEvaluatorSpec, {"builtin_metrics": ["Fluency"]}, "builtin_metrics[0]", "Correctness"),
    (LLMAsJudgeEvaluatorSpec, {"custom_metrics": "{not json"}, "custom_metrics", "JSON"),
    (LLMAsJudgeEvaluatorSpec, {"builtin_metrics": None}, "builtin_metrics", "at least one judge metric"),
    (MultiTurnRLEvaluatorSpec, {"agent_config": "my-agent"}, "agent_config", "AgentCore runtime ARN"),
    (MultiTurnRLEvaluatorSpec, {"stopping_condition": 300000}, "stopping_condition", "259200"),
]


@pytest.mark.parametrize("spec_class", list(GOOD), ids=lambda cls: cls.__name__)
def test_good_arguments_parse(spec_class: type) -> None:
    spec = parse_spec(spec_class, GOOD[spec_class], owner="Op")
    assert spec.model == BASE["model"] and spec.s3_output_path == "s3://bucket/eval"


@pytest.mark.parametrize(("spec_class", "change", "field", "accepted"), BAD,
                         ids=[f"{c.__name__}-{f}" for c, _, f, _ in BAD])
def test_bad_argument_is_named_with_what_is_accepted(spec_class: type, change: dict[str, Any], field: str,
                                                     accepted: str) -> None:
    arguments = {key: value for key, value in {**GOOD[spec_class], **change}.items() if value is not None}
    with pytest.raises(SpecValidationError) as raised:
        parse_spec(spec_class, arguments, owner="EvalOp")
    fields = {item["field"]: item["message"] for item in raised.value.errors}
    assert field in fields, fields
    assert accepted in fields[field]


def test_trainer_output_and_rendered_values_are_accepted() -> None:
    output = json.dumps({"model_package_arn": PACKAGE, "job_name": "sft-1"})  # as Jinja renders a dict
    spec = parse_spec(BenchMarkEvaluatorSpec, {**GOOD[BenchMarkEvaluatorSpec], "model": output, "benchmark": "GPQA",
                                               "subtasks": "ALL", "evaluate_base_model": "true"}, owner="Op")
    assert (spec.model, spec.benchmark, spec.subtasks, spec.evaluate_base_model) == (PACKAGE, "gpqa", ["ALL"], True)
    assert spec.model_is_package
    judge = parse_spec(LLMAsJudgeEvaluatorSpec, {**GOOD[LLMAsJudgeEvaluatorSpec], "model": "s3://bucket/ckpt/",
                                                 "builtin_metrics": ["Builtin.helpfulness", "correctness"],
                                                 "custom_metrics": [{"name": "tone"}]}, owner="Op")
    assert judge.builtin_metrics == ["Helpfulness", "Correctness"]
    assert json.loads(judge.custom_metrics or "") == [{"name": "tone"}]
    scorer = parse_spec(CustomScorerEvaluatorSpec, {**GOOD[CustomScorerEvaluatorSpec], "evaluator": {
        "arn": "arn:aws:sagemaker:us-east-1:123456789012:hub-content/hub/JsonDoc/my-eval/1.0.0"}}, owner="Op")
    assert scorer.evaluator.endswith("/JsonDoc/my-eval/1.0.0")

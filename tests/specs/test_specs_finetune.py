"""Fine-tuning trainer specs: every bad input is rejected naming the field; good inputs are normalised."""

from __future__ import annotations

from typing import Any

import pytest
from spec_inputs import MODEL_PACKAGE, finetune_args

from airflow_provider_smtrain.specs import (
    DPOTrainerSpec,
    RLAIFTrainerSpec,
    RLVRTrainerSpec,
    SFTTrainerSpec,
    SpecValidationError,
    parse_spec,
)

LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:reward_fn"
EVALUATOR = "arn:aws:sagemaker:us-east-1:123456789012:hub-content/MyHub/JsonDoc/my-eval/0.0.1"
DATASET = "arn:aws:sagemaker:us-east-1:123456789012:hub-content/MyHub/DataSet/my-data/1.0.0"


def _errors(model: type, args: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(SpecValidationError) as info:
        parse_spec(model, args, owner="TestOperator")
    return {e["field"]: e["message"] for e in info.value.errors}


CASES: list[tuple[type, dict[str, Any], str, str]] = [
    (SFTTrainerSpec, {"model": "gs://bucket/weights"}, "model", "URLs are not accepted"),
    (SFTTrainerSpec, {"model": "arn:aws:sagemaker:us-east-1:123456789012:model/m"}, "model",
     "not a versioned model package ARN"),
    (SFTTrainerSpec, {"model": "llama 3"}, "model", "a hub model id"),
    (SFTTrainerSpec, {"model": {"job_name": "x", "model_package_arn": None}}, "model", "has no model_package_arn"),
    (SFTTrainerSpec, {"model": ""}, "model", "at least 1"),
    (SFTTrainerSpec, {"training_type": "half"}, "training_type", "must be one of 'LORA', 'FULL'"),
    (SFTTrainerSpec, {"training_dataset": "gs://bucket/train.jsonl"}, "training_dataset",
     "other URL schemes and local paths are not accepted"),
    (SFTTrainerSpec, {"training_dataset": "/data/train.jsonl"}, "training_dataset", "an S3 URI"),
    (SFTTrainerSpec, {"training_dataset": "s3://b/train.jsonl"}, "training_dataset", "an S3 URI like"),
    (SFTTrainerSpec, {"training_dataset": "arn:aws:sagemaker:us-east-1:123456789012:hub-content/H/Model/m/1"},
     "training_dataset", "an AI Registry dataset ARN"),
    (SFTTrainerSpec, {"validation_dataset": "https://example.com/val.jsonl"}, "validation_dataset", "an S3 URI"),
    (SFTTrainerSpec, {"validation_dataset": "s3://my-bucket/train.jsonl"}, "validation_dataset",
     "must differ from training_dataset"),
    (SFTTrainerSpec, {"training_dataset": None}, "training_dataset", "is required"),
    (SFTTrainerSpec, {"model_package_group": None}, "model_package_group", "is required on the serverless path"),
    (SFTTrainerSpec, {"model_package_group": "my_group!"}, "model_package_group", "a model package group name"),
    (SFTTrainerSpec, {"s3_output_path": "/tmp/out"}, "s3_output_path", "must be an S3 URI"),
    (SFTTrainerSpec, {"role": "MyRole"}, "role", "must be an IAM role ARN"),
    (SFTTrainerSpec, {"mlflow_resource_arn": "http://mlflow:5000"}, "mlflow_resource_arn", "an MLflow app"),
    (SFTTrainerSpec, {"mlflow_run_name": "run-1"}, "mlflow_run_name", "needs mlflow_resource_arn"),
    (SFTTrainerSpec, {"sequence_length": "3K"}, "sequence_length", "must be one of '1K'"),
    (SFTTrainerSpec, {"networking": {"subnets": ["subnet-1"]}}, "networking.security_group_ids", "required"),
    (SFTTrainerSpec, {"networking": {"subnets": ["net-1"], "security_group_ids": ["sg-1"]}},
     "networking.subnets[0]", "a subnet id"),
    (SFTTrainerSpec, {"stopping_condition": {"max_runtime_in_seconds": 0}},
     "stopping_condition.max_runtime_in_seconds", "must be >= 1"),
    (SFTTrainerSpec, {"compute": {"instance_type": "g5.xlarge"}}, "compute.instance_type", "like ml.m5.xlarge"),
    (SFTTrainerSpec, {"tags": {"aws:owner": "me"}}, "tags.aws:owner", "reserved prefix"),
    (SFTTrainerSpec, {"accept_eula": "maybe"}, "accept_eula", "must be a boolean"),
    (SFTTrainerSpec, {"reward_model_id": "x"}, "reward_model_id", "is not an accepted field"),
    (DPOTrainerSpec, {"custom_reward_function": LAMBDA}, "custom_reward_function", "is not an accepted field"),
    (RLAIFTrainerSpec, {}, "reward_model_id", "required"),
    (RLAIFTrainerSpec, {"reward_model_id": "judge model"}, "reward_model_id", "a reward model id"),
    (RLAIFTrainerSpec, {"reward_model_id": "openai.gpt-oss-20b-1:0", "reward_prompt": "s3://b/prompt.txt"},
     "reward_prompt", "a built-in prompt name"),
    (RLAIFTrainerSpec, {"reward_model_id": "openai.gpt-oss-20b-1:0", "compute": {"instance_type": "ml.g5.xlarge"}},
     "compute", "is not an accepted field"),
    (RLVRTrainerSpec, {}, "custom_reward_function", "is required"),
    (RLVRTrainerSpec, {"custom_reward_function": "arn:aws:lambda:us-east-1:123:function:f"},
     "custom_reward_function", "a Lambda function ARN"),
    (RLVRTrainerSpec, {"custom_reward_function": "s3://my-bucket/reward.py"}, "custom_reward_function",
     "an evaluator name"),
]


@pytest.mark.parametrize(("spec", "overrides", "field", "message"), CASES,
                         ids=[f"{c[0].__name__}-{c[2]}-{i}" for i, c in enumerate(CASES)])
def test_bad_input_is_rejected_naming_the_field(
    spec: type, overrides: dict[str, Any], field: str, message: str
) -> None:
    args = {k: v for k, v in finetune_args(**overrides).items() if v is not None}
    errors = _errors(spec, args)
    assert field in errors, errors
    assert message in errors[field], errors[field]


def test_at_least_twenty_new_bad_inputs() -> None:
    assert len({(c[0], c[2], c[3]) for c in CASES}) >= 20


def test_hyperparameter_values_are_never_shown() -> None:
    errors = _errors(SFTTrainerSpec, finetune_args(hyperparameters={"": "secret-token-value"}))
    assert "secret-token-value" not in str(errors)


def test_output_of_an_earlier_task_gives_its_model_package() -> None:
    earlier = {"kind": "training", "model_package_arn": MODEL_PACKAGE, "status": "Completed"}
    for given in (earlier, str(earlier), __import__("json").dumps(earlier)):
        spec = parse_spec(DPOTrainerSpec, finetune_args(model=given, model_package_group=None), owner="T")
        assert spec.model == MODEL_PACKAGE and spec.model_is_package


def test_good_inputs_are_normalised() -> None:
    spec = parse_spec(
        RLVRTrainerSpec,
        finetune_args(training_type="LoRA", sequence_length="8k", custom_reward_function=LAMBDA,
                      validation_dataset=DATASET, tags=[{"Key": "team", "Value": "ml"}],
                      hyperparameters='{"learning_rate": 0.0001}', accept_eula="true",
                      mlflow_resource_arn="default", mlflow_experiment_name="exp"),
        owner="T",
    )
    assert (spec.training_type, spec.sequence_length, spec.accept_eula) == ("LORA", "8K", True)
    assert spec.reward_is_lambda and spec.serverless and spec.technique == "RLVR"
    assert spec.tags == {"team": "ml"} and spec.hyperparameters == {"learning_rate": 0.0001}
    by_name = parse_spec(RLVRTrainerSpec, finetune_args(custom_reward_function="my-evaluator"), owner="T")
    assert not by_name.reward_is_lambda
    assert parse_spec(RLVRTrainerSpec, finetune_args(custom_reward_function=EVALUATOR), owner="T")
    preset = parse_spec(RLVRTrainerSpec, finetune_args(hyperparameters={"preset_reward_function": "x"}), owner="T")
    assert preset.custom_reward_function is None


def test_serverful_path_needs_no_model_package_group() -> None:
    spec = parse_spec(SFTTrainerSpec, finetune_args(model_package_group=None,
                                                    compute={"instance_type": "ml.g5.12xlarge"}), owner="T")
    assert not spec.serverless and spec.model_package_group is None
    model_package = parse_spec(SFTTrainerSpec, finetune_args(model=MODEL_PACKAGE, model_package_group=None), owner="T")
    assert model_package.serverless


def test_outputs_of_registry_tasks_give_their_arns() -> None:
    dataset = {"kind": "hub_content", "arn": DATASET, "name": "my-data", "status": "Available"}
    evaluator = {"kind": "hub_content", "arn": EVALUATOR, "name": "my-eval", "status": "Available"}
    spec = parse_spec(RLVRTrainerSpec, finetune_args(training_dataset=dataset, custom_reward_function=str(evaluator)),
                      owner="T")
    assert (spec.training_dataset, spec.custom_reward_function) == (DATASET, EVALUATOR)
    errors = _errors(SFTTrainerSpec, finetune_args(training_dataset={"name": "my-data"}))
    assert errors["training_dataset"].startswith("a mapping must be the output of an AI Registry task")

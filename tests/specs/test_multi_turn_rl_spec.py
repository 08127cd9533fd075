"""MultiTurnRLTrainerSpec: what the SDK accepts passes, what it would reject after AWS calls is rejected here."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_smtrain.specs import MultiTurnRLTrainerSpec, SpecValidationError, parse_spec

ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
RUNTIME_ARN = "arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/myRuntime-aBcDeFgHiJ"
LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:agent-env"
PACKAGE = "arn:aws:sagemaker:us-east-1:123456789012:model-package/sft-models/3"
GROUP_ARN = "arn:aws:sagemaker:us-east-1:123456789012:model-package-group/mtrl-out"
DATASET_ARN = "arn:aws:sagemaker:us-east-1:123456789012:hub-content/AiRegistry/DataSet/prompts/1.0.0"
MLFLOW = "arn:aws:sagemaker:us-east-1:123456789012:mlflow-app/app-abc123"


def args(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "model": "huggingface-reasoning-qwen3-32b",
        "agent_env": RUNTIME_ARN,
        "role": ROLE,
        "training_dataset": "s3://bucket/prompts/",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def parse(**overrides: Any) -> MultiTurnRLTrainerSpec:
    return parse_spec(MultiTurnRLTrainerSpec, args(**overrides), owner="MultiTurnRLTrainerOperator")


def errors(**overrides: Any) -> dict[str, str]:
    with pytest.raises(SpecValidationError) as info:
        parse(**overrides)
    assert str(info.value).startswith("Invalid arguments for MultiTurnRLTrainerOperator:\n  - ")
    return {e["field"]: e["message"] for e in info.value.errors}


def test_minimal_arguments_take_the_sdk_defaults() -> None:
    spec = parse()
    assert spec.bedrock_agentcore_qualifier == "DEFAULT"
    assert spec.mlflow_app_arn is None, "no MLflow unless asked"
    assert spec.accept_eula is False and spec.tags == {} and spec.hyperparameters == {}
    assert not spec.is_model_package


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({"lambda_arn": LAMBDA}, LAMBDA),
        ('{"lambda_arn": "' + LAMBDA + '"}', LAMBDA),
        ("myRuntime-aBcDeFgHiJ", "myRuntime-aBcDeFgHiJ"),
        (LAMBDA + ":$LATEST", LAMBDA + ":$LATEST"),
        (RUNTIME_ARN, RUNTIME_ARN),
    ],
)
def test_every_agent_environment_form_the_sdk_accepts(given: Any, expected: str) -> None:
    assert parse(agent_env=given).agent_env == expected


def test_a_registered_dataset_name_is_kept_for_lookup_at_run_time() -> None:
    assert parse(training_dataset="agent-prompts").training_dataset == "agent-prompts"


def test_mlflow_tracking_servers_are_refused_as_the_sdk_does_for_this_trainer() -> None:
    server = "arn:aws:sagemaker:us-east-1:123456789012:mlflow-tracking-server/ts-1"
    assert "an MLflow app ARN" in errors(mlflow_app_arn=server)["mlflow_app_arn"]
    assert parse(mlflow_app_arn="default").mlflow_app_arn == "default"


def test_sdk_custom_agent_lambda_object_is_accepted() -> None:
    from sagemaker.train.custom_agent_lambda import CustomAgentLambda

    assert parse(agent_env=CustomAgentLambda(LAMBDA)).agent_env == LAMBDA


def test_an_earlier_trainer_result_gives_its_model_package() -> None:
    spec = parse(model={"kind": "training", "job_name": "sft-1", "model_package_arn": PACKAGE})
    assert spec.model == PACKAGE and spec.is_model_package


def test_a_model_package_registers_into_its_own_group_unless_one_is_named() -> None:
    assert parse(model=PACKAGE).output_group == "sft-models"
    assert parse(model=PACKAGE, output_model_package_group=GROUP_ARN).output_group == GROUP_ARN
    assert parse().output_group is None, "a hub model leaves the default to the SDK"
    found = errors(model=PACKAGE, intermediate_checkpoint_model_package_group="sft-models")
    assert "must differ from the output group" in found["intermediate_checkpoint_model_package_group"]


def test_json_native_and_rendered_inputs() -> None:
    spec = parse(
        training_dataset={"arn": DATASET_ARN},
        validation_dataset="s3://bucket/val.jsonl",
        output_model_package_group=GROUP_ARN,
        intermediate_checkpoint_model_package_group="mtrl-checkpoints",
        networking='{"subnets": ["subnet-0abc"], "security_group_ids": ["sg-0abc"]}',
        hyperparameters="{'learning_rate': 0.0001, 'max_steps': 20}",
        tags=[{"Key": "team", "Value": "agents"}],
        accept_eula="true",
        mlflow_app_arn=MLFLOW,
        mlflow_run_name="run-1",
    )
    assert spec.training_dataset == DATASET_ARN
    assert spec.networking is not None and spec.networking.subnets == ["subnet-0abc"]
    assert spec.hyperparameters == {"learning_rate": 0.0001, "max_steps": 20}
    assert spec.tags == {"team": "agents"} and spec.accept_eula is True


BAD = [
    ({"agent_env": "my runtime"}, "agent_env", "must be a Bedrock AgentCore runtime ARN"),
    (
        {"agent_env": "arn:aws:bedrock-agentcore:us-east-1:123456789012:agent/abc"},
        "agent_env",
        "an agent runtime id like myRuntime-aBcDeFgHiJ",
    ),
    ({"agent_env": {"function": LAMBDA}}, "agent_env", "{'lambda_arn': ...}"),
    (
        {"model": "arn:aws:sagemaker:us-east-1:123456789012:hub-content/Hub/Model/m/1"},
        "model",
        "model package ARN",
    ),
    ({"model": {"job_name": "sft-1", "status": "Completed"}}, "model", "has no model_package_arn"),
    ({"model": "s3://bucket/model"}, "model", "URLs are not accepted"),
    ({"training_dataset": "/data/prompts.jsonl"}, "training_dataset", "local paths are not accepted"),
    ({"validation_dataset": "gs://bucket/x"}, "validation_dataset", "AI Registry dataset ARN"),
    ({"s3_output_path": "bucket/out"}, "s3_output_path", "must be an S3 URI"),
    ({"role": "SageMakerRole"}, "role", "must be an IAM role ARN"),
    ({"output_model_package_group": "my group"}, "output_model_package_group", "model package group name"),
    (
        {
            "output_model_package_group": "grp",
            "intermediate_checkpoint_model_package_group": GROUP_ARN[:-8] + "grp",
        },
        "intermediate_checkpoint_model_package_group",
        "must differ from the output group",
    ),
    ({"mlflow_app_arn": "arn:aws:sagemaker:us-east-1:1:experiment/x"}, "mlflow_app_arn", "an MLflow app ARN"),
    ({"mlflow_experiment_name": "exp"}, "mlflow_experiment_name", "needs mlflow_app_arn"),
    ({"networking": {"subnets": ["subnet-1"]}}, "networking.security_group_ids", "is required"),
    (
        {"networking": {"subnets": [], "security_group_ids": ["sg-1"]}},
        "networking.subnets",
        "at least 1 entry",
    ),
    ({"hyperparameters": {"lr": [1, 2]}}, "hyperparameters.lr", "must be a string, number or boolean"),
    (
        {"bedrock_agentcore_qualifier": "my-endpoint"},
        "bedrock_agentcore_qualifier",
        "letters, digits and underscores",
    ),
    ({"base_job_name": "-mtrl"}, "base_job_name", "letters, digits and hyphens"),
    ({"tags": {"aws:owner": "x"}}, "tags.aws:owner", "reserved prefix 'aws:'"),
    ({"compute": {"instance_type": "ml.p5.48xlarge"}}, "compute", "is not an accepted field"),
]


@pytest.mark.parametrize(
    ("overrides", "field", "message"), BAD, ids=[c[1] + "-" + str(i) for i, c in enumerate(BAD)]
)
def test_bad_input_names_the_field(overrides: dict[str, Any], field: str, message: str) -> None:
    found = errors(**overrides)
    assert field in found, found
    assert message in found[field]


def test_hyperparameter_values_are_never_shown() -> None:
    found = errors(hyperparameters={"api_key": ["AKIAABCDEFGHIJKLMNOP"]})
    assert "AKIA" not in str(found)


def test_missing_required_arguments_are_all_listed() -> None:
    with pytest.raises(SpecValidationError) as info:
        parse_spec(MultiTurnRLTrainerSpec, {}, owner="MultiTurnRLTrainerOperator")
    assert {e["field"] for e in info.value.errors} == {"model", "agent_env", "role", "training_dataset"}

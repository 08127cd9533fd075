"""The fine-tuning operators against the local SageMaker: the SDK's own request sequence, serverless jobs
registered in a model package group, every request signed by the connection, nothing created that the task
did not ask for, SFT -> DPO chaining, re-attach on retry, and bad input rejected before any job exists."""

from __future__ import annotations

import json
from typing import Any

import pytest

from airflow_provider_smtrain.exceptions import SageMakerJobFailed
from airflow_provider_smtrain.operators.finetune import (
    DPOTrainerOperator,
    RLAIFTrainerOperator,
    RLVRTrainerOperator,
    SFTTrainerOperator,
)
from airflow_provider_smtrain.specs import SpecValidationError
from tests.operators.conftest import CONNECTION_ACCESS_KEY, Env
from tests.operators.finetune_env import (
    GROUP,
    LAMBDA_ARN,
    MLFLOW_ARN,
    MODEL,
    RL_MODEL,
    build,
    data,
    in_order,
    operations,
    prepare,
)
from tests.operators.interruptions import armed_execution_timeout, ring_in_sdk
from tests.operators.runner import FakeTI, FastClock, MemoryStateStore, run_operator

#: The SDK's serverless SFT sequence (SDK_CALL_TRACES), as seen by the local SageMaker.
SFT_SEQUENCE = [
    "DescribeHubContent",  # the model exists
    "DescribeHubContent",  # fine-tuning options
    "GetObject",  # the recipe's override spec
    "SimulatePrincipalPolicy",
    "GetRole",
    "GetCallerIdentity",
    "HeadBucket",
    "ListObjectsV2",
    "DescribeModelPackageGroup",
    "CreateTrainingJob",
    "DescribeTrainingJob",
]
NEVER_UNLESS_ASKED = {"ListMlflowApps", "CreateMlflowApp", "DescribeMlflowApp", "CreateFunction"}


@pytest.fixture
def ft(env: Env) -> Env:
    env.sm.configure(training_seconds=0.5, hub_import_seconds=0.3)
    prepare(env)
    return env


def describe(env: Env, name: str) -> dict[str, Any]:
    return env.sm.boto3_client("sagemaker").describe_training_job(TrainingJobName=name)


def creates(env: Env) -> list[dict[str, Any]]:
    return env.sm.requests(operation="CreateTrainingJob")


def rejected(env: Env, operator: Any, ti: FakeTI, store: MemoryStateStore) -> SpecValidationError:
    """Run ``operator``, which must fail with a :class:`SpecValidationError` before any job is created or stopped."""
    with pytest.raises(SpecValidationError) as info:
        run_operator(operator, ti, store)
    assert creates(env) == [] and "StopTrainingJob" not in operations(env)
    return info.value


def test_sft_runs_serverless_and_registers_the_model(
    ft: Env, store: MemoryStateStore, ti: FakeTI, ambient_access_key: str
) -> None:
    operator = build(SFTTrainerOperator, ft, model=MODEL, accept_eula=True, training_dataset=data(ft, "sft"),
                     hyperparameters={"learning_rate": "0.0002", "lora_rank": 32})
    result = run_operator(operator, ti, store)

    assert json.loads(json.dumps(result)) == result
    assert result["status"] == "Completed" and result["technique"] == "SFT" and result["serverless"] is True
    assert result["training_type"] == "LORA"
    assert result["base_model"]["id"] == MODEL and result["base_model"]["version"] == "1.3.0"
    package = result["model_package"]
    assert package["arn"] == result["model_package_arn"]
    assert package["arn"].endswith(f":model-package/{GROUP}/1") and package["version"] == 1
    assert package["group_arn"].endswith(f":model-package-group/{GROUP}")
    assert result["output_path"] == f"s3://{ft.bucket}/ft-out"
    assert result["mlflow"]["resource_arn"] is None
    signers = {r["access_key_id"] for r in ft.sm.requests() if r["service"] != "local"}
    assert signers == {CONNECTION_ACCESS_KEY} and ambient_access_key not in signers

    job = describe(ft, result["job_name"])
    assert job["ServerlessJobConfig"]["CustomizationTechnique"] == "SFT"
    assert job["ServerlessJobConfig"]["Peft"] == "LORA"
    assert job["ServerlessJobConfig"]["BaseModelArn"] == result["base_model"]["arn"]
    assert job["ModelPackageConfig"]["ModelPackageGroupArn"] == package["group_arn"]
    assert job["HyperParameters"]["learning_rate"] == "0.0002"
    assert job["HyperParameters"]["lora_rank"] == "32"
    assert "AlgorithmSpecification" not in job or not job["AlgorithmSpecification"].get("TrainingImage")

    sent = operations(ft)
    assert in_order(sent, SFT_SEQUENCE), sent
    assert not NEVER_UNLESS_ASKED & set(sent), "no MLflow app or Lambda function unless the task asks"
    assert ti.xcoms["smtrain_model_package"]["arn"] == package["arn"]
    assert "smtrain_mlflow" not in ti.xcoms


def test_dpo_trains_further_the_model_package_of_the_sft_task(
    ft: Env, store: MemoryStateStore, ti: FakeTI
) -> None:
    sft = run_operator(build(SFTTrainerOperator, ft, model=RL_MODEL, training_dataset=data(ft, "sft")), ti, store)
    rendered = str(sft)  # what "{{ ti.xcom_pull('sft') }}" renders to
    dpo = build(DPOTrainerOperator, ft, task_id="dpo", model=rendered, training_dataset=data(ft, "dpo"),
                deferrable=True)
    result = run_operator(dpo, FakeTI(task_id="dpo"), MemoryStateStore())

    assert result["technique"] == "DPO"
    assert result["source_model_package_arn"] == sft["model_package_arn"]
    assert result["model_package"]["version"] == 2, "the DPO model is the group's next version"
    job = describe(ft, result["job_name"])
    assert job["ModelPackageConfig"]["SourceModelPackageArn"] == sft["model_package_arn"]
    assert "DescribeModelPackage" in operations(ft)
    assert len(creates(ft)) == 2


def test_dpo_without_preference_fields_is_rejected_before_any_job(
    ft: Env, store: MemoryStateStore, ti: FakeTI
) -> None:
    operator = build(DPOTrainerOperator, ft, model=RL_MODEL, training_dataset=data(ft, "sft"))
    error = rejected(ft, operator, ti, store)
    assert error.errors[0]["field"] == "training_dataset"
    assert "'chosen', 'rejected'" in error.errors[0]["message"]


def test_rlaif_judges_with_the_reward_model(ft: Env, store: MemoryStateStore, ti: FakeTI) -> None:
    operator = build(RLAIFTrainerOperator, ft, model=RL_MODEL, training_dataset=data(ft, "rl"),
                     reward_model_id="openai.gpt-oss-20b-1:0", training_type="full")
    result = run_operator(operator, ti, store)

    assert result["technique"] == "RLAIF" and result["training_type"] == "FULL"
    job = describe(ft, result["job_name"])
    assert job["ServerlessJobConfig"]["CustomizationTechnique"] == "RLAIF"
    assert "Peft" not in job["ServerlessJobConfig"]
    assert job["HyperParameters"]["judge_model_id"] == "bedrock/openai.gpt-oss-20b-1:0"
    assert not NEVER_UNLESS_ASKED & set(operations(ft))


def test_rlvr_registers_the_lambda_once_with_the_task_role(
    ft: Env, store: MemoryStateStore, ti: FakeTI
) -> None:
    from airflow_provider_smtrain.jobs.clock import use_clock
    from airflow_provider_smtrain.sdk.finetune import register_reward_lambda

    operator = build(RLVRTrainerOperator, ft, model=RL_MODEL, training_dataset=data(ft, "rl"),
                     custom_reward_function=LAMBDA_ARN, skip_reward_validation=True)
    with use_clock(FastClock(real_cap=0.5)):
        result = run_operator(operator, ti, store)

    evaluator_arn = describe(ft, result["job_name"])["ServerlessJobConfig"]["EvaluatorArn"]
    assert "/JsonDoc/reward-my-reward-fn-" in evaluator_arn
    assert len(ft.sm.requests(operation="ImportHubContent")) == 1
    assert not NEVER_UNLESS_ASKED & set(operations(ft))
    # A later run finds the evaluator of the same Lambda: no second registration.
    with operator.hook.sdk_scope() as session:
        assert register_reward_lambda(session, LAMBDA_ARN, ft.role_arn) == evaluator_arn
    assert len(ft.sm.requests(operation="ImportHubContent")) == 1, "the evaluator is reused"


def test_rlvr_with_a_preset_reward_function_needs_no_evaluator(
    ft: Env, store: MemoryStateStore, ti: FakeTI
) -> None:
    operator = build(RLVRTrainerOperator, ft, model=RL_MODEL, training_dataset=data(ft, "rl"),
                     hyperparameters={"preset_reward_function": "prime_math"})
    result = run_operator(operator, ti, store)
    assert describe(ft, result["job_name"])["HyperParameters"]["preset_reward_function"] == "prime_math"
    assert "ImportHubContent" not in operations(ft)


def test_mlflow_is_used_when_asked_and_nothing_is_created(ft: Env, store: MemoryStateStore, ti: FakeTI) -> None:
    operator = build(SFTTrainerOperator, ft, model=RL_MODEL, training_dataset=data(ft, "sft"),
                     mlflow_resource_arn=MLFLOW_ARN, mlflow_experiment_name="exp", mlflow_run_name="run-1")
    result = run_operator(operator, ti, store)

    mlflow = result["mlflow"]
    assert (mlflow["resource_arn"], mlflow["experiment_name"], mlflow["run_name"]) == (MLFLOW_ARN, "exp", "run-1")
    assert mlflow["console_url"].endswith("#/mlflow-apps/app-ABC123")
    assert ti.xcoms["smtrain_mlflow"]["arn"] == MLFLOW_ARN
    assert not NEVER_UNLESS_ASKED & set(operations(ft))


def test_retry_reattaches_to_the_running_job(ft: Env, store: MemoryStateStore, ti: FakeTI) -> None:
    from airflow.sdk.exceptions import TaskDeferred

    ft.sm.configure(training_seconds=2.0)
    operator = build(SFTTrainerOperator, ft, model=RL_MODEL, training_dataset=data(ft, "sft"), deferrable=True)
    with pytest.raises(TaskDeferred):
        run_operator(operator, ti, store, run_trigger=False)
    ti.retry()
    ft.sm.clear_requests()
    result = run_operator(
        build(SFTTrainerOperator, ft, model=RL_MODEL, training_dataset=data(ft, "sft"), deferrable=True), ti, store
    )
    assert result["status"] == "Completed"
    assert creates(ft) == [] and "DescribeHubContent" not in operations(ft), "re-attached: the SDK is not called"


def test_failed_job_fails_the_task_with_its_reason(ft: Env, store: MemoryStateStore, ti: FakeTI) -> None:
    ft.sm.add_rule(kind="training", name_glob="*", outcome="Failed", failure_reason="ClientError: bad records")
    operator = build(SFTTrainerOperator, ft, model=RL_MODEL, training_dataset=data(ft, "sft"))
    with pytest.raises(SageMakerJobFailed, match="ClientError: bad records"):
        run_operator(operator, ti, store)


@pytest.mark.parametrize(
    ("arguments", "field", "message"),
    [
        ({"model": "no-such-model-anywhere"}, "model", "no such model in the SageMaker hub"),
        ({"model": MODEL}, "accept_eula", "must be true: the model is gated"),
        ({"sequence_length": "64K"}, "sequence_length", "no recipe for this length"),
        ({"training_dataset": "no-such-dataset"}, "training_dataset", "no AI Registry dataset"),
    ],
)
def test_bad_input_found_by_a_lookup_is_rejected_before_any_job(
    ft: Env, store: MemoryStateStore, ti: FakeTI, arguments: dict[str, Any], field: str, message: str
) -> None:
    arguments = {"model": RL_MODEL, "training_dataset": data(ft, "sft"), **arguments}
    error = rejected(ft, build(SFTTrainerOperator, ft, **arguments), ti, store)
    errors = {e["field"]: e["message"] for e in error.errors}
    assert field in errors and message in errors[field], errors


def test_overrides_outside_the_recipe_are_rejected_together_before_any_job(
    ft: Env, store: MemoryStateStore, ti: FakeTI
) -> None:
    overrides = {"learning_rate": 0.5, "max_epoch": 2, "lora_rank": 12, "global_batch_size": 2.5, "beta": "fast"}
    operator = build(DPOTrainerOperator, ft, model=RL_MODEL, training_dataset=data(ft, "dpo"), hyperparameters=overrides)
    error = rejected(ft, operator, ti, store)
    errors = {e["field"]: e["message"] for e in error.errors}
    assert errors["hyperparameters.learning_rate"].startswith("must be <= 0.001")
    assert "did you mean 'max_epochs'?" in errors["hyperparameters.max_epoch"]
    assert errors["hyperparameters.lora_rank"].startswith("must be one of 4, 8, 16, 32, 64, 128")
    assert errors["hyperparameters.global_batch_size"].startswith("must be an integer")
    assert errors["hyperparameters.beta"].startswith("must be a number")
    assert "0.5" not in str(error) and "fast" not in str(error), "hyperparameter values are not shown"


def test_region_outside_the_models_regions_is_rejected_before_any_request(
    ft: Env, store: MemoryStateStore, ti: FakeTI
) -> None:
    operator = build(SFTTrainerOperator, ft, model=RL_MODEL, training_dataset=data(ft, "sft"), region_name="eu-north-1")
    error = rejected(ft, operator, ti, store)
    assert error.errors[0]["field"] == "region_name"
    assert "us-east-1" in error.errors[0]["message"]


def test_rlaif_reward_model_outside_the_region_is_rejected(ft: Env, store: MemoryStateStore, ti: FakeTI) -> None:
    operator = build(RLAIFTrainerOperator, ft, model=RL_MODEL, training_dataset=data(ft, "rl"),
                     reward_model_id="qwen.qwen3-coder-480b-a35b-v1:0")
    error = rejected(ft, operator, ti, store)
    assert error.errors == [
        {"field": "reward_model_id", "message": "is not offered in us-east-1; its regions: us-west-2, ap-northeast-1"}
    ]
    assert operations(ft) == [], "rejected before any request"


def test_rlvr_checks_the_reward_function_through_the_connection(
    ft: Env, store: MemoryStateStore, ti: FakeTI, ambient_access_key: str
) -> None:
    from airflow_provider_smtrain.jobs.clock import use_clock
    from tests.operators.finetune_env import create_reward_lambda

    lambda_arn = create_reward_lambda(ft)
    operator = build(RLVRTrainerOperator, ft, model=RL_MODEL, training_dataset=data(ft, "rl"),
                     custom_reward_function=lambda_arn)
    with use_clock(FastClock(real_cap=0.5)):
        result = run_operator(operator, ti, store)

    assert result["status"] == "Completed"
    invokes = ft.sm.requests(operation="Invoke")
    assert len(invokes) == 1, "the SDK invoked the reward function on the training samples"
    assert {r["access_key_id"] for r in ft.sm.requests() if r["service"] != "local"} == {CONNECTION_ACCESS_KEY}
    assert operations(ft).index("Invoke") < operations(ft).index("CreateTrainingJob")
    assert "CreateFunction" not in operations(ft)


def test_mlflow_default_uses_the_accounts_app_without_creating_one(
    ft: Env, store: MemoryStateStore, ti: FakeTI
) -> None:
    app = ft.sm.boto3_client("sagemaker").create_mlflow_app(
        Name="default-app", ArtifactStoreUri=f"s3://{ft.bucket}/mlflow", RoleArn=ft.role_arn,
        AccountDefaultStatus="ENABLED",
    )["Arn"]
    ft.sm.clock.advance(3600)  # the app is Created
    ft.sm.clear_requests()
    operator = build(SFTTrainerOperator, ft, model=RL_MODEL, training_dataset=data(ft, "sft"),
                     mlflow_resource_arn="default", mlflow_experiment_name="exp")
    result = run_operator(operator, ti, store)

    assert result["mlflow"]["resource_arn"] == app
    assert "ListMlflowApps" in operations(ft) and "CreateMlflowApp" not in operations(ft)


def test_sft_trains_on_the_dataset_a_registry_task_registered(ft: Env, store: MemoryStateStore, ti: FakeTI) -> None:
    from datetime import datetime

    from airflow.sdk import DAG

    from airflow_provider_smtrain.operators.registry import CreateDataSetOperator
    from tests.operators.finetune_env import SFT_RECORDS

    ft.sm.put_object(ft.bucket, "ft/registry/chat.jsonl", SFT_RECORDS)
    with DAG(dag_id="dag", schedule=None, start_date=datetime(2026, 1, 1)):
        register = CreateDataSetOperator(task_id="register", aws_conn_id=ft.conn_id, name="sft-chat",
                                         source=f"s3://{ft.bucket}/ft/registry/chat.jsonl",
                                         customization_technique="sft", deferrable=False, poll_interval=0.2)
    dataset = run_operator(register, FakeTI(task_id="register"), MemoryStateStore())
    result = run_operator(build(SFTTrainerOperator, ft, model=RL_MODEL, training_dataset=dataset), ti, store)

    assert result["status"] == "Completed"
    channel = describe(ft, result["job_name"])["InputDataConfig"][0]
    assert json.dumps(channel).count(dataset["arn"]) == 1, channel


def test_sft_on_serverful_compute(ft: Env, store: MemoryStateStore, ti: FakeTI) -> None:
    operator = build(SFTTrainerOperator, ft, model=RL_MODEL, training_dataset=data(ft, "sft"), model_package_group=None,
                     compute={"instance_type": "ml.g5.12xlarge", "instance_count": 1},
                     hyperparameters={"max_epochs": 2})
    result = run_operator(operator, ti, store)

    assert result["status"] == "Completed" and result["serverless"] is False
    assert (result["technique"], result["training_type"], result["base_model"]["id"]) == ("SFT", "LORA", RL_MODEL)
    job = describe(ft, result["job_name"])
    assert "ServerlessJobConfig" not in job
    assert job["ResourceConfig"]["InstanceType"] == "ml.g5.12xlarge"
    assert job["AlgorithmSpecification"]["TrainingImage"]
    assert not NEVER_UNLESS_ASKED & set(operations(ft))


def test_rlvr_with_an_unknown_evaluator_name_is_rejected_before_any_job(
    ft: Env, store: MemoryStateStore, ti: FakeTI
) -> None:
    operator = build(RLVRTrainerOperator, ft, model=RL_MODEL, training_dataset=data(ft, "rl"),
                     custom_reward_function="no-such-evaluator")
    error = rejected(ft, operator, ti, store)
    assert error.errors == [
        {"field": "custom_reward_function", "message": "no AI Registry evaluator called 'no-such-evaluator'"}
    ]


def test_deferrable_deadline_stops_the_serverless_job(ft: Env, store: MemoryStateStore, ti: FakeTI) -> None:
    ft.sm.configure(training_seconds=60)
    operator = build(SFTTrainerOperator, ft, model=RL_MODEL, training_dataset=data(ft, "sft"), deferrable=True,
                     max_wait=1.0)
    with pytest.raises(SageMakerJobFailed, match="deadline"):
        run_operator(operator, ti, store)
    stops = ft.sm.requests(operation="StopTrainingJob")
    assert len(stops) == 1 and stops[0]["access_key_id"] == CONNECTION_ACCESS_KEY
    assert describe(ft, ti.xcoms["job_name"])["TrainingJobStatus"] in ("Stopping", "Stopped")


def test_a_model_package_group_that_does_not_exist_is_rejected_before_any_job(
    ft: Env, store: MemoryStateStore, ti: FakeTI
) -> None:
    operator = build(SFTTrainerOperator, ft, model=RL_MODEL, training_dataset=data(ft, "sft"),
                     model_package_group="no-such-group")
    error = rejected(ft, operator, ti, store)
    assert error.errors[0]["field"] == "model_package_group"
    assert "does not exist" in error.errors[0]["message"]


def test_lost_create_response_attaches_to_the_created_job(
    ft: Env, store: MemoryStateStore, ti: FakeTI, fast_botocore_retries: None
) -> None:
    # SageMaker creates the serverless job, the response never arrives; the task attaches to that job.
    ft.sm.fail_next("CreateTrainingJob", kind="lost_response", mode="reset", seconds=0.5)
    result = run_operator(build(SFTTrainerOperator, ft, model=RL_MODEL, training_dataset=data(ft, "sft")), ti, store)
    assert result["status"] == "Completed" and result["model_package"]["version"] == 1
    assert creates(ft)[0]["fault"] == "lost_response"
    jobs = ft.sm.boto3_client("sagemaker").list_training_jobs()["TrainingJobSummaries"]
    assert [job["TrainingJobName"] for job in jobs] == [result["job_name"]], "one job, no duplicate"
    assert "StopTrainingJob" not in operations(ft)


def test_a_timeout_in_sdk_code_before_the_job_is_created_is_not_swallowed(
    ft: Env, store: MemoryStateStore, ti: FakeTI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Airflow's execution timeout rings in SDK code inside ``SFTTrainer.train()`` (as it calls
    ``TrainingJob.create``, no request under way): the task fails with it, not with the SDK's error about the
    ``None`` its telemetry decorator returned, and no job is created."""
    from airflow.sdk.exceptions import AirflowTaskTimeout
    from sagemaker.core.resources import TrainingJob

    operator = build(SFTTrainerOperator, ft, model=MODEL, accept_eula=True, training_dataset=data(ft, "sft"))
    with armed_execution_timeout() as ring:
        ring_in_sdk(monkeypatch, TrainingJob, "create", ring)
        with pytest.raises(AirflowTaskTimeout):
            run_operator(operator, ti, store)
    assert creates(ft) == []

"""The SageMaker SDK's fine-tuning trainers and AI Registry, unmodified, against the local SageMaker."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_smtrain.hooks.sagemaker_train import SageMakerTrainHook
from airflow_provider_smtrain.testing.services.hub.public_models import MODELS, PUBLIC_HUB_NAME, override_spec
from tests.testing.conftest import BUCKET

CONN_KEY = "AKIAHUBSDKCONNECTION"
QWEN = "huggingface-llm-qwen2-5-7b-instruct"
LLAMA_1B = "meta-textgeneration-llama-3-2-1b-instruct"
LLAMA_3B = "meta-textgeneration-llama-3-2-3b-instruct"
MLFLOW_ARN = "arn:aws:sagemaker:us-east-1:123456789012:mlflow-app/app-existing0001"
LAMBDA_ARN = "arn:aws:lambda:us-east-1:123456789012:function:reward"
TRAIN = f"s3://{BUCKET}/data/train.jsonl"


@pytest.fixture
def world(sm: Any) -> dict[str, Any]:
    """A role, a model package group, a training set and a reward prompt in the local SageMaker."""
    role = sm.create_role("SageMakerRole")
    sm.boto3_client("sagemaker").create_model_package_group(ModelPackageGroupName="fine-tuned")
    sm.put_object(BUCKET, "data/train.jsonl", json.dumps({"prompt": "2+2?", "completion": "4"}) + "\n")
    sm.put_object(
        BUCKET, "data/preferences.jsonl", json.dumps({"prompt": "p", "chosen": "a", "rejected": "b"})
    )
    sm.put_object(BUCKET, "prompts/judge.jinja", "Rate this answer: {{ response }}")
    sm.clear_requests()
    return {"role": role}


def _hook(sm: Any, monkeypatch: pytest.MonkeyPatch, conn_id: str, **credentials: Any) -> SageMakerTrainHook:
    credentials = credentials or {"access_key_id": CONN_KEY, "secret_access_key": "hub-secret"}
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", sm.airflow_connection_json(**credentials))
    return SageMakerTrainHook(aws_conn_id=conn_id, default_bucket=BUCKET)


@contextlib.contextmanager
def sdk_scope(hook: SageMakerTrainHook, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """
    The hook's SDK scope, where the SDK's telemetry decorator reuses the hook's session.

    Without a session argument (every ``AIRHub`` classmethod) the decorator builds a fresh ``Session()``
    just to read the telemetry opt-out: no AWS call, but ~1 s of botocore model loading per AI Registry
    call. Reusing the scope's session changes no request; it keeps these tests fast.
    """
    with hook.sdk_scope() as sdk_session:
        import sagemaker.core.telemetry.telemetry_logging as telemetry

        with monkeypatch.context() as patch:
            patch.setattr(telemetry, "_get_default_sagemaker_session", lambda: sdk_session)
            yield sdk_session


@pytest.fixture
def session(sm: Any, world: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The SDK ``Session`` of an Airflow connection (an IAM user's key), inside the credentials scope."""
    with sdk_scope(_hook(sm, monkeypatch, "hub_sdk"), monkeypatch) as sdk_session:
        yield sdk_session


def trainer_args(session: Any, world: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    args = {
        "training_type": "LORA",
        "model_package_group": "fine-tuned",
        "training_dataset": TRAIN,
        "s3_output_path": f"s3://{BUCKET}/output",
        "role": world["role"],
        "sagemaker_session": session,
        "mlflow_resource_arn": MLFLOW_ARN,
    }
    args.update(overrides)
    return args


def test_sft_trainer_constructs_and_validates_a_job_from_the_local_hub(sm, world, session):
    from sagemaker.train.sft_trainer import SFTTrainer

    trainer = SFTTrainer(model=QWEN, **trainer_args(session, world))
    assert trainer._model_arn == (
        f"arn:aws:sagemaker:us-east-1:aws:hub-content/{PUBLIC_HUB_NAME}/Model/{QWEN}/{MODELS[QWEN].version}"
    )
    spec = override_spec(QWEN, "SFT", "LORA")
    assert trainer.hyperparameters.to_dict()["learning_rate"] == str(spec["learning_rate"]["default"])
    assert trainer.hyperparameters.lora_rank == 16
    assert trainer.train(wait=False, dry_run=True) is None  # IAM, S3, recipe template, group: all served
    calls = [(r["service"], r["operation"], r["status_code"]) for r in sm.requests()]
    assert calls.count(("sagemaker", "DescribeHubContent", 200)) == 3
    assert ("sagemaker", "DescribeModelPackageGroup", 200) in calls
    assert ("iam", "SimulatePrincipalPolicy", 200) in calls
    assert all(status is not None and status < 500 for _, _, status in calls)
    assert {r["access_key_id"] for r in sm.requests()} == {CONN_KEY}
    assert not [c for c in calls if c[1] in ("CreateMlflowApp", "CreateTrainingJob")]


def test_overrides_are_checked_against_the_recipe_spec(world, session):
    from sagemaker.train.sft_trainer import SFTTrainer

    trainer = SFTTrainer(model=QWEN, **trainer_args(session, world))
    with pytest.raises(ValueError, match="learning_rate must be <= 0.001"):
        trainer.hyperparameters.learning_rate = 0.5
    with pytest.raises(ValueError, match=r"lora_rank must be one of \[4, 8, 16, 32, 64, 128\]"):
        trainer.hyperparameters.lora_rank = 7
    with pytest.raises(AttributeError, match="not a valid fine-tuning option"):
        trainer.hyperparameters.lora_rnak = 8
    full = SFTTrainer(model=QWEN, **trainer_args(session, world, training_type="FULL"))
    assert not hasattr(full.hyperparameters, "lora_rank")


def test_unknown_and_gated_models_are_refused_as_the_sdk_does(world, session):
    from sagemaker.train.sft_trainer import SFTTrainer

    with pytest.raises(ValueError, match="is not available in SageMaker Hub 'SageMakerPublicHub'"):
        SFTTrainer(model="meta-textgeneration-llama-99b", **trainer_args(session, world))
    with pytest.raises(ValueError, match="is a gated model and requires EULA acceptance"):
        SFTTrainer(model=LLAMA_1B, **trainer_args(session, world))
    trainer = SFTTrainer(model=LLAMA_1B, accept_eula=True, **trainer_args(session, world))
    assert trainer.hyperparameters.dataset_max_len == 4096


def test_dpo_rlaif_rlvr_and_model_listing(world, session):
    from sagemaker.train.dpo_trainer import DPOTrainer
    from sagemaker.train.multi_turn_rl_trainer import MultiTurnRLTrainer
    from sagemaker.train.rlaif_trainer import RLAIFTrainer
    from sagemaker.train.rlvr_trainer import RLVRTrainer
    from sagemaker.train.sft_trainer import SFTTrainer

    dpo = DPOTrainer(model=LLAMA_3B, accept_eula=True, **trainer_args(session, world))
    assert dpo.hyperparameters.beta == 0.1
    rlaif = RLAIFTrainer(
        model=QWEN,
        reward_model_id="openai.gpt-oss-120b-1:0",
        reward_prompt="Builtin.Helpfulness",
        **trainer_args(session, world),
    )
    assert rlaif.hyperparameters.judge_prompt_template == "helpfulness.jinja"
    assert rlaif.hyperparameters.judge_model_id == "bedrock/openai.gpt-oss-120b-1:0"
    with pytest.raises(ValueError, match="not an available preset"):
        RLAIFTrainer(
            model=QWEN,
            reward_model_id="openai.gpt-oss-120b-1:0",
            reward_prompt="Builtin.Poetry",
            **trainer_args(session, world),
        )
    rlvr = RLVRTrainer(model=QWEN, custom_reward_function=LAMBDA_ARN, **trainer_args(session, world))
    assert rlvr.hyperparameters.max_prompt_length + rlvr.hyperparameters.max_response_length <= 8192
    assert SFTTrainer.list_supported_models(session=session) == sorted(MODELS)
    assert MultiTurnRLTrainer.list_supported_models(session=session) == sorted([QWEN, LLAMA_3B])


def test_rlvr_registers_its_reward_function_when_the_caller_is_an_assumed_role(sm, world, monkeypatch):
    from sagemaker.train.rlvr_trainer import RLVRTrainer

    sm.configure(hub_import_seconds=0)  # the SDK's inner Evaluator.create(wait=True) sleeps 5 s per poll
    args = {"custom_reward_function": LAMBDA_ARN, "skip_reward_validation": True}
    with sdk_scope(
        _hook(sm, monkeypatch, "hub_user"), monkeypatch
    ) as user_session:  # an IAM user: no role to derive
        trainer = RLVRTrainer(model=QWEN, **args, **trainer_args(user_session, world))
        with pytest.raises(Exception, match="No IAM role could be resolved from your caller identity"):
            trainer.train(wait=False, dry_run=True)
    assumed = sm.assume_role(world["role"], "airflow")
    with sdk_scope(_hook(sm, monkeypatch, "hub_role", **assumed), monkeypatch) as role_session:
        trainer = RLVRTrainer(model=QWEN, **args, **trainer_args(role_session, world))
        assert trainer.train(wait=False, dry_run=True) is None
    evaluators = [r for r in sm.requests(operation="ImportHubContent") if r["status_code"] == 200]
    assert len(evaluators) == 1 and evaluators[0]["access_key_id"] == assumed["access_key_id"]
    [content] = [c for c in sm.jobs()["hub_content"] if c["type"] == "JsonDoc"]
    assert content["name"].startswith(f"rlvr-reward-{QWEN}") and content["status"] == "Available"


def test_dataset_create_waits_until_available_versions_and_fails_with_the_reason(sm, world, session):
    from sagemaker.ai_registry.dataset import DataSet
    from sagemaker.core.utils.exceptions import FailedStatusError

    sm.configure(hub_import_seconds=20)
    sm.clock.freeze()
    role = world["role"]
    dataset = DataSet.create(name="train-set", source=TRAIN, wait=False, role=role, sagemaker_session=session)
    assert dataset.version == "1.0.0" and "/DataSet/train-set/1.0.0" in dataset.arn
    dataset.refresh()
    assert dataset.status == "Importing"
    sm.clock.advance(20)
    dataset.wait(poll=0)
    assert dataset.status == "Available"
    again = DataSet.create(name="train-set", source=TRAIN, wait=False, role=role, sagemaker_session=session)
    assert again.version == "2.0.0"
    fetched = DataSet.get("train-set", sagemaker_session=session)
    assert (fetched.version, fetched.status, fetched.source) == ("2.0.0", "Importing", TRAIN)
    hub_name = fetched.arn.split("/")[1]
    client = sm.boto3_client("sagemaker")
    assert client.describe_hub(HubName=hub_name)["HubDescription"] == "AI Registry Hub"
    sm.force_job("hub_content", "train-set", "ImportFailed", failure_reason="Invalid JSONL")
    with pytest.raises(FailedStatusError, match="ImportFailed"):
        again.wait(poll=0)
    described = client.describe_hub_content(
        HubName=hub_name, HubContentType="DataSet", HubContentName="train-set"
    )
    assert (described["HubContentVersion"], described["FailureReason"]) == ("2.0.0", "Invalid JSONL")


def test_evaluator_create_reward_prompt(sm, world, session):
    from sagemaker.ai_registry.evaluator import Evaluator

    sm.clock.freeze()
    source = f"s3://{BUCKET}/prompts/judge.jinja"
    prompt = Evaluator.create(
        name="judge",
        type="RewardPrompt",
        source=source,
        wait=False,
        role=world["role"],
        sagemaker_session=session,
    )
    assert "/JsonDoc/judge/1.0.0" in prompt.arn and prompt.reference == source
    sm.clock.advance(2)
    prompt.wait(poll=0)
    assert prompt.status == "Available"
    fetched = Evaluator.get("judge", sagemaker_session=session)
    assert (fetched.reference, fetched.type, fetched.version) == (source, "RewardPrompt", "1.0.0")
    keywords = sm.boto3_client("sagemaker").describe_hub_content(
        HubName=prompt.arn.split("/")[1], HubContentType="JsonDoc", HubContentName="judge"
    )["HubContentSearchKeywords"]
    assert "@evaluatortype:rewardprompt" in keywords


def test_mlflow_app_resolution_of_the_trainers(sm, world, session):
    from sagemaker.train.common_utils.finetune_utils import _resolve_mlflow_resource_arn

    assert _resolve_mlflow_resource_arn(session, dry_run=True) is None  # nothing to use, nothing created
    assert sm.requests(operation="CreateMlflowApp") == []
    sm.clock.freeze()
    client = sm.boto3_client("sagemaker")
    arn = client.create_mlflow_app(
        Name="team", ArtifactStoreUri=f"s3://{BUCKET}/mlflow", RoleArn=world["role"]
    )["Arn"]
    sm.clock.advance(5)
    assert _resolve_mlflow_resource_arn(session) == arn


def test_dpo_continues_from_a_registered_fine_tuned_model_package(sm, world, session):
    from sagemaker.train.dpo_trainer import DPOTrainer

    package_arn = sm.register_model_package(
        "fine-tuned",
        training_job_name="sft-1",
        training_job_arn="arn:aws:sagemaker:us-east-1:123456789012:training-job/sft-1",
        model_data_s3_uri=f"s3://{BUCKET}/output/sft-1/output/model/",
        base_model=QWEN,
        recipe_name=MODELS[QWEN].recipe_name("SFT", "LORA"),
    )
    args = trainer_args(session, world, training_dataset=f"s3://{BUCKET}/data/preferences.jsonl")
    trainer = DPOTrainer(model=package_arn, **args)
    assert trainer._model_name == QWEN  # read from the package's BaseModel
    assert trainer._model_arn.endswith(f"/Model/{QWEN}/{MODELS[QWEN].version}")
    assert trainer.hyperparameters.beta == 0.1
    assert [r["operation"] for r in sm.requests(service="sagemaker")][:2] == [
        "DescribeModelPackage",
        "DescribeHubContent",
    ]


def test_multi_turn_rl_trainer_constructs_and_creates_its_checkpoint_group(sm, world, session):
    from sagemaker.train.multi_turn_rl_trainer import MultiTurnRLTrainer

    group_arn = "arn:aws:sagemaker:us-east-1:123456789012:model-package-group/fine-tuned"
    trainer = MultiTurnRLTrainer(
        model=QWEN,
        agent_env="arn:aws:lambda:us-east-1:123456789012:function:agent-env",
        training_dataset=TRAIN,
        mlflow_app_arn=MLFLOW_ARN,
        s3_output_path=f"s3://{BUCKET}/mtrl",
        output_model_package_group=group_arn,
        role=world["role"],
        sagemaker_session=session,
    )
    assert trainer.hyperparameters.max_turns == override_spec(QWEN, "MTRL", "LORA")["max_turns"]["default"]
    groups = sm.boto3_client("sagemaker").list_model_package_groups()["ModelPackageGroupSummaryList"]
    assert sorted(g["ModelPackageGroupName"] for g in groups) == ["fine-tuned", f"{QWEN}-mtrl-checkpoint-mpg"]


def test_a_fine_tuning_jobs_mlflow_run_is_found_by_the_sdk(sm, world, session):
    from sagemaker.train.common_utils.mlflow_url_utils import _resolve_experiment_id, _resolve_run_id
    from sagemaker.train.sft_trainer import SFTTrainer

    sm.configure(mlflow_app_seconds=0)
    client = sm.boto3_client("sagemaker")
    app = client.create_mlflow_app(
        Name="team", ArtifactStoreUri=f"s3://{BUCKET}/mlflow", RoleArn=world["role"]
    )
    args = trainer_args(session, world, mlflow_resource_arn=app["Arn"], mlflow_experiment_name="chat")
    job = SFTTrainer(model=QWEN, **args).train(wait=False)
    details = client.describe_training_job(TrainingJobName=job.training_job_name)["MlflowDetails"]
    url = client.create_presigned_mlflow_app_url(Arn=app["Arn"])["AuthorizedUrl"]
    assert _resolve_experiment_id(url, "chat") == details["MlflowExperimentId"]
    assert (
        _resolve_run_id(url, details["MlflowExperimentId"], job.training_job_name) == details["MlflowRunId"]
    )
    assert [r["access_key_id"] for r in sm.requests(operation="CreateTrainingJob")] == [CONN_KEY]

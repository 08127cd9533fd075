"""The SDK's trainers submit for real against the local SageMaker: serverless jobs, SFT → DPO, MultiTurnRL's CreateJob."""

from __future__ import annotations

from typing import Any

import pytest

from tests.testing import test_sdk_finetune_flows as flows
from tests.testing.conftest import BUCKET
from tests.testing.test_sdk_finetune_flows import CONN_KEY, MLFLOW_ARN, QWEN, TRAIN, trainer_args

#: The fine-tuning flows' fixtures: a role, a model package group, data; the connection's SDK session.
world = flows.world
session = flows.session


def test_sft_then_dpo_on_the_sft_model_package(sm: Any, world: dict[str, Any], session: Any) -> None:
    from sagemaker.train.dpo_trainer import DPOTrainer
    from sagemaker.train.sft_trainer import SFTTrainer

    sm.configure(training_seconds=600)
    sm.clock.freeze()
    sft = SFTTrainer(model=QWEN, **trainer_args(session, world))
    job = sft.train(wait=False)
    assert job.training_job_status == "InProgress"
    assert job.serverless_job_config.customization_technique == "SFT"
    assert job.serverless_job_config.peft == "LORA"
    assert job.model_package_config.model_package_group_arn.endswith(":model-package-group/fine-tuned")
    assert job.mlflow_config.mlflow_resource_arn == MLFLOW_ARN
    sm.clock.advance(600)
    job.refresh()
    assert job.training_job_status == "Completed"
    package_arn = job.output_model_package_arn
    assert package_arn.endswith(":model-package/fine-tuned/1")

    args = trainer_args(session, world, training_dataset=f"s3://{BUCKET}/data/preferences.jsonl")
    dpo = DPOTrainer(model=package_arn, **args)
    assert dpo._model_name == QWEN  # read back from the version the SFT job registered
    dpo_job = dpo.train(wait=False)
    assert dpo_job.model_package_config.source_model_package_arn == package_arn
    sm.clock.advance(600)
    dpo_job.refresh()
    assert dpo_job.output_model_package_arn.endswith(":model-package/fine-tuned/2")

    creates = sm.requests(operation="CreateTrainingJob")
    assert [r["status_code"] for r in creates] == [200, 200]
    assert {r["access_key_id"] for r in sm.requests()} == {CONN_KEY}


def test_multi_turn_rl_trainer_creates_and_completes_an_agent_rft_job(
    sm: Any, world: dict[str, Any], session: Any
) -> None:
    from sagemaker.train.agent_rft_job import AgentRFTJob
    from sagemaker.train.multi_turn_rl_trainer import MultiTurnRLTrainer

    sm.configure(training_seconds=600)
    sm.clock.freeze()
    trainer = MultiTurnRLTrainer(
        model=QWEN,
        agent_env="arn:aws:lambda:us-east-1:123456789012:function:agent-env",
        training_dataset=TRAIN,
        mlflow_app_arn=MLFLOW_ARN,
        s3_output_path=f"s3://{BUCKET}/mtrl",
        output_model_package_group="arn:aws:sagemaker:us-east-1:123456789012:model-package-group/fine-tuned",
        role=world["role"],
        sagemaker_session=session,
    )
    job = trainer.train(wait=False)
    assert job.job_status == "InProgress" and job.s3_output_path == f"s3://{BUCKET}/mtrl"
    sm.clock.advance(600)
    again = AgentRFTJob.get(job.job_name, session=session.boto_session)  # re-attach by name
    assert again.job_status == "Completed"
    assert again.output_model_package_arn.endswith(":model-package/fine-tuned/1")
    assert again.progress_info == {"MaxSteps": 100, "CurrentStep": 100}
    assert [r["status_code"] for r in sm.requests(operation="CreateJob")] == [200]
    assert {r["access_key_id"] for r in sm.requests()} == {CONN_KEY}


def test_the_sdks_reward_function_verification_runs_the_local_lambda(
    sm: Any, monkeypatch: Any
) -> None:
    from sagemaker.train.common_utils.rlvr_reward_verifier import verify_reward_function

    from tests.testing.test_lambda import REWARD, zipped

    sm.create_role("LambdaRole")
    awslambda = sm.boto3_client("lambda")
    arn = awslambda.create_function(
        FunctionName="rlvr-reward", Runtime="python3.12", Role="arn:aws:iam::123456789012:role/LambdaRole",
        Handler="reward.lambda_handler", Code={"ZipFile": zipped({"reward.py": REWARD})},
    )["FunctionArn"]
    monkeypatch.setenv("AWS_ENDPOINT_URL", sm.endpoint_url)  # the verifier's own boto3.client("lambda")
    samples = [{"id": "s1", "answer": "4", "reference": "4"}, {"id": "s2", "answer": "5", "reference": "4"}]
    report = verify_reward_function(arn, samples, validate_format=True)
    assert (report["total_samples"], report["successful_samples"]) == (2, 2)
    assert [r["output"]["aggregate_reward_score"] for r in report["results"]] == [1.0, 0.0]
    with pytest.raises(ValueError, match="ValueError: reward model exploded"):
        verify_reward_function(arn, [{"id": "s3", "explode": True}])
    assert [r["status_code"] for r in sm.requests(operation="Invoke")] == [200, 200]

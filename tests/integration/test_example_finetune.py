"""The fine-tuning example DAG end to end through a real Airflow 3 (scheduler, triggerer, workers) and the local
SageMaker: register a dataset and a reward function -> SFT (LoRA) -> DPO on the SFT model -> RLVR."""

from __future__ import annotations

import pytest

from tests.integration.provider_fixtures import AMBIENT_KEY, BUCKET, CONNECTION_KEY, Ctx

pytestmark = pytest.mark.integration

DAG_ID = "smtrain_finetune"
TRAINERS = ("sft", "dpo", "rlvr")


def test_finetune_example(ctx: Ctx) -> None:
    # longer than Airflow's deferral hand-over (a deferring worker's supervisor can take 5 s to exit; a
    # trigger that fires before the scheduler saw that exit gets the resumed task failed by Airflow 3)
    ctx.sm.configure(hub_import_seconds=8.0)
    lambda_role = ctx.sm.create_role("RewardLambdaRole", service="lambda.amazonaws.com")
    client = ctx.sm.boto3_client("sagemaker")
    client.create_model_package_group(ModelPackageGroupName="smtrain-finetuned")
    ctx.af.wait_for_dag(DAG_ID, timeout=120)
    ctx.sm.clear_requests()

    conf = {"role_arn": ctx.role_arn, "bucket": BUCKET, "lambda_role_arn": lambda_role}
    run_id = ctx.af.trigger(DAG_ID, conf=conf)
    state = ctx.af.wait_for_run(DAG_ID, run_id, timeout=420)
    assert state == "success", ctx.af.component_logs(tail=120)
    # every request of every process (workers, triggerer) before this test reads anything itself
    signers = {r["access_key_id"] for r in ctx.sm.requests() if r["service"] != "local"}
    assert signers == {CONNECTION_KEY} and AMBIENT_KEY not in signers, signers

    dataset = ctx.af.xcom(DAG_ID, run_id, "register_dataset")
    reward = ctx.af.xcom(DAG_ID, run_id, "register_reward")
    sft, dpo, rlvr = (ctx.af.xcom(DAG_ID, run_id, task) for task in TRAINERS)
    assert [r["technique"] for r in (sft, dpo, rlvr)] == ["SFT", "DPO", "RLVR"]
    assert all(r["status"] == "Completed" and r["serverless"] for r in (sft, dpo, rlvr))
    assert dpo["source_model_package_arn"] == sft["model_package_arn"]
    assert rlvr["source_model_package_arn"] == dpo["model_package_arn"]
    assert [r["model_package"]["version"] for r in (sft, dpo, rlvr)] == [1, 2, 3]

    sft_job = client.describe_training_job(TrainingJobName=sft["job_name"])
    assert dataset["arn"] in str(sft_job["InputDataConfig"])
    assert sft_job["ServerlessJobConfig"]["Peft"] == "LORA"
    rlvr_job = client.describe_training_job(TrainingJobName=rlvr["job_name"])
    assert rlvr_job["ServerlessJobConfig"]["EvaluatorArn"] == reward["arn"]

    for task_id in TRAINERS:
        assert "Deferring" in ctx.af.task_log(DAG_ID, run_id, task_id), f"{task_id} waited in the triggerer"
        assert ctx.af.trigger_logs(DAG_ID, run_id, task_id), f"{task_id}: the trigger ran in a triggerer"
    assert len(ctx.sm.requests(operation="CreateTrainingJob")) == 3, "one job per trainer task"
    operations = {r["operation"] for r in ctx.sm.requests()}
    assert "Invoke" in operations, "the SDK checked the reward function before RLVR"
    assert not operations & {"ListMlflowApps", "CreateMlflowApp"}, "no MLflow unless asked"
    assert len(ctx.sm.requests(operation="CreateFunction")) == 1, "only the Lambda the registry task asked for"


def test_rlaif_through_the_triggerer(ctx: Ctx) -> None:
    ctx.sm.put_object(BUCKET, "finetune/rl/train.jsonl", b'{"id": "q1", "prompt": "Summarize: the sky is blue."}\n')
    ctx.sm.boto3_client("sagemaker").create_model_package_group(ModelPackageGroupName="it-rlaif")
    ctx.af.wait_for_dag("it_finetune_rlaif", timeout=120)
    ctx.sm.clear_requests()

    run_id, state = ctx.run("it_finetune_rlaif", timeout=240)
    assert state == "success", ctx.af.component_logs(tail=80)
    signers = {r["access_key_id"] for r in ctx.sm.requests() if r["service"] != "local"}
    assert signers == {CONNECTION_KEY}, signers

    result = ctx.af.xcom("it_finetune_rlaif", run_id, "rlaif")
    assert (result["technique"], result["status"], result["model_package"]["version"]) == ("RLAIF", "Completed", 1)
    assert "Deferring" in ctx.af.task_log("it_finetune_rlaif", run_id, "rlaif")
    assert ctx.af.trigger_logs("it_finetune_rlaif", run_id, "rlaif"), "the trigger ran in a triggerer"
    job = ctx.sm.boto3_client("sagemaker").describe_training_job(TrainingJobName=result["job_name"])
    assert job["HyperParameters"]["judge_model_id"] == "bedrock/openai.gpt-oss-120b-1:0"
    assert job["HyperParameters"]["max_epochs"] == "1"
    assert len(ctx.sm.requests(operation="CreateTrainingJob")) == 1

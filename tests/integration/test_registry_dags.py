"""The AI Registry operators end to end through a real Airflow 3 (triggerer included) and the local SageMaker."""

from __future__ import annotations

import pytest

from tests.integration.provider_fixtures import BUCKET, CONNECTION_KEY, Ctx

pytestmark = pytest.mark.integration

DAG_ID = "it_registry"
TASKS = ("register_dataset", "register_reward_function")


def test_registry_operators_register_once_defer_and_reuse(ctx: Ctx) -> None:
    # longer than Airflow's deferral hand-over, so both imports are waited for in the triggerer
    ctx.sm.configure(hub_import_seconds=8.0)
    lambda_role = ctx.sm.create_role("RewardLambdaRole", service="lambda.amazonaws.com")
    ctx.af.wait_for_dag(DAG_ID, timeout=120)
    ctx.sm.clear_requests()

    conf = {"bucket": BUCKET, "lambda_role_arn": lambda_role}
    run_id = ctx.af.trigger(DAG_ID, conf=conf)
    state = ctx.af.wait_for_run(DAG_ID, run_id, timeout=240)
    assert state == "success", ctx.af.component_logs(tail=80)

    dataset = ctx.af.xcom(DAG_ID, run_id, "register_dataset")
    evaluator = ctx.af.xcom(DAG_ID, run_id, "register_reward_function")
    assert (dataset["status"], dataset["version"], dataset["method"]) == ("Available", "1.0.0", "uploaded")
    assert dataset["reference"].startswith(f"s3://{BUCKET}/ai-registry/datasets/it-chat/")
    assert (evaluator["status"], evaluator["evaluator_type"], evaluator["method"]) == (
        "Available", "RewardFunction", "byoc",
    )
    assert evaluator["reference"].startswith("arn:aws:lambda:us-east-1:")
    assert ctx.af.xcom(DAG_ID, run_id, "dataset_available")["arn"] == dataset["arn"]
    for task_id in TASKS:
        assert "Deferring" in ctx.af.task_log(DAG_ID, run_id, task_id)
        assert ctx.af.trigger_logs(DAG_ID, run_id, task_id), f"{task_id}: the trigger ran in a triggerer"
    assert len(ctx.sm.requests(operation="ImportHubContent")) == 2
    lambda_calls = ctx.sm.requests(service="lambda")
    assert len(lambda_calls) == 1, "one CreateFunction for the reward function"

    # the same content again (a new DAG run): the existing versions, no import, no Lambda
    second = ctx.af.trigger(DAG_ID, conf=conf)
    assert ctx.af.wait_for_run(DAG_ID, second, timeout=180) == "success", ctx.af.component_logs(tail=80)
    assert ctx.af.xcom(DAG_ID, second, "register_dataset")["arn"] == dataset["arn"]
    assert ctx.af.xcom(DAG_ID, second, "register_reward_function")["arn"] == evaluator["arn"]
    assert len(ctx.sm.requests(operation="ImportHubContent")) == 2
    assert len(ctx.sm.requests(service="lambda")) == 1

    signers = {r["access_key_id"] for r in ctx.sm.requests() if r["service"] != "local"}
    assert signers == {CONNECTION_KEY}, signers

"""The example DAGs, end to end through a real Airflow against the local SageMaker running the real script."""

from __future__ import annotations

import pytest

from tests.integration.provider_fixtures import BUCKET, Ctx

pytestmark = pytest.mark.integration

TRAINING_DATA = ("x,y\n" + "".join(f"{i / 50:.3f},{3 * i / 50 + 1:.3f}\n" for i in range(50))).encode()


def test_train_evaluate_deploy_example(ctx: Ctx) -> None:
    ctx.sm.configure(run_scripts=True)
    ctx.sm.put_object(BUCKET, "data/train/train.csv", TRAINING_DATA)
    run_id, state = ctx.run("smtrain_train_evaluate_deploy", timeout=240)
    assert state == "success", ctx.af.component_logs(tail=80)

    train = ctx.af.xcom("smtrain_train_evaluate_deploy", run_id, "train")
    # The metric comes from the real train.py run by the local SageMaker, scraped by the metric definition.
    assert 0 <= train["final_metrics"]["train:loss"] < 0.05
    verdict = ctx.af.xcom("smtrain_train_evaluate_deploy", run_id, "evaluate")
    assert verdict["passed"] is True
    deploy = ctx.af.xcom("smtrain_train_evaluate_deploy", run_id, "deploy")
    assert deploy["endpoint_name"] == train["job_name"]
    model = ctx.sm.boto3_client("sagemaker").describe_model(ModelName=train["job_name"])
    assert model["PrimaryContainer"]["ModelDataUrl"] == train["model_artifacts"]


def test_tuning_example(ctx: Ctx) -> None:
    run_id, state = ctx.run("smtrain_tuning", timeout=240)
    assert state == "success", ctx.af.component_logs(tail=80)
    report = ctx.af.xcom("smtrain_tuning", run_id, "report")
    tune = ctx.af.xcom("smtrain_tuning", run_id, "tune")
    assert report["best_job"] == tune["best_training_job"]["job_name"]
    assert tune["training_job_counters"]["Completed"] == 4

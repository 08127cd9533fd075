"""The example DAGs, end to end through a real Airflow against the local SageMaker running the real script."""

from __future__ import annotations

import pytest

from tests.integration.provider_fixtures import BUCKET, Ctx

pytestmark = pytest.mark.integration

ENDPOINT = "smtrain-demo-regression"  # the example DAG's endpoint_name param
INFERENCE_IMAGE = "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.5-cpu-py311"
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

    # DeployModelOperator's result (docs/outputs.md "Endpoint result"): the endpoint it created and waited on
    deploy = ctx.af.xcom("smtrain_train_evaluate_deploy", run_id, "deploy")
    sagemaker = ctx.sm.boto3_client("sagemaker")
    endpoint = sagemaker.describe_endpoint(EndpointName=ENDPOINT)
    assert deploy["endpoint_name"] == ENDPOINT and deploy["status"] == endpoint["EndpointStatus"] == "InService"
    assert deploy["endpoint_arn"] == endpoint["EndpointArn"]
    # the endpoint serves the config this task instance created, named like the model it created
    assert deploy["endpoint_config_name"] == deploy["deployed_endpoint_config_name"] == deploy["model_name"]
    assert endpoint["EndpointConfigName"] == deploy["model_name"]
    assert deploy["model_name"].startswith(ENDPOINT + "-")
    assert [(v["name"], v["current_instance_count"], v["image"]) for v in deploy["variants"]] == [
        ("AllTraffic", 1, INFERENCE_IMAGE)
    ]
    config = sagemaker.describe_endpoint_config(EndpointConfigName=deploy["endpoint_config_name"])
    (variant,) = config["ProductionVariants"]
    assert (variant["VariantName"], variant["ModelName"], variant["InstanceType"]) == (
        "AllTraffic", deploy["model_name"], "ml.m5.large"
    )
    # the model serves this run's training artifacts (the whole training result went in as model_data_url)
    assert deploy["model_data_url"] == train["model_artifacts"] and deploy["image"] == INFERENCE_IMAGE
    model = sagemaker.describe_model(ModelName=deploy["model_name"])
    assert model["PrimaryContainer"]["ModelDataUrl"] == train["model_artifacts"]
    assert model["PrimaryContainer"]["Image"] == INFERENCE_IMAGE
    assert len(ctx.sm.requests(operation="CreateEndpoint")) == 1


def test_tuning_example(ctx: Ctx) -> None:
    run_id, state = ctx.run("smtrain_tuning", timeout=240)
    assert state == "success", ctx.af.component_logs(tail=80)
    report = ctx.af.xcom("smtrain_tuning", run_id, "report")
    tune = ctx.af.xcom("smtrain_tuning", run_id, "tune")
    assert report["best_job"] == tune["best_training_job"]["job_name"]
    assert tune["training_job_counters"]["Completed"] == 4

"""Real-time endpoints on the simulation clock: create, update, fail by rule or force, list, delete, approve."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import BotoCoreError, ClientError

from tests.testing.conftest import BUCKET, ROLE_ARN

IMAGE = "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.5-cpu"


def model_and_config(sagemaker: Any, name: str, instance_type: str = "ml.m5.large", count: int = 1) -> None:
    sagemaker.create_model(
        ModelName=name,
        ExecutionRoleArn=ROLE_ARN,
        PrimaryContainer={"Image": IMAGE, "ModelDataUrl": f"s3://{BUCKET}/model/{name}/model.tar.gz"},
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {"VariantName": "AllTraffic", "ModelName": name, "InstanceType": instance_type,
             "InitialInstanceCount": count, "InitialVariantWeight": 1.0}
        ],
    )


def test_an_endpoint_is_creating_then_in_service_with_its_config(sm, sagemaker):
    sm.configure(endpoint_seconds=600)
    sm.clock.freeze()
    model_and_config(sagemaker, "cfg-1", count=2)
    arn = sagemaker.create_endpoint(EndpointName="My-Endpoint", EndpointConfigName="cfg-1")["EndpointArn"]
    assert arn == "arn:aws:sagemaker:us-east-1:123456789012:endpoint/my-endpoint"
    creating = sagemaker.describe_endpoint(EndpointName="My-Endpoint")
    assert creating["EndpointStatus"] == "Creating"
    assert creating["EndpointConfigName"] == "cfg-1" and "PendingDeploymentSummary" not in creating
    assert creating["ProductionVariants"][0]["CurrentInstanceCount"] == 0
    sm.clock.advance(599)
    assert sagemaker.describe_endpoint(EndpointName="My-Endpoint")["EndpointStatus"] == "Creating"
    sm.clock.advance(1)
    live = sagemaker.describe_endpoint(EndpointName="My-Endpoint")
    assert (live["EndpointStatus"], live["EndpointConfigName"]) == ("InService", "cfg-1")
    assert "PendingDeploymentSummary" not in live and "FailureReason" not in live
    variant = live["ProductionVariants"][0]
    assert (variant["VariantName"], variant["CurrentInstanceCount"]) == ("AllTraffic", 2)
    assert variant["DeployedImages"][0]["SpecifiedImage"] == IMAGE
    assert (live["LastModifiedTime"] - live["CreationTime"]).total_seconds() == pytest.approx(600)


def test_update_keeps_serving_the_old_config_until_the_new_one_is_in_service(sm, sagemaker):
    sm.configure(endpoint_seconds=60)
    sm.clock.freeze()
    model_and_config(sagemaker, "cfg-a")
    model_and_config(sagemaker, "cfg-b", instance_type="ml.g5.xlarge")
    sagemaker.create_endpoint(EndpointName="ep", EndpointConfigName="cfg-a")
    with pytest.raises(ClientError, match="Cannot update in-progress endpoint"):
        sagemaker.update_endpoint(EndpointName="ep", EndpointConfigName="cfg-b")
    sm.clock.advance(60)
    sagemaker.update_endpoint(EndpointName="ep", EndpointConfigName="cfg-b")
    updating = sagemaker.describe_endpoint(EndpointName="ep")
    assert (updating["EndpointStatus"], updating["EndpointConfigName"]) == ("Updating", "cfg-a")
    pending = updating["PendingDeploymentSummary"]
    assert (pending["EndpointConfigName"], pending["ProductionVariants"][0]["InstanceType"]) == ("cfg-b", "ml.g5.xlarge")
    sm.clock.advance(60)
    done = sagemaker.describe_endpoint(EndpointName="ep")
    assert (done["EndpointStatus"], done["EndpointConfigName"]) == ("InService", "cfg-b")


def test_a_rule_fails_a_creation_and_force_job_fails_an_update_with_a_reason(sm, sagemaker):
    sm.configure(endpoint_seconds=10)
    sm.clock.freeze()
    sm.add_rule(kind="endpoint", name_glob="bad-*", outcome="Failed", failure_reason="ModelError: OOM", times=1)
    model_and_config(sagemaker, "cfg")
    sagemaker.create_endpoint(EndpointName="bad-ep", EndpointConfigName="cfg")
    sagemaker.create_endpoint(EndpointName="good-ep", EndpointConfigName="cfg")
    sm.clock.advance(10)
    failed = sagemaker.describe_endpoint(EndpointName="bad-ep")
    assert (failed["EndpointStatus"], failed["FailureReason"]) == ("Failed", "ModelError: OOM")
    assert sagemaker.describe_endpoint(EndpointName="good-ep")["EndpointStatus"] == "InService"
    # a Failed endpoint can be updated; the rule was spent, so this time it comes up
    sagemaker.update_endpoint(EndpointName="bad-ep", EndpointConfigName="cfg")
    sm.clock.advance(10)
    assert sagemaker.describe_endpoint(EndpointName="bad-ep")["EndpointStatus"] == "InService"
    sagemaker.update_endpoint(EndpointName="good-ep", EndpointConfigName="cfg")
    sm.force_job("endpoint", "good-ep", "Failed", failure_reason="CapacityError: no ml.m5.large")
    forced = sagemaker.describe_endpoint(EndpointName="good-ep")
    assert (forced["EndpointStatus"], forced["FailureReason"]) == ("Failed", "CapacityError: no ml.m5.large")
    assert "PendingDeploymentSummary" not in forced


def test_taken_names_and_unknown_endpoints_are_refused_as_sagemaker_does(sm, sagemaker):
    model_and_config(sagemaker, "cfg")
    with pytest.raises(ClientError, match="Cannot create already existing model"):
        model_and_config(sagemaker, "cfg")
    with pytest.raises(ClientError, match="Cannot create already existing endpoint configuration"):
        sagemaker.create_endpoint_config(
            EndpointConfigName="cfg",
            ProductionVariants=[{"VariantName": "v", "ModelName": "cfg", "InstanceType": "ml.m5.large",
                                 "InitialInstanceCount": 1}],
        )
    sagemaker.create_endpoint(EndpointName="ep", EndpointConfigName="cfg")
    with pytest.raises(ClientError, match="Cannot create already existing endpoint"):
        sagemaker.create_endpoint(EndpointName="ep", EndpointConfigName="cfg")
    with pytest.raises(ClientError, match="Could not find endpoint configuration"):
        sagemaker.create_endpoint(EndpointName="ep2", EndpointConfigName="nope")
    for call in (sagemaker.describe_endpoint, sagemaker.delete_endpoint):
        with pytest.raises(ClientError, match="Could not find endpoint") as err:
            call(EndpointName="nope")
        assert err.value.response["Error"]["Code"] == "ValidationException"
    sagemaker.delete_endpoint(EndpointName="ep")
    with pytest.raises(ClientError, match="Could not find endpoint"):
        sagemaker.describe_endpoint(EndpointName="ep")


def test_list_endpoints_filters_sorts_and_pages_on_the_clock(sm, sagemaker):
    sm.configure(endpoint_seconds=30)
    sm.clock.freeze()
    model_and_config(sagemaker, "cfg")
    for index in range(5):
        sagemaker.create_endpoint(EndpointName=f"ep-{index}", EndpointConfigName="cfg")
        sm.clock.advance(10)
    in_service = sagemaker.list_endpoints(StatusEquals="InService", SortBy="Name", SortOrder="Ascending")
    assert [e["EndpointName"] for e in in_service["Endpoints"]] == ["ep-0", "ep-1", "ep-2"]
    first = sagemaker.list_endpoints(MaxResults=2)
    assert [e["EndpointName"] for e in first["Endpoints"]] == ["ep-4", "ep-3"]  # newest first by default
    rest = sagemaker.list_endpoints(MaxResults=2, NextToken=first["NextToken"])
    assert [e["EndpointName"] for e in rest["Endpoints"]] == ["ep-2", "ep-1"]
    configs = sagemaker.list_endpoint_configs()["EndpointConfigs"]
    assert [c["EndpointConfigName"] for c in configs] == ["cfg"]
    with pytest.raises(ClientError, match="statusEquals"):
        sagemaker.list_endpoints(StatusEquals="Ready")


def test_requests_are_logged_by_endpoint_and_faults_apply(sm, sagemaker):
    model_and_config(sagemaker, "cfg")
    sm.fail_next("CreateEndpoint", kind="lost_response")
    with pytest.raises(BotoCoreError):
        sagemaker.create_endpoint(EndpointName="lost-ep", EndpointConfigName="cfg")
    assert sagemaker.describe_endpoint(EndpointName="lost-ep")["EndpointStatus"] in ("Creating", "InService")
    logged = sm.requests(operation="CreateEndpoint", name="lost-ep")
    assert [(r["fault"], r["access_key_id"]) for r in logged] == [("lost_response", "AKIATESTSAGEMAKER")]
    assert len(sm.requests(operation="CreateEndpointConfig", name="cfg")) == 1
    sm.fail_next("UpdateEndpoint", code="ThrottlingException", status=400)
    with pytest.raises(ClientError, match="ThrottlingException"):
        sagemaker.update_endpoint(EndpointName="lost-ep", EndpointConfigName="cfg")


def test_update_model_package_approves_a_version(sm, sagemaker):
    sagemaker.create_model_package_group(ModelPackageGroupName="grp")
    arn = sm.register_model_package(
        "grp", training_job_name="ft-1", training_job_arn="arn:aws:sagemaker:us-east-1:123456789012:training-job/ft-1",
        model_data_s3_uri=f"s3://{BUCKET}/ft-1/checkpoints/hf_merged/",
        base_model="meta-textgeneration-llama-3-2-1b-instruct",
    )
    assert sagemaker.describe_model_package(ModelPackageName=arn)["ModelApprovalStatus"] == "PendingManualApproval"
    assert sagemaker.update_model_package(ModelPackageArn=arn, ModelApprovalStatus="Approved")["ModelPackageArn"] == arn
    assert sagemaker.describe_model_package(ModelPackageName=arn)["ModelApprovalStatus"] == "Approved"

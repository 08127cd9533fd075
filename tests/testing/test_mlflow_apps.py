"""MLflow apps on the simulation clock; assumed-role callers; the IAM calls of the SDK's role checks."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.testing import shapes
from tests.testing.conftest import BUCKET, ROLE_ARN


def create_app(sagemaker: Any, name: str, **kwargs: Any) -> str:
    arn: str = sagemaker.create_mlflow_app(
        Name=name, ArtifactStoreUri=f"s3://{BUCKET}/mlflow/{name}", RoleArn=ROLE_ARN, **kwargs
    )["Arn"]
    return arn


def test_an_mlflow_app_is_creating_then_created_and_opens_on_the_local_server(sm, sagemaker):
    sm.configure(mlflow_app_seconds=120)
    sm.clock.freeze()
    arn = create_app(sagemaker, "team-tracking", AccountDefaultStatus="ENABLED")
    assert arn.startswith("arn:aws:sagemaker:us-east-1:123456789012:mlflow-app/app-")
    app = sagemaker.describe_mlflow_app(Arn=arn)
    assert (app["Status"], app["AccountDefaultStatus"], app["MlflowVersion"]) == (
        "Creating",
        "ENABLED",
        "3.10.0",
    )
    with pytest.raises(ClientError, match="is not ready"):
        sagemaker.create_presigned_mlflow_app_url(Arn=arn)
    sm.clock.advance(119)
    assert sagemaker.describe_mlflow_app(Arn=arn)["Status"] == "Creating"
    sm.clock.advance(1)
    app = sagemaker.describe_mlflow_app(Arn=arn)
    assert app["Status"] == "Created"
    assert (app["LastModifiedTime"] - app["CreationTime"]).total_seconds() == pytest.approx(120)
    url = sagemaker.create_presigned_mlflow_app_url(Arn=arn, ExpiresInSeconds=300)["AuthorizedUrl"]
    assert url.startswith(f"{sm.endpoint_url}/_local/mlflow/{arn.rsplit('/', 1)[1]}/auth?authToken=")
    with urllib.request.urlopen(url, timeout=5) as page:
        assert json.loads(page.read()) == {"Arn": arn, "Name": "team-tracking", "Status": "Created"}


def test_the_sdk_finds_a_jobs_experiment_and_run_behind_the_presigned_url(sm, sagemaker):
    from sagemaker.train.common_utils.mlflow_url_utils import _resolve_experiment_id, _resolve_run_id

    sm.configure(mlflow_app_seconds=0)
    arn = create_app(sagemaker, "tracking")
    first = sm.record_mlflow_run(arn, "sft-experiments", "sft-run-1")
    sm.clock.advance(1)
    second = sm.record_mlflow_run(arn, "sft-experiments", "sft-run-2")
    assert first["MlflowExperimentId"] == second["MlflowExperimentId"]
    assert first["MlflowRunId"] != second["MlflowRunId"]
    url = sagemaker.create_presigned_mlflow_app_url(Arn=arn)["AuthorizedUrl"]
    experiment_id = _resolve_experiment_id(url, "sft-experiments")
    assert experiment_id == first["MlflowExperimentId"]
    assert _resolve_experiment_id(url, "no-such-experiment") is None
    assert _resolve_run_id(url, experiment_id) == second["MlflowRunId"]  # the latest
    assert _resolve_run_id(url, experiment_id, "sft-run-1") == first["MlflowRunId"]
    with pytest.raises(Exception, match="does not exist"):
        sm.record_mlflow_run(arn.replace("app-", "app-x"), "e")


def test_listing_updating_deleting_and_failing_apps(sm, sagemaker):
    sm.add_rule(kind="mlflow_app", name_glob="broken-*", outcome="Failed")
    sm.clock.freeze()
    first = create_app(sagemaker, "first")
    sm.clock.advance(10)
    broken = create_app(sagemaker, "broken-app")
    with pytest.raises(ClientError) as err:
        create_app(sagemaker, "first")
    assert err.value.response["Error"]["Code"] == "ResourceInUse"
    listed = sagemaker.list_mlflow_apps()["Summaries"]
    assert [a["Name"] for a in listed] == ["broken-app", "first"]  # newest first by default
    assert [a["Name"] for a in sagemaker.list_mlflow_apps(Status="Created")["Summaries"]] == ["first"]
    sm.clock.advance(5)
    assert sagemaker.describe_mlflow_app(Arn=broken)["Status"] == "CreateFailed"
    page = sagemaker.list_mlflow_apps(SortBy="Name", SortOrder="Ascending", MaxResults=1)
    assert [a["Name"] for a in page["Summaries"]] == ["broken-app"] and page["NextToken"]
    sagemaker.update_mlflow_app(Arn=first, AccountDefaultStatus="ENABLED")
    assert sagemaker.describe_mlflow_app(Arn=first)["Status"] == "Updating"
    sm.clock.advance(5)
    updated = sagemaker.describe_mlflow_app(Arn=first)
    assert (updated["Status"], updated["AccountDefaultStatus"]) == ("Updated", "ENABLED")
    sm.force_job("mlflow_app", "first", "UpdateFailed")
    assert sagemaker.describe_mlflow_app(Arn=first)["Status"] == "UpdateFailed"
    assert sagemaker.delete_mlflow_app(Arn=broken)["Arn"] == broken
    with pytest.raises(ClientError) as err:
        sagemaker.describe_mlflow_app(Arn=broken)
    assert err.value.response["Error"]["Code"] == "ResourceNotFound"
    with pytest.raises(ClientError, match="regular expression pattern"):
        create_app(sagemaker, "bad_name")


def test_the_caller_can_be_an_assumed_role(sm):
    role_arn = sm.create_role("PipelineRole")
    credentials = sm.assume_role(role_arn, "airflow-task")
    sts = boto3.session.Session().client(
        "sts",
        region_name=sm.region,
        endpoint_url=sm.endpoint_url,
        aws_access_key_id=credentials["access_key_id"],
        aws_secret_access_key=credentials["secret_access_key"],
        aws_session_token=credentials["session_token"],
    )
    assert (
        sts.get_caller_identity()["Arn"] == "arn:aws:sts::123456789012:assumed-role/PipelineRole/airflow-task"
    )
    extra = json.loads(sm.airflow_connection_json(**credentials))["extra"]
    assert extra["aws_session_token"] == credentials["session_token"]
    [logged] = sm.requests(operation="GetCallerIdentity")
    assert logged["access_key_id"] == credentials["access_key_id"]


def test_the_iam_calls_of_the_sdks_role_validation(sm):
    iam = sm.boto3_client("iam")
    role_arn = sm.create_role("SageMakerRole")
    result = iam.simulate_principal_policy(
        PolicySourceArn=role_arn, ActionNames=["s3:GetObject", "sagemaker:CreateTrainingJob"]
    )
    assert [(r["EvalActionName"], r["EvalDecision"]) for r in result["EvaluationResults"]] == [
        ("s3:GetObject", "allowed"),
        ("sagemaker:CreateTrainingJob", "allowed"),
    ]
    trust = iam.get_role(RoleName="SageMakerRole")["Role"]["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Principal"] == {"Service": "sagemaker.amazonaws.com"}


MLFLOW_OPERATIONS = [
    "CreateMlflowApp",
    "DescribeMlflowApp",
    "ListMlflowApps",
    "UpdateMlflowApp",
    "DeleteMlflowApp",
    "CreatePresignedMlflowAppUrl",
]


def test_every_mlflow_response_matches_botocore(sm, sagemaker):
    shapes.CHECKED.clear()
    test_an_mlflow_app_is_creating_then_created_and_opens_on_the_local_server(sm, sagemaker)
    sm.reset()
    test_listing_updating_deleting_and_failing_apps(sm, sagemaker)
    assert [op for op in MLFLOW_OPERATIONS if ("sagemaker", op) not in shapes.CHECKED] == []

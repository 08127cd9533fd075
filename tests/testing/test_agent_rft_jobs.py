"""AgentRFT jobs (CreateJob / DescribeJob / StopJob / ListJobs) on the LocalSageMaker, as MultiTurnRLTrainer uses them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.testing.conftest import BUCKET, ROLE_ARN

BASE_MODEL_ARN = "arn:aws:sagemaker:us-east-1:aws:hub-content/SageMakerPublicHub/Model/qwen3-8b/1.0.0"
MLFLOW_ARN = "arn:aws:sagemaker:us-east-1:123456789012:mlflow-app/app-ABC123"


@pytest.fixture
def wait_for(clock_wait_for):
    """Jobs are waited for in simulated time."""
    return clock_wait_for


def document(group_arn: str | None = None) -> dict[str, Any]:
    """A JobConfigDocument as MultiTurnRLTrainer._build_job_config builds it."""
    doc: dict[str, Any] = {
        "AgentConfig": {"CustomAgentLambdaConfig": {"LambdaArn": "arn:aws:lambda:us-east-1:123456789012:function:env"}},
        "InputDataConfig": [
            {
                "ChannelName": "train",
                "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{BUCKET}/rl/train.jsonl"}},
            }
        ],
        "OutputDataConfig": {"S3OutputPath": f"s3://{BUCKET}/mtrl-output"},
        "ModelPackageConfig": {"IntermediateCheckpointModelPackageGroupArn": None},
        "TrainingConfig": {
            "BaseModelArn": BASE_MODEL_ARN,
            "MlflowConfig": {"MlflowResourceArn": MLFLOW_ARN, "MlflowExperimentName": "mtrl"},
            "AcceptEula": True,
        },
    }
    if group_arn:
        doc["ModelPackageConfig"]["OutputModelPackageGroupArn"] = group_arn
    return doc


def create(sagemaker: Any, name: str, group_arn: str | None = None, **overrides: Any) -> dict[str, Any]:
    args = {
        "JobName": name,
        "RoleArn": ROLE_ARN,
        "JobCategory": "AgentRFT",
        "JobConfigSchemaVersion": "1.0.0",
        "JobConfigDocument": json.dumps(document(group_arn)),
        "Tags": [{"Key": "team", "Value": "rl"}],
        **overrides,
    }
    result: dict[str, Any] = sagemaker.create_job(**args)
    return result


def describe(sagemaker: Any, name: str) -> dict[str, Any]:
    result: dict[str, Any] = sagemaker.describe_job(JobName=name, JobCategory="AgentRFT")
    return result


def status_is(sagemaker: Any, name: str, status: str) -> Any:
    return lambda: (lambda d: d if d["JobStatus"] == status else None)(describe(sagemaker, name))


def test_job_runs_in_simulated_time_and_registers_its_model(sm, sagemaker, wait_for):
    group_arn = sagemaker.create_model_package_group(ModelPackageGroupName="mtrl-out")["ModelPackageGroupArn"]
    sm.configure(training_seconds=1000)
    sm.clock.freeze()
    arn = create(sagemaker, "mtrl-1", group_arn)["JobArn"]
    assert arn == "arn:aws:sagemaker:us-east-1:123456789012:job/AgentRFT/mtrl-1"

    first = describe(sagemaker, "mtrl-1")  # every response is checked against botocore's shape
    assert (first["JobStatus"], first["SecondaryStatus"]) == ("InProgress", "Starting")
    assert first["RoleArn"] == ROLE_ARN and first["Tags"] == [{"Key": "team", "Value": "rl"}]
    assert "EndTime" not in first
    assert json.loads(first["JobConfigDocument"])["TrainingConfig"]["BaseModelArn"] == BASE_MODEL_ARN

    sm.clock.advance(500)
    middle = describe(sagemaker, "mtrl-1")
    assert middle["SecondaryStatus"] == "Training"
    progress = json.loads(middle["JobConfigDocument"])["ServiceOutput"]["ProgressInfo"]
    assert progress["MaxSteps"] == 100 and 0 < progress["CurrentStep"] < 100

    done = wait_for(status_is(sagemaker, "mtrl-1", "Completed"), timeout=600, interval=100)
    assert [t["Status"] for t in done["SecondaryStatusTransitions"]] == [
        "Starting", "Downloading", "Training", "Uploading", "Completed",
    ]
    assert done["EndTime"] == done["LastModifiedTime"]
    output = json.loads(done["JobConfigDocument"])["ServiceOutput"]
    assert output["ProgressInfo"]["CurrentStep"] == 100
    assert output["BillableTokenUsage"]["TrainTokenCount"] > 0
    assert set(output["MlflowDetails"]) == {"ExperimentName", "RunName", "ExperimentId", "RunId"}
    [package] = sagemaker.list_model_packages(ModelPackageGroupName="mtrl-out")["ModelPackageSummaryList"]
    assert output["OutputModelPackageArn"] == package["ModelPackageArn"]
    s3 = sm.boto3_client("s3")
    manifest = json.loads(s3.get_object(Bucket=BUCKET, Key="mtrl-output/mtrl-1/manifest.json")["Body"].read())
    assert manifest["checkpoint_s3_bucket"] == f"s3://{BUCKET}/mtrl-output/mtrl-1/checkpoints/hf_merged/"

    logs = sm.boto3_client("logs")
    [stream] = logs.describe_log_streams(logGroupName="/aws/sagemaker/Job/AgentRFT")["logStreams"]
    assert stream["logStreamName"].startswith("mtrl-1/")


def test_stop_goes_stopping_then_stopped_and_a_second_stop_is_refused(sm, sagemaker, wait_for):
    sm.configure(training_seconds=1000, stop_seconds=30)
    sm.clock.freeze()
    create(sagemaker, "mtrl-stop")
    sm.clock.advance(400)
    assert sagemaker.stop_job(JobName="mtrl-stop", JobCategory="AgentRFT")["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert describe(sagemaker, "mtrl-stop")["JobStatus"] == "Stopping"
    done = wait_for(status_is(sagemaker, "mtrl-stop", "Stopped"), timeout=60, interval=10)
    assert done["SecondaryStatus"] == "Stopped" and "FailureReason" not in done
    assert "OutputModelPackageArn" not in json.loads(done["JobConfigDocument"]).get("ServiceOutput", {})
    with pytest.raises(ClientError, match="status Stopped") as err:
        sagemaker.stop_job(JobName="mtrl-stop", JobCategory="AgentRFT")
    assert err.value.response["Error"]["Code"] == "ValidationException"


def test_rules_and_force_apply_to_agent_rft_jobs(sm, sagemaker, wait_for):
    sm.clock.freeze()
    sm.add_rule(kind="agent_rft", name_glob="mtrl-bad-*", outcome="Failed", failure_reason="AgentError: env crashed")
    create(sagemaker, "mtrl-bad-1")
    create(sagemaker, "mtrl-good-1")
    failed = wait_for(status_is(sagemaker, "mtrl-bad-1", "Failed"))
    assert failed["FailureReason"] == "AgentError: env crashed"
    assert wait_for(status_is(sagemaker, "mtrl-good-1", "Completed"))

    sm.configure(training_seconds=1000)
    create(sagemaker, "mtrl-forced")
    sm.force_job("agent_rft", "mtrl-forced", "Failed", failure_reason="OOM")
    forced = describe(sagemaker, "mtrl-forced")
    assert (forced["JobStatus"], forced["FailureReason"]) == ("Failed", "OOM")
    sm.clock.advance(5000)
    assert describe(sagemaker, "mtrl-forced")["JobStatus"] == "Failed"  # forced states stay
    listed = {job["name"]: job["status"] for job in sm.jobs()["agent_rft"]}
    assert listed == {"mtrl-bad-1": "Failed", "mtrl-good-1": "Completed", "mtrl-forced": "Failed"}
    assert sm.stats()["ticks"]["agent_rft"] > 0


def test_names_are_unique_and_unknown_jobs_are_not_found(sm, sagemaker):
    create(sagemaker, "mtrl-dup")
    with pytest.raises(ClientError) as err:
        create(sagemaker, "mtrl-dup")
    assert err.value.response["Error"]["Code"] == "ResourceInUse"
    for category in ("AgentRFT", "AgentRFTEvaluation"):  # a job is found in its own category only
        name = "missing" if category == "AgentRFT" else "mtrl-dup"
        with pytest.raises(ClientError) as err:
            sagemaker.describe_job(JobName=name, JobCategory=category)
        assert err.value.response["Error"]["Code"] == "ResourceNotFound"
        assert "does not exist" in err.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as err:
        sagemaker.stop_job(JobName="missing", JobCategory="AgentRFT")
    assert err.value.response["Error"]["Code"] == "ResourceNotFound"
    with pytest.raises(ClientError) as err:
        create(sagemaker, "bad_name")
    assert err.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ClientError, match="JSON") as err:
        create(sagemaker, "mtrl-nojson", JobConfigDocument="{not json")
    with pytest.raises(ClientError, match="does not exist"):
        create(sagemaker, "mtrl-nogroup", "arn:aws:sagemaker:us-east-1:123456789012:model-package-group/none")


def test_list_jobs_filters_sorts_and_pages(sm, sagemaker):
    sm.configure(training_seconds=100)
    sm.clock.freeze()
    for index in range(5):
        create(sagemaker, f"mtrl-list-{index}")
        sm.clock.advance(10)
    sagemaker.stop_job(JobName="mtrl-list-4", JobCategory="AgentRFT")
    create(sagemaker, "other-job")

    newest_first = sagemaker.list_jobs(JobCategory="AgentRFT", NameContains="mtrl-list")["JobSummaries"]
    assert [s["JobName"] for s in newest_first] == [f"mtrl-list-{i}" for i in (4, 3, 2, 1, 0)]
    assert {s["JobCategory"] for s in newest_first} == {"AgentRFT"}
    stopping = sagemaker.list_jobs(JobCategory="AgentRFT", StatusEquals="Stopping")["JobSummaries"]
    assert [s["JobName"] for s in stopping] == ["mtrl-list-4"]

    page = sagemaker.list_jobs(JobCategory="AgentRFT", SortBy="Name", SortOrder="Ascending", MaxResults=4)
    assert [s["JobName"] for s in page["JobSummaries"]] == ["mtrl-list-0", "mtrl-list-1", "mtrl-list-2", "mtrl-list-3"]
    rest = sagemaker.list_jobs(
        JobCategory="AgentRFT", SortBy="Name", SortOrder="Ascending", MaxResults=4, NextToken=page["NextToken"]
    )
    assert [s["JobName"] for s in rest["JobSummaries"]] == ["mtrl-list-4", "other-job"]
    assert "NextToken" not in rest
    assert sagemaker.list_jobs(JobCategory="AgentRFTEvaluation")["JobSummaries"] == []


def test_requests_are_logged_with_job_name_and_signing_key(sm, sagemaker):
    create(sagemaker, "mtrl-log")
    describe(sagemaker, "mtrl-log")
    [record] = sm.requests(operation="CreateJob", name="mtrl-log")
    assert record["access_key_id"] == "AKIATESTSAGEMAKER" and record["service"] == "sagemaker"
    assert len(sm.requests(operation="DescribeJob", name="mtrl-log")) == 1


def test_lost_create_response_still_creates_the_job(sm, sagemaker):
    sm.fail_next("CreateJob", kind="lost_response")
    with pytest.raises(Exception):  # noqa: B017 - the connection is reset
        create(sagemaker, "mtrl-lost")
    assert describe(sagemaker, "mtrl-lost")["JobStatus"] == "InProgress"
    with pytest.raises(ClientError) as err:
        create(sagemaker, "mtrl-lost")
    assert err.value.response["Error"]["Code"] == "ResourceInUse"

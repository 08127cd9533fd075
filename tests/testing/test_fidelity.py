"""Where the local SageMaker behaves as the real one does: name rules, StoppingCondition, listings, children, logs."""

from __future__ import annotations

import json
import urllib.request
from datetime import timedelta

import pytest
from botocore.exceptions import ClientError

from tests.testing.test_tuning_jobs import tuning_args


@pytest.mark.parametrize(
    ("name", "problems"),
    [
        ("a" * 64, ["Member must have length less than or equal to 63", "regular expression pattern"]),
        ("bad_name", ["Member must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$"]),
        ("-leading-dash", ["regular expression pattern"]),
        ("x" * 63 + "_", ["length less than or equal to 63", "regular expression pattern"]),
    ],
)
def test_training_job_name_rules(sm, sagemaker, job_args, name, problems):
    with pytest.raises(ClientError) as err:
        sagemaker.create_training_job(**job_args(name))
    error = err.value.response["Error"]
    assert error["Code"] == "ValidationException"
    count = len(problems)
    assert error["Message"].startswith(
        f"{count} validation error{'s' if count > 1 else ''} detected: Value '{name}'"
    )
    assert "at 'trainingJobName' failed to satisfy constraint" in error["Message"]
    assert all(problem in error["Message"] for problem in problems)
    assert sagemaker.list_training_jobs()["TrainingJobSummaries"] == []


def test_longest_valid_names_are_accepted(sm, sagemaker, job_args):
    sagemaker.create_training_job(**job_args("a-" * 31 + "z"))  # 63 characters
    sagemaker.create_hyper_parameter_tuning_job(**tuning_args("t" + "-9" * 15 + "z"))  # 32 characters
    listed = sagemaker.list_training_jobs(SortBy="Name", MaxResults=100)["TrainingJobSummaries"]
    assert "a-" * 31 + "z" in [s["TrainingJobName"] for s in listed]


def test_tuning_job_name_rules(sm, sagemaker):
    with pytest.raises(ClientError) as err:
        sagemaker.create_hyper_parameter_tuning_job(**tuning_args("t" * 33))
    error = err.value.response["Error"]
    assert error["Code"] == "ValidationException"
    assert "at 'hyperParameterTuningJobName' failed to satisfy constraint: " in error["Message"]
    assert "Member must have length less than or equal to 32" in error["Message"]
    with pytest.raises(ClientError, match="regular expression pattern"):
        sagemaker.create_hyper_parameter_tuning_job(**tuning_args("under_score"))


def test_max_runtime_stops_the_job_with_max_runtime_exceeded(sm, sagemaker, job_args):
    sm.configure(training_seconds=100, stop_seconds=5)
    sm.clock.freeze()
    sagemaker.create_training_job(**job_args("too-long", StoppingCondition={"MaxRuntimeInSeconds": 30}))
    sagemaker.create_training_job(**job_args("in-time", StoppingCondition={"MaxRuntimeInSeconds": 101}))
    sm.clock.advance(30)
    job = sagemaker.describe_training_job(TrainingJobName="too-long")
    assert (job["TrainingJobStatus"], job["SecondaryStatus"]) == ("Stopping", "Stopping")
    sm.clock.advance(5)
    job = sagemaker.describe_training_job(TrainingJobName="too-long")
    assert (job["TrainingJobStatus"], job["SecondaryStatus"]) == ("Stopped", "MaxRuntimeExceeded")
    assert [t["Status"] for t in job["SecondaryStatusTransitions"]][-3:] == [
        "Training",
        "Stopping",
        "MaxRuntimeExceeded",
    ]
    assert (job["TrainingEndTime"] - job["CreationTime"]).total_seconds() == pytest.approx(35, abs=0.001)
    assert "FinalMetricDataList" not in job and "FailureReason" not in job
    sm.clock.advance(100)
    assert sagemaker.describe_training_job(TrainingJobName="in-time")["TrainingJobStatus"] == "Completed"
    logs = sm.boto3_client("logs").get_log_events(
        logGroupName="/aws/sagemaker/TrainingJobs", logStreamName=job_log_stream(sm, "too-long")
    )
    assert "Training job stopped: MaxRuntimeInSeconds exceeded." in [e["message"] for e in logs["events"]]


def job_log_stream(sm, name: str) -> str:
    streams = sm.boto3_client("logs").describe_log_streams(
        logGroupName="/aws/sagemaker/TrainingJobs", logStreamNamePrefix=f"{name}/"
    )["logStreams"]
    [stream] = streams
    return stream["logStreamName"]


def test_list_training_jobs_filters_then_sorts_then_pages(sm, sagemaker, job_args):
    sm.configure(training_seconds=1000)
    sm.clock.freeze()
    created = {}
    for name in ["list-c", "list-a", "other-b", "list-e", "list-d"]:
        sagemaker.create_training_job(**job_args(name))
        created[name] = sagemaker.describe_training_job(TrainingJobName=name)["CreationTime"]
        sm.clock.advance(10)
    sm.force_job("training", "list-e", "Completed")
    sm.clock.advance(10)
    sm.force_job("training", "list-c", "Failed")

    def names(**kwargs):
        return [s["TrainingJobName"] for s in sagemaker.list_training_jobs(**kwargs)["TrainingJobSummaries"]]

    assert names() == ["list-c", "list-a", "other-b", "list-e", "list-d"]  # CreationTime, Ascending
    assert names(SortBy="Name") == ["list-a", "list-c", "list-d", "list-e", "other-b"]
    assert names(SortBy="Name", SortOrder="Descending") == ["other-b", "list-e", "list-d", "list-c", "list-a"]
    assert names(SortBy="Status") == ["list-e", "list-c", "list-a", "list-d", "other-b"]
    # Filters apply before paging: the only Completed job is found on the first page of one.
    assert names(StatusEquals="Completed", MaxResults=1) == ["list-e"]
    assert names(NameContains="list-", SortBy="Name", MaxResults=2) == ["list-a", "list-c"]
    # Jobs were created 10 s apart; bounds sit 5 s after a job (requests carry whole seconds).
    after = {name: when + timedelta(seconds=5) for name, when in created.items()}
    assert names(CreationTimeAfter=after["other-b"]) == ["list-e", "list-d"]
    assert names(CreationTimeBefore=after["list-a"]) == ["list-c", "list-a"]
    assert names(CreationTimeAfter=after["list-c"], CreationTimeBefore=after["other-b"]) == [
        "list-a",
        "other-b",
    ]
    # list-e was modified (forced) 50 s after the first creation, list-c 60 s after; the others at creation.
    assert names(LastModifiedTimeAfter=after["list-d"]) == ["list-c", "list-e"]
    assert names(LastModifiedTimeBefore=after["list-e"], SortBy="Name") == ["list-a", "other-b"]
    pages, token = [], None
    while True:
        page = sagemaker.list_training_jobs(
            MaxResults=2, SortBy="Name", **({"NextToken": token} if token else {})
        )
        pages.append([s["TrainingJobName"] for s in page["TrainingJobSummaries"]])
        token = page.get("NextToken")
        if not token:
            break
    assert pages == [["list-a", "list-c"], ["list-d", "list-e"], ["other-b"]]
    summary = sagemaker.list_training_jobs(StatusEquals="Failed")["TrainingJobSummaries"][0]
    assert set(summary) == {
        "TrainingJobName",
        "TrainingJobArn",
        "CreationTime",
        "LastModifiedTime",
        "TrainingEndTime",
        "TrainingJobStatus",
        "SecondaryStatus",
    }
    with pytest.raises(ClientError, match="Member must have value less than or equal to 100"):
        sagemaker.list_training_jobs(MaxResults=101)


def test_tuning_children_get_the_definition_and_appear_in_listings(sm, sagemaker):
    sm.clock.freeze()
    args = tuning_args("children-input", count=2, parallel=1)
    channel = {
        "ChannelName": "train",
        "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://local-sm-tests/train/"}},
    }
    args["TrainingJobDefinition"]["InputDataConfig"] = [channel]
    sagemaker.create_hyper_parameter_tuning_job(**args)
    [first] = sagemaker.list_training_jobs()["TrainingJobSummaries"]  # listing creates due children
    child = sagemaker.describe_training_job(TrainingJobName=first["TrainingJobName"])
    assert child["InputDataConfig"][0]["ChannelName"] == "train"
    assert child["InputDataConfig"][0]["DataSource"] == channel["DataSource"]
    assert child["StoppingCondition"] == {"MaxRuntimeInSeconds": 3600}
    assert child["TuningJobArn"].endswith("/children-input")
    sm.clock.advance(1.6)
    assert len(sagemaker.list_training_jobs()["TrainingJobSummaries"]) == 2
    with pytest.raises(ClientError, match="Member must have value less than or equal to 100"):
        sagemaker.list_training_jobs_for_hyper_parameter_tuning_job(
            HyperParameterTuningJobName="children-input", MaxResults=101
        )


def test_log_responses_omit_absent_keys(sm, sagemaker, job_args):
    sm.clock.freeze()
    sagemaker.create_training_job(**job_args("quiet-logs"))
    stream = job_log_stream(sm, "quiet-logs")
    for operation, body in [
        ("GetLogEvents", {"logGroupName": "/aws/sagemaker/TrainingJobs", "logStreamName": stream}),
        ("FilterLogEvents", {"logGroupName": "/aws/sagemaker/TrainingJobs", "logStreamNames": [stream]}),
        ("DescribeLogStreams", {"logGroupName": "/aws/sagemaker/TrainingJobs"}),
    ]:
        raw = _raw_json_call(sm, "Logs_20140328", operation, body)
        assert "null" not in json.dumps(raw), (operation, raw)
    raw = _raw_json_call(
        sm, "Logs_20140328", "FilterLogEvents", {"logGroupName": "/aws/sagemaker/TrainingJobs"}
    )
    assert "nextToken" not in raw


def _raw_json_call(sm, target_prefix: str, operation: str, body: dict) -> dict:
    """An unsigned awsJson call, to see the exact body the server sends."""
    request = urllib.request.Request(
        sm.endpoint_url + "/",
        data=json.dumps(body).encode(),
        headers={
            "X-Amz-Target": f"{target_prefix}.{operation}",
            "Content-Type": "application/x-amz-json-1.1",
            "Authorization": "AWS4-HMAC-SHA256 Credential=AKIARAW/20260101/us-east-1/logs/aws4_request, "
            "SignedHeaders=host, Signature=0",
        },
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=10) as response:
        return json.loads(response.read())

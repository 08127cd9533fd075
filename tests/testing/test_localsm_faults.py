"""Fault injection and the request log of the LocalSageMaker server."""

from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError


def test_throttle_rate_is_observed_and_reproducible_with_seed(sm, sagemaker, job_args):
    sagemaker.create_training_job(**job_args("throttled"))

    def run() -> list[str]:
        sm.clear_requests()
        sm.set_faults(throttle_rate=0.3, operations=["DescribeTrainingJob"], seed=1)
        outcomes = []
        for _ in range(200):
            try:
                sagemaker.describe_training_job(TrainingJobName="throttled")
                outcomes.append("ok")
            except ClientError as err:
                assert err.response["Error"]["Code"] == "ThrottlingException"
                assert err.response["Error"]["Message"] == "Rate exceeded"
                assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 400
                outcomes.append("throttle")
        return outcomes

    first = run()
    rate = first.count("throttle") / len(first)
    assert 0.2 <= rate <= 0.4
    log = sm.requests(operation="DescribeTrainingJob")
    assert [r["fault"] == "throttle" for r in log] == [o == "throttle" for o in first]
    assert all(r["status_code"] == 400 for r in log if r["fault"])
    assert run() == first  # same seed, same sequence
    # Other operations are not affected by an operation-restricted fault.
    sagemaker.list_training_jobs()


def test_boto3_standard_retries_get_through_throttling(sm, job_args):
    client = sm.boto3_client(
        "sagemaker", access_key_id="AKIARETRYING", retries={"mode": "standard", "max_attempts": 10}
    )
    client.create_training_job(**job_args("retry-me"))
    sm.set_faults(throttle_rate=0.3, seed=7)
    for _ in range(8):
        assert client.describe_training_job(TrainingJobName="retry-me")["TrainingJobName"] == "retry-me"
    faults = [r for r in sm.requests(operation="DescribeTrainingJob") if r["fault"]]
    assert faults, "expected some injected throttles that boto3 retried"


def test_injected_faults_have_no_side_effects(sm, sagemaker, job_args):
    sm.set_faults(error_5xx_rate=1.0, operations=["CreateTrainingJob"], seed=3)
    for _ in range(4):
        with pytest.raises(ClientError) as err:
            sagemaker.create_training_job(**job_args("never-created"))
        assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] in (500, 503)
        assert err.value.response["Error"]["Code"] in ("InternalFailure", "ServiceUnavailable")
    sm.clear_faults()
    assert sagemaker.list_training_jobs()["TrainingJobSummaries"] == []
    log = sm.requests(operation="CreateTrainingJob")
    assert [r["fault"] for r in log] == ["5xx"] * 4
    assert sagemaker.create_training_job(**job_args("never-created"))  # name still free


def test_fail_next(sm, sagemaker, job_args):
    sagemaker.create_training_job(**job_args("fail-next"))
    sm.fail_next("DescribeTrainingJob", code="AccessDeniedException", status=400, count=2, message="not you")
    for _ in range(2):
        with pytest.raises(ClientError) as err:
            sagemaker.describe_training_job(TrainingJobName="fail-next")
        assert err.value.response["Error"] == {"Code": "AccessDeniedException", "Message": "not you"}
    assert sagemaker.describe_training_job(TrainingJobName="fail-next")["TrainingJobName"] == "fail-next"
    assert [r["fault"] for r in sm.requests(operation="DescribeTrainingJob")] == ["fail_next", "fail_next", None]
    # Query-protocol services get an XML error that boto3 parses.
    sm.fail_next("SimulatePrincipalPolicy", code="AccessDenied", status=403, message="nope")
    iam = sm.boto3_client("iam", retries={"total_max_attempts": 1})
    with pytest.raises(ClientError) as err:
        iam.simulate_principal_policy(PolicySourceArn="arn:aws:iam::123456789012:role/r", ActionNames=["s3:Get*"])
    assert err.value.response["Error"]["Code"] == "AccessDenied"


def test_latency_is_added(sm, sagemaker):
    sm.set_faults(latency_ms=150, operations=["ListTrainingJobs"])
    started = time.monotonic()
    sagemaker.list_training_jobs()
    assert time.monotonic() - started >= 0.15
    [record] = sm.requests(operation="ListTrainingJobs")
    assert record["duration_ms"] >= 150
    assert record["fault"] is None


def test_request_log_records_access_key_of_each_call(sm, job_args):
    sm.clear_requests()
    airflow = sm.boto3_client("sagemaker", access_key_id="AKIAAIRFLOWHOOK")
    other = sm.boto3_client("sagemaker", access_key_id="AKIASOMEONEELSE")
    s3 = sm.boto3_client("s3", access_key_id="AKIAAIRFLOWHOOK")
    airflow.create_training_job(**job_args("keyed-1"))
    airflow.create_training_job(**job_args("keyed-2"))
    other.describe_training_job(TrainingJobName="keyed-1")
    s3.put_object(Bucket="local-sm-tests", Key="data/x.csv", Body=b"1,2\n")
    sm.boto3_client("sts", access_key_id="AKIASTSCALLER").get_caller_identity()

    creates = sm.requests(operation="CreateTrainingJob")
    assert [(r["service"], r["access_key_id"], r["status_code"]) for r in creates] == [
        ("sagemaker", "AKIAAIRFLOWHOOK", 200),
        ("sagemaker", "AKIAAIRFLOWHOOK", 200),
    ]
    [describe] = sm.requests(operation="DescribeTrainingJob")
    assert describe["access_key_id"] == "AKIASOMEONEELSE"
    assert describe["region"] == "us-east-1"
    [put] = sm.requests(operation="PutObject")
    assert (put["service"], put["access_key_id"], put["method"]) == ("s3", "AKIAAIRFLOWHOOK", "PUT")
    [sts] = sm.requests(service="sts")
    assert (sts["operation"], sts["access_key_id"]) == ("GetCallerIdentity", "AKIASTSCALLER")
    everything = sm.requests()
    assert [r["seq"] for r in everything] == sorted(r["seq"] for r in everything)
    assert all(isinstance(r["time"], float) for r in everything)
    assert {"service", "operation", "access_key_id", "status_code", "fault", "time"} <= set(everything[0])

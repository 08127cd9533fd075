"""Fault injection and the request log of the LocalSageMaker server."""

from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError, HTTPClientError, ReadTimeoutError

from airflow_provider_smtrain.testing import LocalSageMakerError


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


def test_lost_create_response_creates_the_job_and_the_retry_sees_resource_in_use(sm, job_args):
    """The most dangerous real fault: the create is carried out, its response never arrives."""
    sm.configure(training_seconds=600)  # still running when read back, however slow the machine
    client = sm.boto3_client("sagemaker", access_key_id="AKIALOSTRESPONSE", retries={"mode": "standard", "max_attempts": 3})
    sm.fail_next("CreateTrainingJob", kind="lost_response")
    with pytest.raises(ClientError) as err:
        client.create_training_job(**job_args("lost-create"))
    assert err.value.response["Error"]["Code"] == "ResourceInUse"
    assert client.describe_training_job(TrainingJobName="lost-create")["TrainingJobStatus"] == "InProgress"
    log = sm.requests(operation="CreateTrainingJob")
    assert [(r["fault"], r["status_code"]) for r in log] == [("lost_response", 200), (None, 400)]
    assert len(client.list_training_jobs()["TrainingJobSummaries"]) == 1


def test_lost_stop_response_in_timeout_mode_stops_the_job(sm, job_args):
    sm.configure(training_seconds=600)
    client = sm.boto3_client(
        "sagemaker", access_key_id="AKIALOSTSTOP", retries={"total_max_attempts": 1}, read_timeout=0.5
    )
    client.create_training_job(**job_args("lost-stop"))
    sm.fail_next("StopTrainingJob", kind="lost_response", mode="timeout", seconds=2)
    started = time.monotonic()
    with pytest.raises(ReadTimeoutError):
        client.stop_training_job(TrainingJobName="lost-stop")
    assert time.monotonic() - started < 1.5  # the client's read timeout, not the server's silence
    assert client.describe_training_job(TrainingJobName="lost-stop")["TrainingJobStatus"] in ("Stopping", "Stopped")
    [stop] = sm.requests(operation="StopTrainingJob")
    assert (stop["fault"], stop["status_code"]) == ("lost_response", 200)


def test_dropped_request_is_not_carried_out_and_a_retry_succeeds(sm, job_args):
    client = sm.boto3_client("sagemaker", access_key_id="AKIADROPPED", retries={"mode": "standard", "max_attempts": 3})
    sm.fail_next("CreateTrainingJob", kind="dropped_request", count=2)
    assert client.create_training_job(**job_args("dropped-create"))["TrainingJobArn"].endswith("/dropped-create")
    log = sm.requests(operation="CreateTrainingJob")
    assert [(r["fault"], r["status_code"]) for r in log] == [
        ("dropped_request", None),
        ("dropped_request", None),
        (None, 200),
    ]


def test_random_lost_responses_reach_any_service(sm):
    s3 = sm.boto3_client("s3", access_key_id="AKIALOSTS3", retries={"total_max_attempts": 1})
    sm.set_faults(lost_response_rate=1.0, services=["s3"], operations=["PutObject"], seed=1)
    assert sm.boto3_client("sagemaker").list_training_jobs()["TrainingJobSummaries"] == []  # not selected
    with pytest.raises(HTTPClientError):
        s3.put_object(Bucket="local-sm-tests", Key="lost.txt", Body=b"carried out")
    sm.clear_faults()
    assert sm.get_object("local-sm-tests", "lost.txt") == b"carried out"
    [put] = sm.requests(operation="PutObject")
    assert (put["service"], put["fault"], put["status_code"]) == ("s3", "lost_response", 200)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"kind": "vanish"}, "kind must be one of"),
        ({"kind": "lost_response", "mode": "sometimes"}, "mode must be one of"),
        ({"kind": "error", "code": ""}, "needs a 'code'"),
    ],
)
def test_fail_next_rejects_unknown_kinds_and_modes(sm, kwargs, match):
    with pytest.raises(LocalSageMakerError, match=match):
        sm.fail_next("CreateTrainingJob", **kwargs)

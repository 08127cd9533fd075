"""Training job lifecycle on the LocalSageMaker server, observed with boto3 over HTTP."""

from __future__ import annotations

import io
import json
import tarfile

import pytest
from botocore.exceptions import ClientError

BUCKET = "local-sm-tests"  # created by the `sm` fixture (conftest.py)


@pytest.fixture
def wait_for(clock_wait_for):
    """Simulated jobs are waited for in simulated time (see ``clock_wait_for``)."""
    return clock_wait_for


def test_job_is_in_progress_then_completed_after_configured_seconds(sm, sagemaker, job_args, wait_for):
    sm.configure(training_seconds=1.0)
    created = sm.clock.freeze()
    arn = sagemaker.create_training_job(**job_args("lifecycle-1"))["TrainingJobArn"]
    assert arn.endswith(":training-job/lifecycle-1")

    first = sagemaker.describe_training_job(TrainingJobName="lifecycle-1")
    assert first["TrainingJobStatus"] == "InProgress"
    assert first["SecondaryStatus"] in ("Starting", "Downloading")
    assert "TrainingEndTime" not in first
    assert "FinalMetricDataList" not in first
    assert "FailureReason" not in first
    assert sagemaker.list_training_jobs()["TrainingJobSummaries"][0]["TrainingJobStatus"] == "InProgress"

    seen = {first["SecondaryStatus"]}

    def completed():
        desc = sagemaker.describe_training_job(TrainingJobName="lifecycle-1")
        seen.add(desc["SecondaryStatus"])
        return desc if desc["TrainingJobStatus"] == "Completed" else None

    done = wait_for(completed, timeout=5, interval=0.05)
    elapsed = sm.clock.now() - created
    assert 1.0 <= elapsed < 1.1
    assert {"Training", "Completed"} <= seen
    assert done["SecondaryStatus"] == "Completed"
    assert [t["Status"] for t in done["SecondaryStatusTransitions"]] == [
        "Starting",
        "Downloading",
        "Training",
        "Uploading",
        "Completed",
    ]
    for before, after in zip(done["SecondaryStatusTransitions"], done["SecondaryStatusTransitions"][1:], strict=False):
        assert before["EndTime"] == after["StartTime"]
    duration = (done["TrainingEndTime"] - done["CreationTime"]).total_seconds()
    assert duration == pytest.approx(1.0, abs=0.01)
    assert done["TrainingStartTime"] > done["CreationTime"]
    assert done["LastModifiedTime"] == done["TrainingEndTime"]
    assert done["BillableTimeInSeconds"] >= 1
    assert done["ModelArtifacts"]["S3ModelArtifacts"] == f"s3://{BUCKET}/output/lifecycle-1/output/model.tar.gz"
    [metric] = done["FinalMetricDataList"]
    assert metric["MetricName"] == "train:loss"
    assert 0.05 <= metric["Value"] <= 0.95

    # The model artifact was put into moto's S3.
    data = sm.get_object(BUCKET, "output/lifecycle-1/output/model.tar.gz")
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        manifest = json.load(tar.extractfile("model.json"))  # type: ignore[arg-type]
    assert manifest["training_job_name"] == "lifecycle-1"
    assert manifest["hyperparameters"] == {"epochs": "3", "lr": "0.01"}
    assert sagemaker.list_training_jobs(StatusEquals="Completed")["TrainingJobSummaries"][0][
        "TrainingJobName"
    ] == "lifecycle-1"


def test_metric_definitions_are_kept_and_metrics_are_deterministic(sm, sagemaker, job_args, wait_for):
    definitions = [{"Name": "validation:accuracy", "Regex": "acc=(\\S+)"}, {"Name": "train:loss", "Regex": "l=(.*)"}]
    for name in ("metrics-a", "metrics-b"):
        args = job_args(name)
        args["AlgorithmSpecification"]["MetricDefinitions"] = definitions
        sagemaker.create_training_job(**args)
    desc = [
        wait_for(lambda n=n: (d := sagemaker.describe_training_job(TrainingJobName=n))["TrainingJobStatus"]
                 == "Completed" and d)
        for n in ("metrics-a", "metrics-b")
    ]
    assert desc[0]["AlgorithmSpecification"]["MetricDefinitions"] == definitions  # moto would say test:dcg
    values = [{m["MetricName"]: m["Value"] for m in d["FinalMetricDataList"]} for d in desc]
    assert set(values[0]) == {"validation:accuracy", "train:loss"}
    assert 0.5 <= values[0]["validation:accuracy"] <= 0.99
    assert values[0] == values[1]  # same hyperparameters -> same metrics


def test_failing_rule_fails_matching_jobs_only_n_times(sm, sagemaker, job_args, wait_for):
    rule = sm.add_rule(kind="training", name_glob="*-fail-*", outcome="Failed",
                       failure_reason="AlgorithmError: boom", times=1)
    assert rule["times"] == 1
    for name in ("job-fail-1", "job-fail-2", "job-ok-1"):
        sagemaker.create_training_job(**job_args(name))
    assert sagemaker.describe_training_job(TrainingJobName="job-fail-1")["TrainingJobStatus"] == "InProgress"

    def terminal(name):
        desc = sagemaker.describe_training_job(TrainingJobName=name)
        return desc if desc["TrainingJobStatus"] != "InProgress" else None

    failed = wait_for(lambda: terminal("job-fail-1"))
    assert failed["TrainingJobStatus"] == "Failed"
    assert failed["SecondaryStatus"] == "Failed"
    assert failed["FailureReason"] == "AlgorithmError: boom"
    assert "FinalMetricDataList" not in failed
    assert [t["Status"] for t in failed["SecondaryStatusTransitions"]][-1] == "Failed"
    assert wait_for(lambda: terminal("job-fail-2"))["TrainingJobStatus"] == "Completed"  # rule spent
    assert wait_for(lambda: terminal("job-ok-1"))["TrainingJobStatus"] == "Completed"
    assert sm.rules()[0]["matched"] == 1
    with pytest.raises(ClientError):
        sm.get_object(BUCKET, "output/job-fail-1/output/model.tar.gz")


def test_rule_can_change_duration(sm, sagemaker, job_args, wait_for):
    sm.add_rule(name_glob="slow-*", outcome=None, seconds=30)
    sagemaker.create_training_job(**job_args("slow-1"))
    sagemaker.create_training_job(**job_args("fast-1"))
    wait_for(lambda: sagemaker.describe_training_job(TrainingJobName="fast-1")["TrainingJobStatus"] == "Completed")
    assert sagemaker.describe_training_job(TrainingJobName="slow-1")["TrainingJobStatus"] == "InProgress"


def test_stop_training_job_goes_stopping_then_stopped(sm, sagemaker, job_args, wait_for):
    sm.configure(training_seconds=30, stop_seconds=0.4)
    sagemaker.create_training_job(**job_args("stop-me"))
    sagemaker.stop_training_job(TrainingJobName="stop-me")
    desc = sagemaker.describe_training_job(TrainingJobName="stop-me")
    assert (desc["TrainingJobStatus"], desc["SecondaryStatus"]) == ("Stopping", "Stopping")
    stopped = wait_for(
        lambda: (d := sagemaker.describe_training_job(TrainingJobName="stop-me"))["TrainingJobStatus"] == "Stopped"
        and d,
        timeout=3,
    )
    assert stopped["SecondaryStatus"] == "Stopped"
    assert [t["Status"] for t in stopped["SecondaryStatusTransitions"]][-2:] == ["Stopping", "Stopped"]
    assert "TrainingEndTime" in stopped
    # Stopping again: the job is terminal -> ValidationException like AWS.
    with pytest.raises(ClientError) as err:
        sagemaker.stop_training_job(TrainingJobName="stop-me")
    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert "Stopped" in err.value.response["Error"]["Message"]


def test_stop_finished_or_unknown_job_errors(sm, sagemaker, job_args, wait_for):
    sm.configure(training_seconds=0.2)
    sagemaker.create_training_job(**job_args("done-job"))
    wait_for(lambda: sagemaker.describe_training_job(TrainingJobName="done-job")["TrainingJobStatus"] == "Completed")
    with pytest.raises(ClientError) as err:
        sagemaker.stop_training_job(TrainingJobName="done-job")
    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "Completed" in err.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as err:
        sagemaker.stop_training_job(TrainingJobName="no-such-job")
    assert err.value.response["Error"]["Code"] == "ResourceNotFound"


def test_duplicate_training_job_name_is_rejected(sm, sagemaker, job_args):
    sagemaker.create_training_job(**job_args("dup-1"))
    with pytest.raises(ClientError) as err:
        sagemaker.create_training_job(**job_args("dup-1"))
    assert err.value.response["Error"]["Code"] == "ResourceInUse"


def test_training_logs_are_readable_while_and_after_running(sm, sagemaker, job_args, wait_for):
    logs = sm.boto3_client("logs")
    group = "/aws/sagemaker/TrainingJobs"
    sagemaker.create_training_job(**job_args("logged-job"))
    streams = logs.describe_log_streams(logGroupName=group, logStreamNamePrefix="logged-job")["logStreams"]
    [stream] = streams
    assert stream["logStreamName"].startswith("logged-job/algo-1-")
    early = logs.get_log_events(logGroupName=group, logStreamName=stream["logStreamName"], startFromHead=True)
    assert any("starting training job logged-job" in e["message"] for e in early["events"])
    wait_for(lambda: sagemaker.describe_training_job(TrainingJobName="logged-job")["TrainingJobStatus"] == "Completed")
    final = logs.get_log_events(logGroupName=group, logStreamName=stream["logStreamName"], startFromHead=True)
    messages = [e["message"] for e in final["events"]]
    assert len(messages) > len(early["events"])
    assert messages[-1] == "Training completed successfully."
    assert any(m.startswith("final: train:loss=") for m in messages)
    timestamps = [e["timestamp"] for e in final["events"]]
    assert timestamps == sorted(timestamps)


def test_failed_job_logs_the_failure_reason(sm, sagemaker, job_args, wait_for):
    sm.add_rule(name_glob="bad-*", failure_reason="ClientError: bad input")
    sagemaker.create_training_job(**job_args("bad-job"))
    wait_for(lambda: sagemaker.describe_training_job(TrainingJobName="bad-job")["TrainingJobStatus"] == "Failed")
    logs = sm.boto3_client("logs")
    [stream] = logs.describe_log_streams(logGroupName="/aws/sagemaker/TrainingJobs")["logStreams"]
    events = logs.get_log_events(
        logGroupName="/aws/sagemaker/TrainingJobs", logStreamName=stream["logStreamName"], startFromHead=True
    )["events"]
    assert "ERROR: ClientError: bad input" in [e["message"] for e in events]


def test_job_without_algorithm_specification_does_not_crash_moto(sm, sagemaker, job_args):
    args = job_args("serverless-like")
    del args["AlgorithmSpecification"]
    sagemaker.create_training_job(**args)
    assert sagemaker.describe_training_job(TrainingJobName="serverless-like")["TrainingJobStatus"] == "InProgress"


def test_every_status_change_moves_last_modified_time_even_on_a_frozen_clock(sm, sagemaker, job_args):
    """Listings filtered by LastModifiedTimeAfter (the triggers' pollers) see every change, timed or forced."""
    sm.clock.freeze()
    sagemaker.create_training_job(**job_args("lmt-frozen"))
    other = "lmt-untouched"
    sagemaker.create_training_job(**job_args(other))
    before = sagemaker.describe_training_job(TrainingJobName="lmt-frozen")["LastModifiedTime"]
    assert sagemaker.describe_training_job(TrainingJobName="lmt-frozen")["LastModifiedTime"] == before
    sm.force_job("training", "lmt-frozen", "InProgress", secondary_status="Training")
    training = sagemaker.describe_training_job(TrainingJobName="lmt-frozen")["LastModifiedTime"]
    sm.force_job("training", "lmt-frozen", "Failed", "forced")
    failed = sagemaker.describe_training_job(TrainingJobName="lmt-frozen")["LastModifiedTime"]
    assert before < training < failed

    def changed_after(bound):
        page = sagemaker.list_training_jobs(LastModifiedTimeAfter=bound, MaxResults=100)
        return [(s["TrainingJobName"], s["TrainingJobStatus"]) for s in page["TrainingJobSummaries"]]

    assert changed_after(training) == [("lmt-frozen", "Failed")]
    assert changed_after(failed) == []
    sm.clock.advance(5)  # the other job's own timeline ends it: a change; the failed job stays out
    assert changed_after(failed) == [(other, "Completed")]

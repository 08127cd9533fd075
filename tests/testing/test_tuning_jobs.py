"""Hyperparameter tuning jobs on the LocalSageMaker server."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from botocore.exceptions import ClientError

BUCKET = "local-sm-tests"  # created by the `sm` fixture (conftest.py)
ROLE_ARN = "arn:aws:iam::123456789012:role/SageMakerRole"


@pytest.fixture
def wait_for(clock_wait_for):
    """Simulated jobs are waited for in simulated time (see ``clock_wait_for``)."""
    return clock_wait_for


def tuning_args(name: str, objective_type: str = "Minimize", count: int = 5, parallel: int = 2) -> dict:
    return {
        "HyperParameterTuningJobName": name,
        "HyperParameterTuningJobConfig": {
            "Strategy": "Bayesian",
            "HyperParameterTuningJobObjective": {"Type": objective_type, "MetricName": "validation:loss"},
            "ResourceLimits": {"MaxNumberOfTrainingJobs": count, "MaxParallelTrainingJobs": parallel},
            "ParameterRanges": {
                "IntegerParameterRanges": [{"Name": "epochs", "MinValue": "1", "MaxValue": "20"}],
                "ContinuousParameterRanges": [
                    {"Name": "lr", "MinValue": "0.0001", "MaxValue": "0.1", "ScalingType": "Logarithmic"}
                ],
                "CategoricalParameterRanges": [{"Name": "optimizer", "Values": ["adam", "sgd", "adamw"]}],
            },
        },
        "TrainingJobDefinition": {
            "StaticHyperParameters": {"batch_size": "32"},
            "AlgorithmSpecification": {
                "TrainingImage": "123456789012.dkr.ecr.us-east-1.amazonaws.com/train:latest",
                "TrainingInputMode": "File",
                "MetricDefinitions": [{"Name": "validation:loss", "Regex": "val_loss=(\\S+)"}],
            },
            "RoleArn": ROLE_ARN,
            "OutputDataConfig": {"S3OutputPath": f"s3://{BUCKET}/tuning"},
            "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 10},
            "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
        },
    }


def all_children(sagemaker, name: str, page_size: int) -> tuple[list[dict], int]:
    summaries, pages, token = [], 0, None
    while True:
        kwargs = {"HyperParameterTuningJobName": name, "MaxResults": page_size}
        if token:
            kwargs["NextToken"] = token
        page = sagemaker.list_training_jobs_for_hyper_parameter_tuning_job(**kwargs)
        pages += 1
        summaries += page["TrainingJobSummaries"]
        token = page.get("NextToken")
        if not token:
            return summaries, pages


@pytest.mark.parametrize("objective_type", ["Minimize", "Maximize"])
def test_tuning_job_children_counters_and_best_job(sm, sagemaker, wait_for, objective_type):
    sm.configure(tuning_seconds=1.2)
    arn = sagemaker.create_hyper_parameter_tuning_job(**tuning_args("tune-a", objective_type))[
        "HyperParameterTuningJobArn"
    ]
    first = sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="tune-a")
    assert first["HyperParameterTuningJobStatus"] == "InProgress"
    assert first["TrainingJobStatusCounters"]["InProgress"] == 2  # first wave, MaxParallel=2
    assert first["ObjectiveStatusCounters"]["Pending"] == 2
    assert "BestTrainingJob" not in first
    assert "HyperParameterTuningEndTime" not in first

    done = wait_for(
        lambda: (d := sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="tune-a"))[
            "HyperParameterTuningJobStatus"
        ]
        == "Completed"
        and d,
        timeout=6,
    )
    assert done["TrainingJobStatusCounters"] == {
        "Completed": 5, "InProgress": 0, "RetryableError": 0, "NonRetryableError": 0, "Stopped": 0,
    }
    assert done["ObjectiveStatusCounters"] == {"Succeeded": 5, "Pending": 0, "Failed": 0}
    assert done["HyperParameterTuningEndTime"] >= done["CreationTime"]

    children, pages = all_children(sagemaker, "tune-a", page_size=2)
    assert pages == 3
    names = [c["TrainingJobName"] for c in children]
    assert len(set(names)) == 5
    for index, name in enumerate(names, start=1):
        assert re.fullmatch(rf"tune-a-{index:03d}-[0-9a-f]{{8}}", name)
    for child in children:
        assert child["TrainingJobStatus"] == "Completed"
        assert child["ObjectiveStatus"] == "Succeeded"
        assert set(child["TunedHyperParameters"]) == {"epochs", "lr", "optimizer"}
        assert 1 <= int(child["TunedHyperParameters"]["epochs"]) <= 20
        assert 0.0001 <= float(child["TunedHyperParameters"]["lr"]) <= 0.1
        assert child["TunedHyperParameters"]["optimizer"] in ("adam", "sgd", "adamw")

    values = {c["TrainingJobName"]: c["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] for c in children}
    pick = min if objective_type == "Minimize" else max
    best = done["BestTrainingJob"]
    assert best["TrainingJobName"] == pick(values, key=values.__getitem__)
    assert best["FinalHyperParameterTuningJobObjectiveMetric"] == {
        "Type": objective_type, "MetricName": "validation:loss", "Value": values[best["TrainingJobName"]],
    }
    assert best["TrainingJobStatus"] == "Completed"
    assert best["TrainingJobArn"].endswith(f":training-job/{best['TrainingJobName']}")
    assert "CreationTime" in best

    # Children are real training jobs: describable, linked to the tuning job, metrics consistent.
    child = sagemaker.describe_training_job(TrainingJobName=best["TrainingJobName"])
    assert child["TuningJobArn"] == arn
    assert child["HyperParameters"] == {"batch_size": "32", **best["TunedHyperParameters"]}
    assert {m["MetricName"]: m["Value"] for m in child["FinalMetricDataList"]}["validation:loss"] == values[
        best["TrainingJobName"]
    ]

    # Deterministic sampling: same tuning job name -> same children and hyperparameters.
    sm.reset()
    sm.create_bucket(BUCKET)
    sagemaker.create_hyper_parameter_tuning_job(**tuning_args("tune-a", objective_type))
    again = sagemaker.list_training_jobs_for_hyper_parameter_tuning_job(HyperParameterTuningJobName="tune-a")
    assert [c["TrainingJobName"] for c in again["TrainingJobSummaries"]] == names[:2]
    assert [c["TunedHyperParameters"] for c in again["TrainingJobSummaries"]] == [
        c["TunedHyperParameters"] for c in children[:2]
    ]


def test_list_children_sorting_filters_and_errors(sm, sagemaker, wait_for):
    sm.configure(tuning_seconds=0.6)
    sm.add_rule(kind="training", name_glob="tune-b-002-*", failure_reason="AlgorithmError: child boom")
    sagemaker.create_hyper_parameter_tuning_job(**tuning_args("tune-b", count=3, parallel=3))
    done = wait_for(
        lambda: (d := sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="tune-b"))[
            "HyperParameterTuningJobStatus"
        ]
        == "Completed"
        and d
    )
    assert done["TrainingJobStatusCounters"]["NonRetryableError"] == 1
    assert done["ObjectiveStatusCounters"] == {"Succeeded": 2, "Pending": 0, "Failed": 1}
    failed = sagemaker.list_training_jobs_for_hyper_parameter_tuning_job(
        HyperParameterTuningJobName="tune-b", StatusEquals="Failed"
    )["TrainingJobSummaries"]
    assert [c["FailureReason"] for c in failed] == ["AlgorithmError: child boom"]
    assert failed[0]["ObjectiveStatus"] == "Failed"
    by_metric = sagemaker.list_training_jobs_for_hyper_parameter_tuning_job(
        HyperParameterTuningJobName="tune-b", SortBy="FinalObjectiveMetricValue", SortOrder="Descending"
    )["TrainingJobSummaries"]
    metric_values = [c["FinalHyperParameterTuningJobObjectiveMetric"]["Value"] for c in by_metric[:2]]
    assert metric_values == sorted(metric_values, reverse=True)
    with pytest.raises(ClientError) as err:
        sagemaker.list_training_jobs_for_hyper_parameter_tuning_job(HyperParameterTuningJobName="nope")
    assert err.value.response["Error"]["Code"] == "ResourceNotFound"


def test_stop_tuning_job_stops_children(sm, sagemaker, wait_for):
    sm.configure(tuning_seconds=30, stop_seconds=0.3)
    sagemaker.create_hyper_parameter_tuning_job(**tuning_args("tune-stop", count=4, parallel=2))
    sagemaker.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName="tune-stop")
    desc = sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="tune-stop")
    assert desc["HyperParameterTuningJobStatus"] == "Stopping"
    stopped = wait_for(
        lambda: (d := sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="tune-stop"))[
            "HyperParameterTuningJobStatus"
        ]
        == "Stopped"
        and d,
        timeout=3,
    )
    assert stopped["TrainingJobStatusCounters"]["Stopped"] == 2  # the second wave never started
    assert stopped["TrainingJobStatusCounters"]["InProgress"] == 0
    children = sagemaker.list_training_jobs_for_hyper_parameter_tuning_job(HyperParameterTuningJobName="tune-stop")
    assert {c["TrainingJobStatus"] for c in children["TrainingJobSummaries"]} == {"Stopped"}
    with pytest.raises(ClientError) as err:
        sagemaker.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName="tune-stop")
    assert err.value.response["Error"]["Code"] == "ValidationException"


def test_tuning_rule_fails_tuning_job(sm, sagemaker, wait_for):
    sm.configure(tuning_seconds=0.4)
    sm.add_rule(kind="tuning", name_glob="tune-bad*", outcome="Failed", failure_reason="No training job succeeded")
    sagemaker.create_hyper_parameter_tuning_job(**tuning_args("tune-bad", count=2, parallel=2))
    failed = wait_for(
        lambda: (d := sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="tune-bad"))[
            "HyperParameterTuningJobStatus"
        ]
        != "InProgress"
        and d
    )
    assert failed["HyperParameterTuningJobStatus"] == "Failed"
    assert failed["FailureReason"] == "No training job succeeded"


def test_list_tuning_jobs_filters_sorts_and_pages(sm, sagemaker):
    """ListHyperParameterTuningJobs as the triggers' pollers use it: LastModifiedTimeAfter, status, sort, pages."""
    sm.clock.freeze()
    for name in ("ltune-b", "ltune-a", "ltune-c"):
        sagemaker.create_hyper_parameter_tuning_job(**tuning_args(name))
        sm.force_job("tuning", name, "InProgress")  # held there: no child changes it
        sm.clock.advance(10)
    first = sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="ltune-c")["LastModifiedTime"]
    sm.force_job("tuning", "ltune-a", "Completed")
    sm.force_job("tuning", "ltune-c", "Stopped")

    def names(**kwargs):
        page = sagemaker.list_hyper_parameter_tuning_jobs(**kwargs)
        return [s["HyperParameterTuningJobName"] for s in page["HyperParameterTuningJobSummaries"]]

    assert names() == ["ltune-a", "ltune-b", "ltune-c"]  # Name, Ascending by default
    assert names(SortBy="CreationTime") == ["ltune-b", "ltune-a", "ltune-c"]
    assert names(SortBy="CreationTime", SortOrder="Descending") == ["ltune-c", "ltune-a", "ltune-b"]
    assert names(SortBy="Status") == ["ltune-a", "ltune-b", "ltune-c"]  # Completed, InProgress, Stopped
    assert names(StatusEquals="InProgress") == ["ltune-b"]
    assert names(LastModifiedTimeAfter=first + timedelta(seconds=5), SortBy="Name") == ["ltune-a", "ltune-c"]
    assert names(LastModifiedTimeBefore=first + timedelta(seconds=5)) == ["ltune-b"]
    pages, token = [], None
    while True:
        page = sagemaker.list_hyper_parameter_tuning_jobs(MaxResults=2, **({"NextToken": token} if token else {}))
        pages.append([s["HyperParameterTuningJobName"] for s in page["HyperParameterTuningJobSummaries"]])
        token = page.get("NextToken")
        if not token:
            break
    assert pages == [["ltune-a", "ltune-b"], ["ltune-c"]]
    assert len(names(MaxResults=100)) == 3
    [summary] = sagemaker.list_hyper_parameter_tuning_jobs(StatusEquals="Completed")["HyperParameterTuningJobSummaries"]
    assert summary["HyperParameterTuningJobStatus"] == "Completed"
    assert summary["LastModifiedTime"] > summary["CreationTime"]
    with pytest.raises(ClientError, match="maxResults"):
        sagemaker.list_hyper_parameter_tuning_jobs(MaxResults=101)
    with pytest.raises(ClientError, match="statusEquals"):
        sagemaker.list_hyper_parameter_tuning_jobs(StatusEquals="Done")


def test_a_tuning_status_change_moves_last_modified_time_on_a_frozen_clock(sm, sagemaker):
    sm.clock.freeze()
    sagemaker.create_hyper_parameter_tuning_job(**tuning_args("ltune-frozen"))
    before = sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="ltune-frozen")
    again = sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="ltune-frozen")
    assert again["LastModifiedTime"] == before["LastModifiedTime"]  # reading is no change
    sm.force_job("tuning", "ltune-frozen", "Failed", "forced")
    after = sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="ltune-frozen")
    assert after["LastModifiedTime"] > before["LastModifiedTime"]
    listed = sagemaker.list_hyper_parameter_tuning_jobs(LastModifiedTimeAfter=before["LastModifiedTime"])
    assert [s["HyperParameterTuningJobName"] for s in listed["HyperParameterTuningJobSummaries"]] == ["ltune-frozen"]

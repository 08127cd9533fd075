"""The simulation clock (freeze, advance, resume) and forced job states: tests that never wait for a job."""

from __future__ import annotations

from datetime import timedelta

import pytest

from airflow_provider_smtrain.testing import LocalSageMakerError
from tests.testing.test_tuning_jobs import tuning_args


def test_frozen_clock_holds_a_job_and_advance_moves_its_timeline(sm, sagemaker, job_args):
    frozen = sm.clock.freeze()
    sagemaker.create_training_job(**job_args("clocked"))  # training_seconds=0.8 (conftest)
    job = sagemaker.describe_training_job(TrainingJobName="clocked")
    assert (job["TrainingJobStatus"], job["SecondaryStatus"]) == ("InProgress", "Starting")
    assert job["CreationTime"].timestamp() == pytest.approx(frozen, abs=0.001)
    # whole milliseconds: LastModifiedTime may sit 1 ms after the creation time it was derived from
    assert timedelta(0) <= job["LastModifiedTime"] - job["CreationTime"] <= timedelta(milliseconds=1)
    assert sagemaker.describe_training_job(TrainingJobName="clocked")["SecondaryStatus"] == "Starting"

    assert sm.clock.advance(0.3) == pytest.approx(frozen + 0.3)
    job = sagemaker.describe_training_job(TrainingJobName="clocked")
    assert (job["TrainingJobStatus"], job["SecondaryStatus"]) == ("InProgress", "Training")
    assert job["TrainingStartTime"].timestamp() == pytest.approx(frozen + 0.12, abs=0.001)

    sm.clock.advance(1.0)
    job = sagemaker.describe_training_job(TrainingJobName="clocked")
    assert (job["TrainingJobStatus"], job["SecondaryStatus"]) == ("Completed", "Completed")
    assert (job["TrainingEndTime"] - job["CreationTime"]).total_seconds() == pytest.approx(0.8, abs=0.001)
    # LastModifiedTime is the end, or 1 ms after it when the job's last two status changes fell in one
    # millisecond (it moves on every status change, so LastModifiedTimeAfter listings see each one).
    assert timedelta(0) <= job["LastModifiedTime"] - job["TrainingEndTime"] <= timedelta(milliseconds=1)
    assert [t["Status"] for t in job["SecondaryStatusTransitions"]] == [
        "Starting",
        "Downloading",
        "Training",
        "Uploading",
        "Completed",
    ]


def test_an_hour_long_job_completes_without_waiting(sm, sagemaker, job_args):
    sm.configure(training_seconds=3600)
    sm.clock.freeze()
    sagemaker.create_training_job(**job_args("hour-long", StoppingCondition={"MaxRuntimeInSeconds": 7200}))
    sm.clock.advance(3599)
    assert sagemaker.describe_training_job(TrainingJobName="hour-long")["TrainingJobStatus"] == "InProgress"
    sm.clock.advance(1)
    job = sagemaker.describe_training_job(TrainingJobName="hour-long")
    assert job["TrainingJobStatus"] == "Completed"
    assert job["TrainingTimeInSeconds"] == 3600 - 540  # from Downloading (15 %) to the end


def test_resume_continues_from_the_frozen_time_and_reset_restores_the_wall_clock(sm):
    frozen = sm.clock.freeze()
    sm.clock.advance(1000)
    assert sm.clock.state()["frozen"] is True
    resumed = sm.clock.resume()
    state = sm.clock.state()
    assert state["frozen"] is False
    assert frozen + 1000 <= resumed <= state["now"]
    assert state["offset"] == pytest.approx(1000, abs=5)
    sm.reset()
    assert sm.clock.state()["offset"] == pytest.approx(0, abs=0.01)
    with pytest.raises(LocalSageMakerError, match="only moves forward"):
        sm.clock.advance(-1)


def test_stop_timeline_follows_the_clock(sm, sagemaker, job_args):
    sm.configure(training_seconds=600, stop_seconds=30)
    sm.clock.freeze()
    sagemaker.create_training_job(**job_args("stop-clocked"))
    sm.clock.advance(100)
    sagemaker.stop_training_job(TrainingJobName="stop-clocked")
    sm.clock.advance(29)
    assert sagemaker.describe_training_job(TrainingJobName="stop-clocked")["TrainingJobStatus"] == "Stopping"
    sm.clock.advance(1)
    job = sagemaker.describe_training_job(TrainingJobName="stop-clocked")
    assert (job["TrainingJobStatus"], job["SecondaryStatus"]) == ("Stopped", "Stopped")
    assert (job["TrainingEndTime"] - job["CreationTime"]).total_seconds() == pytest.approx(130, abs=0.001)


def test_force_training_job_states_and_hold_them(sm, sagemaker, job_args):
    sm.clock.freeze()
    sagemaker.create_training_job(**job_args("forced"))
    sm.force_job("training", "forced", "InProgress", secondary_status="Uploading")
    sm.clock.advance(100)  # far past the planned end: a forced state holds
    job = sagemaker.describe_training_job(TrainingJobName="forced")
    assert (job["TrainingJobStatus"], job["SecondaryStatus"]) == ("InProgress", "Uploading")

    sm.force_job("training", "forced", "Failed", failure_reason="AlgorithmError: OOM")
    job = sagemaker.describe_training_job(TrainingJobName="forced")
    assert (job["TrainingJobStatus"], job["SecondaryStatus"], job["FailureReason"]) == (
        "Failed",
        "Failed",
        "AlgorithmError: OOM",
    )
    assert job["LastModifiedTime"].timestamp() == pytest.approx(sm.clock.now(), abs=0.001)

    sagemaker.create_training_job(**job_args("forced-done"))
    sm.force_job("training", "forced-done", "Completed")
    job = sagemaker.describe_training_job(TrainingJobName="forced-done")
    assert job["TrainingJobStatus"] == "Completed"
    assert job["FinalMetricDataList"][0]["MetricName"] == "train:loss"
    assert "FailureReason" not in job


def test_force_tuning_job_and_unknown_jobs(sm, sagemaker):
    sm.clock.freeze()
    sagemaker.create_hyper_parameter_tuning_job(**tuning_args("forced-tuning", count=2, parallel=1))
    sm.force_job("tuning", "forced-tuning", "Stopping")
    sm.clock.advance(100)
    job = sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="forced-tuning")
    assert job["HyperParameterTuningJobStatus"] == "Stopping"
    sm.force_job("tuning", "forced-tuning", "Failed", failure_reason="No capacity")
    job = sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="forced-tuning")
    assert (job["HyperParameterTuningJobStatus"], job["FailureReason"]) == ("Failed", "No capacity")
    with pytest.raises(LocalSageMakerError, match="404.*no training job 'nope'"):
        sm.force_job("training", "nope", "Completed")
    with pytest.raises(LocalSageMakerError, match="status must be one of"):
        sm.force_job("tuning", "forced-tuning", "Finished")


def test_tuning_timeline_follows_the_clock(sm, sagemaker):
    start = sm.clock.freeze()
    sagemaker.create_hyper_parameter_tuning_job(**tuning_args("clocked-tuning", count=2, parallel=1))  # 1.6 s

    def describe():
        return sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="clocked-tuning")

    def children():
        listed = sagemaker.list_training_jobs_for_hyper_parameter_tuning_job(
            HyperParameterTuningJobName="clocked-tuning", SortBy="CreationTime"
        )
        return listed["TrainingJobSummaries"]

    assert describe()["CreationTime"].timestamp() == pytest.approx(start, abs=0.001)
    assert len(children()) == 1
    sm.clock.advance(0.8)  # the second wave starts
    second = children()[1]
    assert second["CreationTime"].timestamp() == pytest.approx(start + 0.8, abs=0.001)
    assert describe()["HyperParameterTuningJobStatus"] == "InProgress"
    sm.clock.advance(0.8)
    job = describe()
    assert job["HyperParameterTuningJobStatus"] == "Completed"
    assert job["HyperParameterTuningEndTime"].timestamp() == pytest.approx(start + 1.6, abs=0.001)
    assert job["LastModifiedTime"] == job["HyperParameterTuningEndTime"]

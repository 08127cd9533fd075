"""A real triggerer carrying 50 deferred tasks at once reads their jobs with list calls (coalesced status reads)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.integration.dags_provider.it_dags import FANOUT_JOBS
from tests.integration.provider_fixtures import CONNECTION_KEY, Ctx, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

DAG_ID = "it_sensor_fanout"
JOB: dict[str, Any] = {
    "AlgorithmSpecification": {"TrainingImage": "img:latest", "TrainingInputMode": "File"},
    "OutputDataConfig": {"S3OutputPath": "s3://smtrain-it/out"},
    "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
    "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
}


def outcome_of(index: int) -> tuple[str, str | None]:
    """The status each job is given: a fifth fail (each with its own reason), a fifth are stopped."""
    if index % 5 == 0:
        return "Failed", f"AlgorithmError: shard {index} is corrupt"
    if index % 5 == 1:
        return "Stopped", None
    return "Completed", None


def test_fifty_deferred_sensors_share_list_calls_and_each_gets_its_own_outcome(ctx: Ctx) -> None:
    started = time.monotonic()
    sm = ctx.sm
    setup = sm.boto3_client("sagemaker", access_key_id="AKIAFANOUTSETUPKEY01")
    for name in FANOUT_JOBS:
        setup.create_training_job(TrainingJobName=name, RoleArn=ctx.role_arn, **JOB)
        sm.force_job("training", name, "InProgress", secondary_status="Training")  # held until the test says
    sm.clear_requests()

    run_id = ctx.start(DAG_ID)

    def states() -> list[str | None]:
        return [ti.get("state") for ti in ctx.af.task_instances(DAG_ID, run_id)]

    wait_until(lambda: states().count("deferred") == len(FANOUT_JOBS), 120, "all 50 sensors to defer")

    def reads() -> tuple[int, int]:
        log = sm.requests()
        return (
            len([r for r in log if r["operation"] == "ListTrainingJobs"]),
            len([r for r in log if r["operation"] == "DescribeTrainingJob"]),
        )

    # the triggerer described each job once as its trigger arrived; then only lists while nothing changes
    wait_until(lambda: reads()[1] >= 2 * len(FANOUT_JOBS), 60, "the triggerer's first read of every job")
    lists, describes = reads()
    time.sleep(6)  # three polls of the sensors' poke_interval (2 s)
    steady_lists, steady_describes = (now - before for now, before in zip(reads(), (lists, describes), strict=True))
    assert steady_lists >= 2, (steady_lists, steady_describes)
    # one describe per task per poll would be 50 x 3 = 150 here
    assert steady_describes == 0, (steady_lists, steady_describes)

    for index, name in enumerate(FANOUT_JOBS):
        status, reason = outcome_of(index)
        sm.force_job("training", name, status, reason)
    assert ctx.af.wait_for_run(DAG_ID, run_id, timeout=150) == "failed"  # some jobs failed

    by_index = {ti["map_index"]: ti["state"] for ti in ctx.af.task_instances(DAG_ID, run_id)}
    expected = {i: "success" if outcome_of(i)[0] == "Completed" else "failed" for i in range(len(FANOUT_JOBS))}
    assert by_index == expected
    for index in (2, 3):
        result = ctx.af.xcom(DAG_ID, run_id, "wait", map_index=index)
        assert (result["job_name"], result["status"]) == (FANOUT_JOBS[index], "Completed")
    failed_log = ctx.af.task_log(DAG_ID, run_id, "wait", map_index=5)
    assert "AlgorithmError: shard 5 is corrupt" in failed_log
    assert "shard 0 " not in failed_log

    log = sm.requests()
    assert {r["access_key_id"] for r in log} == {CONNECTION_KEY}  # the connection signs, nothing else
    describes_total = len([r for r in log if r["operation"] == "DescribeTrainingJob"])
    # per job: the sensor's check before deferring, the poller's first read and its read of the end,
    # the resumed task's read: 4, whatever the number of polls the wait took
    assert describes_total <= 4 * len(FANOUT_JOBS), describes_total
    assert time.monotonic() - started < 240

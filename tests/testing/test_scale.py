"""Request handling does not grow with the number of jobs: requests bring only the jobs they touch up to date."""

from __future__ import annotations

import time


def test_requests_tick_only_the_jobs_they_touch(sm, sagemaker, job_args):
    sm.configure(training_seconds=3600)
    for index in range(500):
        sagemaker.create_training_job(**job_args(f"scale-{index:03d}"))
    sm.clock.advance(1)

    def ticks_of(call) -> int:
        before = sm.stats()["ticks"].get("training", 0)
        call()
        return sm.stats()["ticks"].get("training", 0) - before

    assert ticks_of(lambda: sagemaker.describe_training_job(TrainingJobName="scale-250")) == 1
    assert ticks_of(lambda: sagemaker.stop_training_job(TrainingJobName="scale-251")) <= 2
    assert ticks_of(lambda: sagemaker.list_training_jobs(NameContains="scale-49")) == 10
    assert ticks_of(lambda: sagemaker.describe_training_job(TrainingJobName="scale-251")) == 1

    started = time.monotonic()
    for _ in range(100):
        sagemaker.describe_training_job(TrainingJobName="scale-499")
    rate = 100 / (time.monotonic() - started)
    print(f"{rate:.0f} DescribeTrainingJob/s with 500 jobs")

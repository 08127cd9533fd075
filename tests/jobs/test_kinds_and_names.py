"""Job kinds, status judgement, names and console URLs (pure functions)."""

from __future__ import annotations

import re

import pytest

from airflow_provider_smtrain.jobs.kinds import TRAINING, TUNING, Outcome, console_url, get_kind, outcome_of
from airflow_provider_smtrain.jobs.naming import job_name, task_instance_key

NAME_PATTERN = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9])*$")


@pytest.mark.parametrize("kind", [TRAINING, TUNING])
@pytest.mark.parametrize("prefix", ["train", "", "---", "my_task.v2", "ünïcode task", "x" * 200, "a-" * 40])
def test_names_fit_the_pattern_and_the_length_limit(kind, prefix: str) -> None:
    for generation in (1, 2, 99999):
        name = job_name(kind, prefix, task_instance_key("dag", "task", "run", -1), generation)
        assert NAME_PATTERN.match(name), name
        assert len(name) <= kind.max_name_length
        assert name.endswith(f"-{generation}")


def test_names_differ_per_task_instance_and_generation() -> None:
    keys = {task_instance_key("d", "t", "r", i) for i in range(-1, 50)}
    keys |= {task_instance_key("d", "t", f"r{i}", -1) for i in range(50)}
    assert len(keys) == 101
    key = task_instance_key("d", "t", "r", -1)
    assert job_name(TRAINING, "t", key, 1) != job_name(TRAINING, "t", key, 2)
    assert job_name(TRAINING, "t", key, 1) == job_name(TRAINING, "t", key, 1)


def test_generation_must_be_positive() -> None:
    with pytest.raises(ValueError, match="generation"):
        job_name(TRAINING, "t", "abc", 0)


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        ("InProgress", Outcome.RUNNING),
        ("Stopping", Outcome.RUNNING),
        ("SomethingNew", Outcome.RUNNING),
        ("Completed", Outcome.SUCCEEDED),
        ("Failed", Outcome.FAILED),
        ("Stopped", Outcome.STOPPED),
    ],
)
def test_outcomes(status: str, outcome: Outcome) -> None:
    assert outcome_of(TRAINING, status) is outcome
    assert outcome_of(TUNING, status) is outcome


def test_unknown_kind_is_named() -> None:
    with pytest.raises(ValueError, match="accepted"):
        get_kind("processing")


@pytest.mark.parametrize(
    ("region", "host"),
    [
        ("us-east-1", "us-east-1.console.aws.amazon.com"),
        ("cn-north-1", "cn-north-1.console.amazonaws.cn"),
        ("us-gov-west-1", "us-gov-west-1.console.amazonaws-us-gov.com"),
    ],
)
def test_console_urls_follow_the_partition(region: str, host: str) -> None:
    assert console_url(TRAINING, "job-1", region) == f"https://{host}/sagemaker/home?region={region}#/jobs/job-1"

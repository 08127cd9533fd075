"""Job identity: the persisted record, the token in names, generations, request tokens, clears."""

from __future__ import annotations

import re

import pytest

from airflow_provider_smtrain.jobs.identity import JobIdentity, cleared_since, max_tries_of, new_token
from airflow_provider_smtrain.jobs.kinds import TRAINING, TUNING
from airflow_provider_smtrain.jobs.naming import generation_of, job_name, request_token, task_instance_key
from tests.operators.runner import FakeTI


def test_identity_round_trips_through_the_store_format() -> None:
    identity = JobIdentity("train-0123456789-2", 2, "training", new_token(), max_tries=3, arn="arn:aws:x")
    assert JobIdentity.from_state(identity.to_state()) == identity


def test_an_identity_written_by_the_first_release_still_reads() -> None:
    legacy = {"job_name": "train-0123456789-1", "generation": 1, "kind": "training"}
    identity = JobIdentity.from_state(legacy)
    assert identity == JobIdentity("train-0123456789-1", 1, "training", "", None, None)


@pytest.mark.parametrize("value", [None, "x", {}, {"generation": 1}, {"job_name": "", "generation": 1}])
def test_anything_else_is_no_identity(value: object) -> None:
    assert JobIdentity.from_state(value) is None


def test_the_token_makes_the_same_task_instance_of_two_deployments_name_different_jobs() -> None:
    staging = task_instance_key("dag", "train", "scheduled__2026-01-01", -1, new_token())
    prod = task_instance_key("dag", "train", "scheduled__2026-01-01", -1, new_token())
    assert staging != prod
    assert job_name(TRAINING, "train", staging, 1) != job_name(TRAINING, "train", prod, 1)
    assert task_instance_key("d", "t", "r", -1) == task_instance_key("d", "t", "r", -1, "")


def test_generation_of_recognises_only_names_of_this_task_instance() -> None:
    key = task_instance_key("d", "t", "r", -1, "tok")
    other = task_instance_key("d", "t", "r", -1, "other")
    for kind in (TRAINING, TUNING):
        name = job_name(kind, "a-very-long-prefix-that-will-be-cut-to-fit-the-limit", key, 12)
        assert generation_of(name, key) == 12
        assert generation_of(name, other) is None
    assert generation_of("train-0123456789-1x", key) is None


def test_request_tokens_are_deterministic_per_generation_and_fit_sagemaker() -> None:
    key = task_instance_key("d", "t", "r", -1, "tok")
    token = request_token(key, 1)
    assert token == request_token(key, 1) != request_token(key, 2)
    assert re.fullmatch(r"[a-zA-Z0-9-]{32,128}", token)
    with pytest.raises(ValueError, match="generation"):
        request_token(key, 0)


def test_only_a_changed_max_tries_means_a_clear() -> None:
    class NoMaxTries:
        try_number = 2

    saved = JobIdentity("train-0123456789-1", 1, "training", "tok", max_tries=3)
    assert max_tries_of(NoMaxTries()) is None and not cleared_since(saved, NoMaxTries())
    ti = FakeTI(try_number=1, max_tries=3)
    assert not cleared_since(saved, ti.retry().retry())  # retries and crashes keep max_tries
    assert cleared_since(saved, ti.clear(retries=3))  # Airflow: max_tries = try_number + retries
    legacy = JobIdentity("train-0123456789-1", 1, "training", "", max_tries=None)
    assert not cleared_since(legacy, ti)

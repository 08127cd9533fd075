"""How every emulated service finds a job by name for ``force_job``, and refuses an unknown one."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_smtrain.testing.engine.simulator import key_named, touched

KEYS = [("111111111111", "us-east-1", "a"), ("222222222222", "us-west-2", "a"), ("111111111111", "us-west-2", "b")]


def test_the_first_key_of_the_name_in_the_account_and_region_if_given() -> None:
    assert key_named(KEYS, "a", None, None) == KEYS[0]
    assert key_named(KEYS, "a", "222222222222", None) == KEYS[1]
    assert key_named(KEYS, "a", None, "us-west-2") == KEYS[1]
    assert key_named(iter(KEYS), "b", "111111111111", "us-west-2") == KEYS[2]  # any iterable
    assert key_named(KEYS, "a", "333333333333", None) is None
    assert key_named(KEYS, "c", None, None) is None


class _Service:
    def __init__(self, jobs: dict[Any, Any]) -> None:
        self.jobs = jobs

    def touch(self, key: Any) -> Any:
        return self.jobs.get(key)


def test_touched_returns_the_job_or_names_the_missing_one() -> None:
    service = _Service({KEYS[0]: "job"})
    assert touched(service, KEYS[0], "endpoint") == "job"  # type: ignore[arg-type]
    with pytest.raises(LookupError, match="no MLflow app 'b'"):
        touched(service, KEYS[2], "MLflow app")  # type: ignore[arg-type]


def test_force_job_of_an_unknown_endpoint_is_refused_by_name(sm: Any) -> None:
    with pytest.raises(Exception, match="no-such-endpoint"):
        sm.force_job("endpoint", "no-such-endpoint", "Failed")

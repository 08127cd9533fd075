"""Every trigger survives the trip through the metadata database: serialize, JSON, import, rebuild."""

from __future__ import annotations

import inspect
import json
from typing import Any

import pytest

from airflow_provider_smtrain.jobs import catalog
from tests.contracts.discovery import trigger_classes

#: Every argument with a value different from its default, so a forgotten one cannot pass by accident.
JOB_TRIGGER_ARGUMENTS: dict[str, Any] = {
    "job_name": "contract-job-1",
    "aws_conn_id": "contract_conn",
    "region_name": "eu-west-1",
    "verify": "/etc/ssl/contract-ca.pem",
    "botocore_config": {"retries": {"mode": "adaptive", "max_attempts": 2}},
    "poll_interval": 12.5,
    "deadline": 1_900_000_000.5,
    "stop_on_deadline": False,
    "stop_on_kill": False,
    "max_retries": 3,
    "retry_base_delay": 0.5,
    "retry_max_delay": 7.0,
}

TRIGGERS = trigger_classes()


def arguments_for(trigger_class: type[Any]) -> dict[str, Any]:
    """Non-default arguments for a trigger class; a new trigger family adds its own here."""
    fixed = getattr(trigger_class, "fixed_kind", None)
    kind = fixed or catalog.kinds()[-1].name
    return {**JOB_TRIGGER_ARGUMENTS, "kind": kind}


def rebuild(classpath: str, kwargs: dict[str, Any]) -> Any:
    """What the triggerer does with a stored row."""
    return catalog.import_path(classpath)(**json.loads(json.dumps(kwargs)))


def test_every_catalog_trigger_is_found() -> None:
    assert {catalog.trigger_class(kind) for kind in catalog.kinds()} <= set(TRIGGERS)


@pytest.mark.parametrize("trigger_class", TRIGGERS, ids=lambda cls: cls.__name__)
def test_serialize_round_trip(trigger_class: type[Any]) -> None:
    given = arguments_for(trigger_class)
    trigger = trigger_class(**given)
    classpath, kwargs = trigger.serialize()

    assert json.loads(json.dumps(kwargs)) == kwargs, "only JSON-native values may cross the database"
    accepted = set(inspect.signature(trigger_class.__init__).parameters) - {"self"}
    assert set(kwargs) == accepted, "serialize() must carry every constructor argument, and only those"
    assert kwargs == given

    rebuilt = rebuild(classpath, kwargs)
    assert type(rebuilt) is trigger_class
    assert rebuilt.serialize() == (classpath, kwargs)


@pytest.mark.parametrize(
    ("old_classpath", "kind"),
    [
        ("airflow_provider_smtrain.triggers.training.TrainingJobTrigger", "training"),
        ("airflow_provider_smtrain.triggers.tuning.TuningJobTrigger", "tuning"),
    ],
)
def test_rows_stored_by_earlier_builds_still_rebuild(old_classpath: str, kind: str) -> None:
    stored = {**JOB_TRIGGER_ARGUMENTS, "kind": kind}
    rebuilt = rebuild(old_classpath, stored)
    assert type(rebuilt) is catalog.trigger_class(kind)
    assert rebuilt.serialize()[1] == stored

"""Validation of trigger events before an operator resumes from them."""

from __future__ import annotations

from typing import Any

from airflow_provider_smtrain.exceptions import SageMakerJobFailed, TriggerEventError
from airflow_provider_smtrain.jobs.kinds import JobKind, failure_message

#: Event statuses a trigger may send, and whether the task may go on after them.
EVENT_STATUSES = {"succeeded": True, "failed": False, "stopped": False, "deadline": False, "error": False}


def check_event_shape(event: dict[str, Any] | None, kind: JobKind) -> None:
    """
    Raise unless ``event`` is a well-formed event of this provider's triggers for ``kind``.

    :param event: the payload the trigger fired.
    :param kind: the job kind the operator waits for.
    """
    if not isinstance(event, dict) or event.get("status") not in EVENT_STATUSES or not event.get("job_name"):
        raise TriggerEventError(f"Malformed trigger event for a {kind.label}: {event!r}")
    if event.get("kind", kind.name) != kind.name:
        raise TriggerEventError(f"Trigger event is for a {event.get('kind')} job, expected {kind.name}")


def check_event(event: dict[str, Any] | None, kind: JobKind) -> dict[str, Any]:
    """
    Return a trigger event that reports success; raise with the event's reason otherwise.

    :param event: the payload the trigger fired.
    :param kind: the job kind the operator waits for.
    """
    check_event_shape(event, kind)
    assert event is not None
    status = event["status"]
    if EVENT_STATUSES[status]:
        return event
    name = event["job_name"]
    if status == "error":
        raise TriggerEventError(f"Waiting for {kind.label} {name} failed: {event.get('message')}")
    if status == "deadline":
        raise SageMakerJobFailed(
            f"{kind.label.capitalize()} {name} did not finish before the task's deadline "
            f"({event.get('message') or 'max_wait or execution_timeout reached'})"
        )
    reason = event.get("failure_reason") or event.get("message")
    raise SageMakerJobFailed(failure_message(kind, name, event.get("job_status"), reason))

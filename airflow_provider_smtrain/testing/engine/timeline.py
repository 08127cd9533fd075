"""
Job timelines: planned ``(time, SecondaryStatus, status)`` events and what is visible at a given time.

Standard library only. Times are simulated unix times read from :class:`~.clock.SimClock`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

TERMINAL = ("Completed", "Failed", "Stopped")

#: Where each timed secondary status starts, as a fraction of the job duration.
TRAINING_PHASES = (("Starting", 0.0), ("Downloading", 0.15), ("Training", 0.3), ("Uploading", 0.85))

#: TrainingJobStatus of each SecondaryStatus this simulation uses (see DescribeTrainingJob).
_PRIMARY = {
    "Completed": "Completed",
    "Failed": "Failed",
    "Stopping": "Stopping",
    "Stopped": "Stopped",
    "MaxRuntimeExceeded": "Stopped",
    "MaxWaitTimeExceeded": "Stopped",
}


class Event(NamedTuple):
    """
    One point of a job's timeline.

    :param at: Simulated unix time the job enters this state.
    :param secondary: SecondaryStatus.
    :param status: Primary status (TrainingJobStatus).
    """

    at: float
    secondary: str
    status: str


def primary_status(secondary: str) -> str:
    """
    Map a SecondaryStatus to its TrainingJobStatus.

    :param secondary: SecondaryStatus.
    """
    return _PRIMARY.get(secondary, "InProgress")


def event(at: float, secondary: str, status: str | None = None) -> Event:
    """
    Build an :class:`Event`, deriving the primary status from the secondary one unless given.

    :param at: Simulated unix time.
    :param secondary: SecondaryStatus.
    :param status: Primary status; ``None`` = derived.
    """
    return Event(at, secondary, status or primary_status(secondary))


def plan_training(start: float, end: float, failed: bool) -> list[Event]:
    """
    Timed events of a job running from ``start`` to ``end``.

    :param start: Simulated creation time.
    :param end: Simulated time the job becomes terminal.
    :param failed: End in ``Failed`` (after ``Training``) instead of ``Completed``.
    """
    span = max(0.0, end - start)
    events = [event(start + fraction * span, status) for status, fraction in TRAINING_PHASES]
    if failed:
        events = events[:3]
    events.append(event(end, "Failed" if failed else "Completed"))
    return events


def visible(events: list[Event], now: float) -> list[Event]:
    """
    The events whose time has come (at least the first one).

    :param events: Chronological events.
    :param now: Simulated unix time.
    """
    return [e for e in events if e.at <= now] or events[:1]


def secondary_status_transitions(seen: list[Event], messages: Mapping[str, str]) -> list[dict[str, Any]]:
    """
    A job's ``SecondaryStatusTransitions``: one per visible event, each ending where the next starts (the
    last one ends at once when it is terminal, else stays open).

    :param seen: The visible events (:func:`visible`).
    :param messages: ``StatusMessage`` by secondary status (default: the status itself).
    """
    transitions = []
    for index, (ts, secondary, status) in enumerate(seen):
        entry: dict[str, Any] = {
            "Status": secondary,
            "StartTime": to_datetime(ts),
            "StatusMessage": messages.get(secondary, secondary),
        }
        if index + 1 < len(seen):
            entry["EndTime"] = to_datetime(seen[index + 1].at)
        elif status in TERMINAL:
            entry["EndTime"] = to_datetime(ts)
        transitions.append(entry)
    return transitions


def to_datetime(ts: float) -> datetime:
    """
    Unix time to the naive-UTC ``datetime`` moto stores.

    :param ts: Unix time.
    """
    return datetime.fromtimestamp(ts, tz=UTC).replace(tzinfo=None)


def modified_time(previous: datetime | None, candidate: datetime, changed: bool) -> datetime:
    """
    A job's new LastModifiedTime: it never goes back, and moves (by 1 ms at least) whenever the job's
    status changed, even when the simulated clock stands still (a frozen clock and a forced status).
    Whole milliseconds, as responses carry them, so a client's ``LastModifiedTimeAfter`` equal to a
    time it was sent excludes that job.

    Listings filtered with ``LastModifiedTimeAfter`` rely on it, as they do on SageMaker.

    :param previous: the LastModifiedTime the job reports now (None before its first).
    :param candidate: the time of the job's latest event.
    :param changed: whether its status (or secondary status) changed.
    """
    candidate = _whole_ms(candidate)
    if previous is None or candidate > previous:
        return candidate
    previous = _whole_ms(previous)
    return previous + timedelta(milliseconds=1) if changed else previous


def _whole_ms(value: datetime) -> datetime:
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def to_unix(value: datetime) -> float:
    """
    The unix time of a naive-UTC (moto) or aware ``datetime``.

    :param value: The datetime.
    """
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()

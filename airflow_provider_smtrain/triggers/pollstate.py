"""
What a waiting trigger keeps of its job between polls, and when it polls next.

* :func:`event_state`: the few fields of a describe response (or of a List* summary) that a trigger's
  log line and event payload read: status, secondary status, failure reason, ``LastModifiedTime``. A
  trigger waiting for days holds these instead of the whole describe response (a few KiB each, times
  the number of waiting triggers).
* :func:`poll_delay`: the sleep before the next poll. Polls are spaced start to start: the time the
  last poll took (its List pages, its describes) is taken off, and the jitter only ever shortens the
  interval (``interval × U(0.9, 1.0)``), so a job's end is read at most one ``poll_interval`` after
  it happened.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_provider_smtrain.jobs.kinds import JobKind

#: Response key of the time SageMaker last changed a job (the coalesced poller's watermark).
MODIFIED_KEY = "LastModifiedTime"
#: Smallest fraction of ``poll_interval`` a jittered sleep lasts (the largest is 1: never longer).
JITTER_FLOOR = 0.9


def event_state(kind: JobKind, state: dict[str, Any]) -> dict[str, Any]:
    """
    The fields of a job's state that its trigger's log line and event payload read, and nothing else.

    :param kind: the job kind (its status, secondary status and failure-reason keys).
    :param state: a describe response, or the fields of a List* summary under the same keys.
    """
    keys = (kind.status_key, kind.secondary_status_key, kind.failure_key, MODIFIED_KEY)
    return {key: state[key] for key in keys if key is not None and key in state}


def poll_delay(interval: float, elapsed: float = 0.0, rng: random.Random | None = None) -> float:
    """
    Seconds to sleep before the next poll: ``interval × U(0.9, 1.0)`` after the last poll started.

    :param interval: the poll interval, seconds.
    :param elapsed: seconds the last poll took (taken off the sleep; never below 0).
    :param rng: random source (tests pass a seeded one).
    """
    return max(0.0, interval * (rng or random).uniform(JITTER_FLOOR, 1.0) - max(0.0, elapsed))

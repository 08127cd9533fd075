"""What a status poller (:mod:`airflow_provider_smtrain.triggers.pollers`) keeps per trigger and per job."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_provider_smtrain.triggers.base import SageMakerJobTrigger

__all__ = ["PollRetry", "PolledJob", "Watch"]


class Watch:
    """
    One trigger's place in a poller: what it last heard about its job, and how the wait ended.

    :param trigger: the waiting trigger.
    """

    __slots__ = ("interval", "job", "read", "result", "retry", "update")

    def __init__(self, trigger: SageMakerJobTrigger) -> None:
        self.interval = trigger.poll_interval
        self.retry = (trigger.retry_base_delay, trigger.retry_max_delay)
        #: the job's last known state (:func:`.pollstate.event_state` of its describe, updated from list summaries)
        self.job: dict[str, Any] = {}
        #: whether a read of the job was attempted (answered or failed)
        self.read = False
        #: ``("job", describe)`` once the job ended, ``("error", message)`` when it cannot be read
        self.result: tuple[str, Any] | None = None
        #: set whenever any of the above changes
        self.update = asyncio.Event()


class PolledJob:
    """What a poller knows of one job, and the watches waiting for it."""

    __slots__ = ("created", "described", "modified", "name", "read_at", "scope", "seen", "status", "watches")

    def __init__(self, name: str, scope: str | None = None) -> None:
        self.name = name
        #: the container the job is listed in (a pipeline name), if the kind's listing is scoped
        self.scope = scope
        #: whether a ``Search`` showed the job, and when (process clock) it was last described
        self.seen = False
        self.read_at = 0.0
        self.watches: list[Watch] = []
        self.described = False
        self.status: tuple[Any, Any] | None = None
        self.modified: datetime | None = None
        self.created: datetime | None = None


class PollRetry(Exception):
    """A poll met a retriable error."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error

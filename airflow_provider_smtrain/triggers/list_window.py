"""
The window of a status poller's reads: what the next ``Search`` or List* call asks for, and which
waited jobs it must show (see :mod:`airflow_provider_smtrain.triggers.pollers`).

Two shapes of window, after what the call can filter on (:class:`~airflow_provider_smtrain.jobs.kinds.ListShape`,
:class:`~airflow_provider_smtrain.jobs.kinds.SearchShape`):

* **change watermark** (``ListTrainingJobs``, ``ListHyperParameterTuningJobs``: ``LastModifiedTimeAfter``;
  ``Search`` of pipeline executions: filter ``LastModifiedTime GreaterThan``): the window starts at the
  newest ``LastModifiedTime`` the server reported (never the triggerer's clock), minus
  :data:`OVERLAP_SECONDS` for :data:`OVERLAP_SECONDS` after the watermark moved (a change that reached
  the listing or the search index late is still seen), else minus :data:`SKEW_SECONDS`. A waited job the
  results leave out should have been in them if it changed after the window's start (per its last
  describe); for ``Search``, also if it never appeared in any results and was last read more than
  :data:`OVERLAP_SECONDS` ago (the index may not know it yet).
* **creation lower bound** (``ListPipelineExecutions``, which has no change-time filter): ``CreatedAfter``
  = the earliest creation time of the waited jobs (from their first describe) minus :data:`SKEW_SECONDS`,
  with no watermark: each poll lists every job created since, whatever its status, so every waited job
  should be in it.

Either way pages are sorted by creation time (an order that does not change while results are paged,
so paging cannot skip a job), and a scoped call (``PipelineName``) names its window's scope.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, Protocol

from airflow_provider_smtrain.jobs.clock import clock
from airflow_provider_smtrain.jobs.kinds import JobKind, ListShape, SearchShape

__all__ = ["OVERLAP_SECONDS", "SKEW_SECONDS", "ListWindow", "summary_state"]

#: Seconds the listing window reaches back before the newest ``LastModifiedTime`` seen, for as many
#: seconds after it was seen (longer than SageMaker's listings lag behind its describes).
OVERLAP_SECONDS = 60.0
#: Seconds the window always reaches back: SageMaker's hosts stamp times with clocks that differ a
#: little, so a later change may carry an earlier time.
SKEW_SECONDS = 1.0


class WaitedJob(Protocol):
    """What the window needs to know of a waited job."""

    described: bool
    modified: datetime | None
    created: datetime | None
    #: whether the job appeared in the results of a ``Search``
    seen: bool
    #: process clock time of the job's last describe
    read_at: float


class ListWindow:
    """
    The window of one poller's listings.

    :param shape: the kind's list call, or its search.
    :param scope: the value of ``shape.scope_param`` (a pipeline name), or None for account-wide calls.
    """

    def __init__(self, shape: ListShape | SearchShape, scope: str | None = None) -> None:
        self.shape = shape
        self.scope = scope
        #: newest ``LastModifiedTime`` the server reported, and when (process clock) it was first seen
        self.watermark: datetime | None = None
        self.watermark_seen = 0.0
        #: the start of the window the last request asked for (None: no lower bound)
        self.after: datetime | None = None

    @property
    def by_creation(self) -> bool:
        """Whether the window is a creation lower bound (no change-time filter)."""
        return isinstance(self.shape, ListShape) and self.shape.created_after_param is not None

    def ready(self) -> bool:
        """Whether a listing can be asked for (a change watermark needs one server time first)."""
        return self.by_creation or self.watermark is not None

    def request(self, jobs: Iterable[WaitedJob]) -> dict[str, Any]:
        """
        The first page's request for the described ``jobs``; remembers the window's start.

        :param jobs: the poller's jobs (those not described yet are left out of the bound).
        """
        shape = self.shape
        if isinstance(shape, SearchShape):
            return shape.request(self._watermark_start())
        request: dict[str, Any] = {"SortBy": shape.sort_by, "SortOrder": "Ascending", "MaxResults": shape.max_results}
        if shape.scope_param is not None:
            request[shape.scope_param] = self.scope
        if self.by_creation:
            created = [job.created for job in jobs if job.described]
            known = [c for c in created if c is not None]
            # a waited job whose creation is unknown: no bound, the listing covers the whole scope
            self.after = min(known) - timedelta(seconds=SKEW_SECONDS) if known and len(known) == len(created) else None
            if self.after is not None:
                request[shape.created_after_param] = self.after  # type: ignore[index]
            return request
        request[shape.modified_after_param] = self._watermark_start()
        return request

    def _watermark_start(self) -> datetime:
        """The start of a change-watermark window (remembered in ``after``)."""
        assert self.watermark is not None
        recent = clock().now() - self.watermark_seen < OVERLAP_SECONDS
        self.after = self.watermark - timedelta(seconds=OVERLAP_SECONDS if recent else SKEW_SECONDS)
        return self.after

    def should_show(self, job: WaitedJob) -> bool:
        """
        Whether a described job the last listing left out should have been in it (then it is described).

        :param job: a waited job.
        """
        if not job.described:
            return False
        if self.by_creation:
            return True
        if isinstance(self.shape, SearchShape) and not job.seen and clock().now() - job.read_at > OVERLAP_SECONDS:
            return True
        return job.modified is not None and self.after is not None and job.modified > self.after

    def advance(self, modified: Any) -> None:
        """
        Move the change watermark to a newer server time (anything else is ignored).

        :param modified: a ``LastModifiedTime`` the server reported.
        """
        if isinstance(modified, datetime) and (self.watermark is None or modified > self.watermark):
            self.watermark, self.watermark_seen = modified, clock().now()


def summary_state(kind: JobKind, shape: ListShape | SearchShape, summary: dict[str, Any]) -> dict[str, Any]:
    """
    The fields of a List* summary (or ``Search`` record) a describe response would carry under the same keys.

    :param kind: the job kind.
    :param shape: the call that returned the summary.
    :param summary: one summary of the listing.
    """
    state = {kind.status_key: summary.get(shape.status_key)}
    if shape.secondary_status_key and kind.secondary_status_key:
        state[kind.secondary_status_key] = summary.get(shape.secondary_status_key)
    failure_key = shape.failure_key if isinstance(shape, SearchShape) else None
    if failure_key and summary.get(failure_key) not in (None, ""):
        state[kind.failure_key] = summary[failure_key]
    return state

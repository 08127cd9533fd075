"""
Coalesced status reads: the triggers of one triggerer that wait for jobs of one kind through one
connection share one poller, which reads all their statuses with one ``Search`` or List* call per poll.

Without it each trigger sends one Describe* per poll. A :class:`StatusPoller` instead

* describes a job once when its first trigger registers (:data:`DESCRIBE_CONCURRENCY` at a time);
* then, every poll, reads the jobs of its window (:mod:`~airflow_provider_smtrain.triggers.list_window`),
  in the first way the kind has (:class:`~airflow_provider_smtrain.jobs.kinds.ListShape`):

  - ``Search`` (pipeline executions: ``Resource="PipelineExecution"``, every pipeline at once), the
    records SageMaker changed since a watermark of server time (``LastModifiedTime GreaterThan``);
  - the List* call: training and tuning jobs changed since the watermark (``LastModifiedTimeAfter``);
    pipeline executions where ``Search`` is refused, one listing per pipeline of every execution
    created since the earliest creation of that pipeline's waited executions (``CreatedAfter``);

  pages are sorted by creation time, so paging cannot skip a job. When nothing changed a poll costs one
  request whatever the number of triggers (per pipeline, when listing pipeline executions); the poller
  compares each status read with what its triggers last saw;
* takes the outcome of a job read as succeeded or stopped from its summary (all the event carries, such
  jobs have no failure reason), and of a failed job from a ``Search`` record (it carries the failure
  reason); describes a job again only when it is listed as failed (for the failure reason) or should
  have been in the results and was not, :data:`ENDED_DESCRIBE_CONCURRENCY` at a time;
* hands each trigger its job's final state when the job ended, or an error message.

Pollers are keyed by event loop, job kind, the shared client's key (connection id, region, verify,
botocore config) and, for scoped listings the kind cannot replace by a ``Search``, the scope; jobs of
another account, region or connection are never mixed. A poller polls at the shortest ``poll_interval``
of its triggers. Retriable errors back off once for all triggers and are retried while any trigger
waits; each trigger ends at its own deadline. A ``Search`` refused (``AccessDenied``, or a
``ValidationException``: not supported in the region) makes the poller list instead; a List* call denied
(``AccessDenied``) makes it describe each job every poll; any other non-retriable error ends the waiting
triggers of the call (of its scope) with an ``error`` event. A poller ends when its last trigger leaves.

``[smtrain] coalesce_status_reads = False`` turns this off: every trigger describes its own job.
Kinds without a :class:`~airflow_provider_smtrain.jobs.kinds.ListShape` always do; while listing per
scope, a poller describes every poll the jobs whose handle names no scope.
"""
from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from airflow_provider_smtrain.jobs.clock import clock
from airflow_provider_smtrain.jobs.kinds import JobKind, Outcome, outcome_of
from airflow_provider_smtrain.jobs.list_shapes import SEARCH_REFUSED_CODES, SearchShape
from airflow_provider_smtrain.jobs.retry import backoff_delay, describe_error, error_code, is_retriable
from airflow_provider_smtrain.triggers.clients import POOL
from airflow_provider_smtrain.triggers.list_window import ListWindow, summary_state
from airflow_provider_smtrain.triggers.pollstate import event_state, poll_delay
from airflow_provider_smtrain.triggers.watches import PolledJob, PollRetry, Watch

__all__ = ["StatusPoller", "Watch"]

log = logging.getLogger(__name__)

#: Describe calls a poller runs at once (a triggerer starting with many deferred tasks).
DESCRIBE_CONCURRENCY = 8
#: Describe calls a poller runs at once for ended (or unlisted) jobs: each delays an event.
ENDED_DESCRIBE_CONCURRENCY = 32
#: Outcomes whose event a List* summary carries in full (no failure reason to read).
SUMMARY_OUTCOMES = frozenset({Outcome.SUCCEEDED, Outcome.STOPPED})
#: Error codes of a List* call that make a poller fall back to describing each job.
LIST_DENIED_CODES = frozenset({"AccessDeniedException", "AccessDenied", "UnauthorizedOperation"})

class StatusPoller:
    """
    Reads the statuses of many jobs of one kind through one connection; see the module docstring.

    :param kind: the job kind (must have a ``listing``).
    :param params: ``(aws_conn_id, region_name, verify, botocore_config)`` of the shared client.
    """

    def __init__(self, kind: JobKind, params: tuple[Any, ...]) -> None:
        assert kind.listing is not None
        self.kind = kind
        self.listing = kind.listing
        self.params = params
        self.jobs: dict[str, PolledJob] = {}
        #: the window of the ``Search`` (if the kind has one), and of the List* call per scope
        self.search_window = ListWindow(self.listing.search) if self.listing.search is not None else None
        self.windows: dict[str | None, ListWindow] = {}
        #: how statuses are read: ``search``, ``list`` (one listing per scope), ``describe`` (each job)
        self.reader = "search" if self.search_window is not None else "list"
        self.failures = 0
        self.task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        #: polls made, and requests sent by operation (for tests and metrics)
        self.polls, self.calls = 0, collections.Counter[str]()

    # ------------------------------------------------------------------ membership

    def add(self, name: str, watch: Watch) -> None:
        """
        Register a watch on a job; a job new to the poller is described at once.

        :param name: the job name.
        :param watch: the trigger's watch.
        """
        job = self.jobs.get(name)
        if job is None:
            listing = self.listing
            scope = listing.scope(name) if listing.scope_param is not None and listing.scope is not None else None
            job = self.jobs[name] = PolledJob(name, scope)
            self._wake.set()
        elif job.described:
            watch.read = True
        job.watches.append(watch)
        if job.described and watch.job is not job.watches[0].job:
            watch.job = dict(job.watches[0].job)

    def remove(self, name: str, watch: Watch) -> bool:
        """
        Deregister a watch; return whether the poller has nothing left to watch.

        :param name: the job name.
        :param watch: the trigger's watch.
        """
        job = self.jobs.get(name)
        if job is not None and watch in job.watches:
            job.watches.remove(watch)
            if not job.watches:
                del self.jobs[name]
        return not self.jobs

    def _deliver(self, job: PolledJob, result: tuple[str, Any]) -> None:
        for watch in job.watches:
            watch.result, watch.read = result, True
            watch.update.set()
        self.jobs.pop(job.name, None)

    def _fail_all(self, message: Callable[[str], str], jobs: list[PolledJob] | None = None) -> None:
        """End every waiting trigger (of ``jobs``) with an ``error`` event; ``message`` is given each job's name."""
        for job in list(self.jobs.values()) if jobs is None else jobs:
            if self.jobs.get(job.name) is job:
                self._deliver(job, ("error", message(job.name)))

    def _call_failed(self, operation: str, err: BaseException) -> Callable[[str], str]:
        """The ``error`` message of a call that failed for good (as the trigger words it alone)."""
        return lambda name: f"{operation} for {self.kind.label} {name!r} failed: {describe_error(err)}"

    @staticmethod
    def _attempted(job: PolledJob) -> None:
        """A read of the job was tried (and failed): its triggers' deadlines may now end their wait."""
        for watch in job.watches:
            watch.read = True
            watch.update.set()

    # ------------------------------------------------------------------ running

    async def run(self) -> None:
        """Poll until no trigger is left; open the shared client first (retried like a read)."""
        with contextlib.suppress(ImportError):  # serving many triggers: log in none's log context
            import structlog

            structlog.contextvars.clear_contextvars()
        kind, where = self.kind, f"(aws_conn_id={self.params[0]!r}, region={self.params[1]!r})"
        while self.jobs:
            try:
                async with POOL.client(*self.params) as client:
                    await self._serve(client)
            except Exception as err:
                for job in self.jobs.values():
                    self._attempted(job)
                if not is_retriable(err):
                    def message(name: str, why: str = f"{where}: {describe_error(err)}") -> str:
                        return f"Could not wait for {kind.label} {name!r} {why}"

                    self._fail_all(message)
                    return
                self.failures += 1
                delay = self._backoff()
                log.warning("Connecting %s failed (%s); retry %d in %.2fs", where, describe_error(err),
                            self.failures, delay)
                await self._sleep(delay, wakeable=False)

    async def _serve(self, client: Any) -> None:
        while self.jobs:
            started = clock().now()
            try:
                await self._poll(client)
            except PollRetry as retry:
                self.failures += 1
                delay = self._backoff()
                log.warning("Reading %s statuses failed (%s); retry %d in %.2fs", self.kind.label,
                            describe_error(retry.error), self.failures, delay)
                await self._sleep(delay, wakeable=False)
                continue
            self.failures = 0
            interval = min((w.interval for job in self.jobs.values() for w in job.watches), default=1.0)
            await self._sleep(poll_delay(interval, clock().now() - started), wakeable=True)

    def _backoff(self) -> float:
        watches = [w for job in self.jobs.values() for w in job.watches]
        base = min((w.retry[0] for w in watches), default=1.0)
        cap = min((w.retry[1] for w in watches), default=60.0)
        return backoff_delay(self.failures, base, cap)

    async def _sleep(self, seconds: float, *, wakeable: bool) -> None:
        """Sleep on the process clock; a wakeable sleep ends early when a new job registers."""
        if not wakeable:
            await clock().async_sleep(seconds)
            return
        if self._wake.is_set():
            self._wake.clear()
            return
        sleeper = asyncio.ensure_future(clock().async_sleep(seconds))
        waker = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            waker.cancel()
        self._wake.clear()

    async def _poll(self, client: Any) -> None:
        """One poll: describe new jobs, read the others' statuses, describe what the read says ended or lacks."""
        self._wake.clear()
        self.polls += 1
        known = [job for job in self.jobs.values() if job.described]
        retry = await self._describe([job for job in self.jobs.values() if not job.described], client)
        known = [job for job in known if self.jobs.get(job.name) is job]
        due = await self._read(client, known) if known else []
        retry = await self._describe(due, client, ENDED_DESCRIBE_CONCURRENCY) or retry
        if retry is not None:
            raise PollRetry(retry)

    async def _read(self, client: Any, known: list[PolledJob]) -> list[PolledJob]:
        """
        Read the statuses of the ``known`` jobs: ``Search``, else List* per scope, else none (each job is
        described); a refused ``Search`` falls back to listing, a denied List* to describing.

        Returns the jobs to describe.
        """
        while self.reader != "describe":
            reader = self.reader
            try:
                if reader == "search":
                    assert self.search_window is not None
                    ready = self.search_window.ready()
                    return await self._page_through(client, self.search_window, known) if ready else known
                return await self._list_scopes(client, known)
            except Exception as err:
                if is_retriable(err):
                    raise PollRetry(err) from err
                operation = self._operation(client, "search" if reader == "search" else self.listing.method)
                if error_code(err) not in (SEARCH_REFUSED_CODES if reader == "search" else LIST_DENIED_CODES):
                    self._fail_all(self._call_failed(operation, err))
                    return []
                self.reader = "list" if reader == "search" else "describe"
                log.warning("%s was refused (%s); %s instead", operation, describe_error(err),
                            f"listing the {self.kind.label}s per {self.listing.scope_param or 'account'}"
                            if self.reader == "list" else f"describing each {self.kind.label}")
        return known

    async def _list_scopes(self, client: Any, known: list[PolledJob]) -> list[PolledJob]:
        """List the jobs of each scope (one List* call per scope, per page); return the jobs to describe."""
        listing = self.listing
        groups: dict[str | None, list[PolledJob]] = collections.defaultdict(list)
        for job in known:
            groups[job.scope].append(job)
        self.windows = {scope: window for scope, window in self.windows.items() if scope in groups}
        due: list[PolledJob] = []
        for scope, jobs in groups.items():
            window = self.windows.get(scope)
            if window is None:  # a new scope: its watermark starts from its jobs' describes
                window = self.windows[scope] = ListWindow(listing, scope)
                for job in jobs:
                    window.advance(job.modified)
            if (listing.scope_param is not None and scope is None) or not window.ready():
                due.extend(jobs)  # no scope to list it in, or no server time yet
                continue
            try:
                due.extend(await self._page_through(client, window, jobs))
            except Exception as err:
                if is_retriable(err) or error_code(err) in LIST_DENIED_CODES:
                    raise
                self._fail_all(self._call_failed(self._operation(client, listing.method), err), jobs)
        return due

    async def _describe(
        self, jobs: list[PolledJob], client: Any, concurrency: int = DESCRIBE_CONCURRENCY
    ) -> BaseException | None:
        """
        Describe jobs, ``concurrency`` at a time; deliver ended jobs and non-retriable errors.

        Returns the last retriable error (the jobs it hit stay due for the next poll).
        """
        queue = collections.deque(jobs)
        kind = self.kind
        operation = self._operation(client, kind.describe_method)
        retry: BaseException | None = None

        async def worker() -> None:
            nonlocal retry
            while queue:
                job = queue.popleft()
                if self.jobs.get(job.name) is not job:
                    continue  # its triggers left meanwhile
                self.calls[operation] += 1
                try:
                    response = await getattr(client, kind.describe_method)(**kind.request_params(job.name))
                except Exception as err:
                    if is_retriable(err):
                        retry = err
                        self._attempted(job)
                    else:
                        self._deliver(job, ("error", self._call_failed(operation, err)(job.name)))
                    continue
                self._observe(job, response, described=True)

        workers = [asyncio.ensure_future(worker()) for _ in range(min(concurrency, len(queue)))]
        try:
            await asyncio.gather(*workers)
        finally:
            for task in workers:
                task.cancel()
        return retry

    async def _page_through(self, client: Any, window: ListWindow, jobs: list[PolledJob]) -> list[PolledJob]:
        """Page through the results of a window for ``jobs``; return the jobs to describe."""
        shape = window.shape
        request = window.request(jobs)
        operation = self._operation(client, shape.method)
        searched = isinstance(shape, SearchShape)
        listed: set[str] = set()
        due: list[PolledJob] = []
        while True:
            self.calls[operation] += 1
            page = await getattr(client, shape.method)(**request)
            for summary in shape.summaries(page):
                modified = summary.get(shape.modified_key)
                self._advance(modified)
                job = self.jobs.get(str(summary.get(shape.name_key)))
                if job is None or not job.described or job.name in listed:
                    continue
                listed.add(job.name)
                job.seen = job.seen or searched
                update = summary_state(self.kind, shape, summary)
                outcome = outcome_of(self.kind, update[self.kind.status_key])
                if outcome in SUMMARY_OUTCOMES or (outcome is Outcome.FAILED and self.kind.failure_key in update):
                    self._deliver(job, ("job", update))
                elif outcome is not Outcome.RUNNING:
                    due.append(job)  # failed: the event needs the describe's failure reason
                else:
                    self._observe(job, update, described=False, modified=modified)
            token = page.get("NextToken")
            if not token:
                break
            request["NextToken"] = token
        # should have been listed yet was not: the listing lags or lost it; ask the job itself
        due.extend(job for job in jobs
                   if job.name not in listed and self.jobs.get(job.name) is job and window.should_show(job))
        return due

    def _advance(self, modified: Any) -> None:
        """Move the change watermarks to a newer server time."""
        if self.search_window is not None:
            self.search_window.advance(modified)
        for window in self.windows.values():
            window.advance(modified)

    @staticmethod
    def _operation(client: Any, method: str) -> str:
        """The API operation name of a client method (for messages and counts)."""
        return str(client.meta.method_to_api_mapping.get(method, method))

    def _observe(
        self, job: PolledJob, state: dict[str, Any], *, described: bool, modified: datetime | None = None
    ) -> None:
        """Record a job's state (describe response, or fields of a summary); deliver it if it ended."""
        kind = self.kind
        modified = state.get("LastModifiedTime", modified)
        if isinstance(modified, datetime):
            job.modified = modified
            self._advance(modified)
        if described:
            job.read_at = clock().now()
        created = state.get(self.listing.created_key) if described else None
        if isinstance(created, datetime) and job.created is None:
            job.created = created
        status = state.get(kind.status_key)
        secondary = state.get(kind.secondary_status_key) if kind.secondary_status_key else None
        if described and outcome_of(kind, status) is not Outcome.RUNNING:
            self._deliver(job, ("job", state))
            return
        changed = not job.described or (status, secondary) != job.status
        job.described, job.status = True, (status, secondary)
        kept = event_state(kind, state)
        for watch in job.watches:
            watch.job = dict(kept) if described else {**watch.job, **kept}
            if changed or not watch.read:
                watch.read = True
                watch.update.set()

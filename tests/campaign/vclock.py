"""Virtual time for the campaign: every lifecycle sleep moves one virtual clock and the local SageMaker's.

The local SageMaker's clock is frozen; :class:`CampaignClock` (installed with ``use_clock``) advances
it in step with its own ``now`` at every ``sleep``/``async_sleep``, so jobs progress minutes per real
millisecond. Several actors (the threads of two deployments running at once) share it: a sleeper
advances time only when it wakes first and every registered actor is asleep (or after a few real ms,
so an actor blocked on a lock cannot stall the others).

At every sleep point the clock asks the calling actor's driver (:data:`SLEEP_POINT`) whether Airflow
acts now (a kill, a clear, a timeout, a worker death) and the scenario's schedule whether network
faults begin or end; after every advance it samples the server's jobs for the invariants.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import contextvars
import itertools
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from airflow_provider_smtrain.jobs.clock import Clock

#: The calling actor's hook, called at every sleep point with ``is_async``; may raise (worker side)
#: or return True (trigger side: "block here, Airflow is about to cancel you").
SLEEP_POINT: contextvars.ContextVar[Callable[[bool], bool] | None] = contextvars.ContextVar(
    "campaign_sleep_point", default=None
)
#: The hold of the asyncio actor that runs in this context (a shared status poller, see
#: :meth:`CampaignClock.hold`): while it sleeps on the clock its hold is lifted, and taken again when it wakes.
HOLD: contextvars.ContextVar[int | None] = contextvars.ContextVar("campaign_hold", default=None)
#: Poll intervals after a good poll within which a shared poller must poll again while its jobs run.
LATE_POLL = 2.0
#: Longest real wait for the other actors before a sleeper advances time anyway.
REAL_PATIENCE = 0.02


class CampaignClock(Clock):
    """
    The process clock of a campaign scenario.

    :param advance_server: moves the local SageMaker's frozen clock forward by the given seconds.
    :param start: the virtual time now (the server's frozen time).
    """

    def __init__(self, advance_server: Callable[[float], Any], start: float) -> None:
        self._advance_server = advance_server
        self._now = start
        self.start = start
        self._lock = threading.RLock()
        self._sleepers: dict[int, float] = {}
        self._keys = itertools.count()
        self._actors = 0
        self._holds: set[int] = set()
        #: (wall time, virtual time) after each advance, to date server-side records in virtual time.
        self.timeline: list[tuple[float, float]] = [(time.time(), start)]
        #: Called with the new virtual time after every advance (sampling, fault windows).
        self.on_advance: list[Callable[[float], None]] = []
        #: Called with the current virtual time before every advance (sampling what a step began with).
        self.before_advance: list[Callable[[float], None]] = []
        self.sleeps = 0
        #: Shared pollers that polled late (see :func:`pollers_hold_time`).
        self.late_polls: list[str] = []

    def now(self) -> float:
        return self._now

    @property
    def elapsed(self) -> float:
        """Virtual seconds since the scenario started."""
        return self._now - self.start

    def virtual_at(self, wall: float) -> float:
        """The virtual time at a wall-clock instant of this scenario (server records carry wall time)."""
        walls = [w for w, _ in self.timeline]
        index = bisect.bisect_right(walls, wall) - 1
        return self.timeline[max(index, 0)][1]

    @contextlib.contextmanager
    def actor(self) -> Iterator[None]:
        """Register the calling thread as an actor that time waits for while it works."""
        with self._lock:
            self._actors += 1
        try:
            yield
        finally:
            with self._lock:
                self._actors -= 1

    def advance_to(self, target: float) -> None:
        """Move virtual time (and the server's clock) forward to ``target``."""
        with self._lock:
            if target <= self._now:
                return
            for callback in list(self.before_advance):
                callback(self._now)
            self._advance_server(target - self._now)
            self._now = target
            self.timeline.append((time.time(), target))
        for callback in list(self.on_advance):
            callback(target)

    def hold(self) -> int:
        """
        Keep virtual time where it is until :meth:`release`: an asyncio actor (not a thread) works now.

        Its sleeps on this clock lift the hold while they last when :data:`HOLD` carries its key in the
        actor's context: the hold becomes the sleep in one step, so no other sleeper ever sees the actor
        neither working nor asleep (and jumps past its wake-up). Returns the hold's key.
        """
        key = next(self._keys)
        with self._lock:
            self._holds.add(key)
            self._sleepers[key] = self._now
        return key

    def release(self, key: int) -> None:
        """Let virtual time move again (see :meth:`hold`)."""
        with self._lock:
            self._holds.discard(key)
            self._sleepers.pop(key, None)

    def _may_wake(self, key: int, waited: float) -> bool:
        with self._lock:
            wake = self._sleepers[key]
            earliest = min(self._sleepers.values())
            everyone = len(self._sleepers) >= self._actors
        return wake <= earliest and (everyone or waited > REAL_PATIENCE)

    def _point(self, is_async: bool) -> bool:
        hook = SLEEP_POINT.get()
        return hook(is_async) if hook is not None else False

    def sleep(self, seconds: float) -> None:
        self._point(False)
        key = next(self._keys)
        with self._lock:
            self._sleepers[key] = self._now + max(seconds, 0.0)
        started = time.monotonic()
        try:
            while not self._may_wake(key, time.monotonic() - started):
                time.sleep(0.001)
            self.advance_to(self._sleepers[key])
        finally:
            with self._lock:
                del self._sleepers[key]
        self.sleeps += 1
        self._point(False)

    async def async_sleep(self, seconds: float) -> None:
        if self._point(True):
            await asyncio.Event().wait()  # Airflow cancels this trigger now
        key, hold = next(self._keys), HOLD.get()
        with self._lock:
            self._sleepers[key] = self._now + max(seconds, 0.0)
            if hold is not None:
                self._sleepers.pop(hold, None)  # the holder sleeps now: this sleep stands for it
        started = time.monotonic()
        try:
            while not self._may_wake(key, time.monotonic() - started):
                await asyncio.sleep(0.001)
            self.advance_to(self._sleepers[key])
        finally:
            with self._lock:
                del self._sleepers[key]
                if hold in self._holds:
                    self._sleepers[hold] = self._now  # awake: it works again
        self.sleeps += 1
        if self._point(True):
            await asyncio.Event().wait()


class _TimeModule:
    """``botocore.endpoint``'s view of the ``time`` module: its retry backoff sleeps on the process clock."""

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)

    @staticmethod
    def sleep(seconds: float) -> None:
        from airflow_provider_smtrain.jobs.clock import clock

        clock().sleep(seconds)


@contextlib.contextmanager
def virtual_botocore_backoff() -> Iterator[None]:
    """
    Make botocore's and aiobotocore's own retry backoff sleep on the process clock (virtual in the campaign).

    Without it every throttled or dropped request costs real seconds of botocore backoff.
    """
    import aiobotocore.endpoint
    import botocore.endpoint

    from airflow_provider_smtrain.jobs.clock import clock

    async def _sleep(self: Any, seconds: float) -> None:
        await clock().async_sleep(seconds)

    saved_time = botocore.endpoint.time  # type: ignore[attr-defined]
    saved_sleep = aiobotocore.endpoint.AioEndpoint._sleep
    botocore.endpoint.time = _TimeModule()  # type: ignore[attr-defined]
    aiobotocore.endpoint.AioEndpoint._sleep = _sleep  # type: ignore[method-assign]
    try:
        yield
    finally:
        botocore.endpoint.time = saved_time  # type: ignore[attr-defined]
        aiobotocore.endpoint.AioEndpoint._sleep = saved_sleep  # type: ignore[method-assign]


@contextlib.contextmanager
def schema_checked_once() -> Iterator[None]:
    """
    ``jsonschema.validate`` that checks each (constant) schema once instead of on every call.

    The SageMaker SDK validates its config against its own schema on every session it builds, and
    re-validates the schema itself each time (~0.8 s of CPU per submission). Instances are still
    validated on every call, with the same errors.
    """
    import jsonschema
    from jsonschema.exceptions import best_match
    from jsonschema.validators import validator_for

    checked: set[int] = set()
    original = jsonschema.validate

    def validate(instance: Any, schema: Any, cls: Any = None, *args: Any, **kwargs: Any) -> None:
        if cls is None:
            cls = validator_for(schema)
        if id(schema) not in checked:
            cls.check_schema(schema)
            checked.add(id(schema))
        error = best_match(cls(schema, *args, **kwargs).iter_errors(instance))
        if error is not None:
            raise error

    jsonschema.validate = validate
    try:
        yield
    finally:
        jsonschema.validate = original


@contextlib.contextmanager
def pollers_hold_time(clock: CampaignClock) -> Iterator[None]:
    """
    Make the triggers' shared status pollers hold virtual time while they work, as a trigger does.

    A poller is an asyncio task of the triggerer's loop, not an actor of its own: without a hold, a trigger
    asleep until its deadline looked like everyone asleep while the poller was opening its client or
    reading (or between its poll and its next sleep), and virtual time jumped to the deadline past every
    poll. Its sleeps (between polls, backoff, botocore's retries) lift the hold (see :data:`HOLD`).

    Also checks that a poller polls within :data:`LATE_POLL` poll intervals after it started or after a
    poll that succeeded, and does not end silent longer (``clock.late_polls``); a failure backs off instead.
    """
    from airflow_provider_smtrain.triggers.pollers import StatusPoller

    run, poll, sleep = StatusPoller.run, StatusPoller._poll, StatusPoller._sleep
    good: dict[int, tuple[float, float]] = {}  # poller -> (end of its last good poll, its poll interval)

    def check(poller: Any, what: str) -> None:
        last = good.pop(id(poller), None)
        if last is not None and clock.elapsed - last[0] > LATE_POLL * last[1]:
            clock.late_polls.append(
                f"{poller.kind.label} poller of {sorted(poller.jobs)} {what} at +{clock.elapsed:.0f}s,"
                f" {clock.elapsed - last[0]:.0f}s after its last good poll (interval {last[1]:.0f}s)"
            )

    def polled(poller: Any) -> None:
        interval = min((w.interval for job in poller.jobs.values() for w in job.watches), default=None)
        if interval is not None:
            good[id(poller)] = (clock.elapsed, interval)

    async def held_run(self: Any) -> None:
        key = clock.hold()
        HOLD.set(key)  # the poller's task has a context of its own
        polled(self)  # a new poller polls at once
        try:
            await run(self)
        finally:
            check(self, "ended without polling again")
            clock.release(key)

    async def checked_poll(self: Any, client: Any) -> None:
        check(self, "polled")
        await poll(self, client)  # a failed poll raises: its backoff is no late poll
        polled(self)

    async def backoff_sleep(self: Any, seconds: float, *, wakeable: bool) -> None:
        if not wakeable:  # backing off after a failure (to connect, to read): no late poll
            good.pop(id(self), None)
        await sleep(self, seconds, wakeable=wakeable)

    StatusPoller.run = held_run  # type: ignore[method-assign]
    StatusPoller._poll = checked_poll  # type: ignore[method-assign]
    StatusPoller._sleep = backoff_sleep  # type: ignore[method-assign]
    try:
        yield
    finally:
        StatusPoller.run, StatusPoller._poll, StatusPoller._sleep = run, poll, sleep  # type: ignore[method-assign]

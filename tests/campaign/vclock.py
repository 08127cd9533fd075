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
        #: (wall time, virtual time) after each advance, to date server-side records in virtual time.
        self.timeline: list[tuple[float, float]] = [(time.time(), start)]
        #: Called with the new virtual time after every advance (sampling, fault windows).
        self.on_advance: list[Callable[[float], None]] = []
        #: Called with the current virtual time before every advance (sampling what a step began with).
        self.before_advance: list[Callable[[float], None]] = []
        self.sleeps = 0

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
        key = next(self._keys)
        with self._lock:
            self._sleepers[key] = self._now + max(seconds, 0.0)
        started = time.monotonic()
        try:
            while not self._may_wake(key, time.monotonic() - started):
                await asyncio.sleep(0.001)
            self.advance_to(self._sleepers[key])
        finally:
            with self._lock:
                del self._sleepers[key]
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

"""The one clock every wait of the provider reads and sleeps on (blocking waits, retries, triggers).

Production code uses wall time. Tests and the fault campaign swap in a virtual clock with
:func:`use_clock`, so that minutes of backoff or polling cost no real time and can move the local
SageMaker's own clock in step.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator


class Clock:
    """Wall time: :meth:`now` is ``time.time()``, the sleeps are real."""

    def now(self) -> float:
        """Seconds since the epoch."""
        return time.time()

    def sleep(self, seconds: float) -> None:
        """
        Block the calling thread.

        :param seconds: how long; negative values are treated as zero.
        """
        time.sleep(max(seconds, 0.0))

    async def async_sleep(self, seconds: float) -> None:
        """
        Suspend the calling coroutine.

        :param seconds: how long; negative values are treated as zero.
        """
        await asyncio.sleep(max(seconds, 0.0))


_current: Clock = Clock()


def clock() -> Clock:
    """The clock in use in this process."""
    return _current


@contextlib.contextmanager
def use_clock(replacement: Clock) -> Iterator[Clock]:
    """
    Use ``replacement`` as the process clock inside the block (tests and the fault campaign).

    :param replacement: the clock to use.
    """
    global _current
    previous, _current = _current, replacement
    try:
        yield replacement
    finally:
        _current = previous

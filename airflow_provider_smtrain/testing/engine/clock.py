"""The simulation clock: wall time that tests can freeze, advance and resume (standard library only)."""

from __future__ import annotations

import threading
import time
from typing import Any


class SimClock:
    """
    Time as the simulated services see it.

    Running, it follows the wall clock plus an offset. Frozen, it stands still until :meth:`advance`
    moves it or :meth:`resume` lets it run again from where it stands. Every job timeline, every
    ``CreationTime``/``LastModifiedTime`` and every log timestamp of the simulation reads this clock.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._offset = 0.0
        self._frozen_at: float | None = None

    def now(self) -> float:
        """Current simulated unix time."""
        with self._lock:
            if self._frozen_at is not None:
                return self._frozen_at
            return time.time() + self._offset

    @property
    def frozen(self) -> bool:
        """Whether the clock stands still."""
        return self._frozen_at is not None

    def freeze(self) -> float:
        """Stop the clock at the current simulated time; return that time."""
        with self._lock:
            if self._frozen_at is None:
                self._frozen_at = time.time() + self._offset
            return self._frozen_at

    def advance(self, seconds: float) -> float:
        """
        Move the clock forward (frozen or running); return the new simulated time.

        :param seconds: How far to move, ``>= 0``.
        """
        seconds = float(seconds)
        if seconds < 0:
            raise ValueError(f"the clock only moves forward; got seconds={seconds}")
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at += seconds
                return self._frozen_at
            self._offset += seconds
            return time.time() + self._offset

    def resume(self) -> float:
        """Let a frozen clock run again from where it stands; return the current simulated time."""
        with self._lock:
            if self._frozen_at is not None:
                self._offset = self._frozen_at - time.time()
                self._frozen_at = None
            return time.time() + self._offset

    def reset(self) -> None:
        """Back to the wall clock, running."""
        with self._lock:
            self._offset = 0.0
            self._frozen_at = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-able state: ``now``, ``frozen``, ``offset``."""
        now = self.now()
        return {"now": now, "frozen": self.frozen, "offset": round(now - time.time(), 6)}

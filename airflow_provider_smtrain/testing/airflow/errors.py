"""The one exception of the real-Airflow harness."""

from __future__ import annotations

__all__ = ["AirflowStackError"]


class AirflowStackError(RuntimeError):
    """Raised when the stack fails to start, or a wait times out; the message carries log tails."""

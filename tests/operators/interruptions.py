"""Airflow's execution timeout fired inside SageMaker SDK calls, the way Airflow fires it.

Airflow's task runner arms :class:`airflow.sdk.execution_time.timeout.TimeoutPosix` around ``execute()``:
a ``SIGALRM`` handler that raises ``AirflowTaskTimeout`` in the main thread, at whatever line runs when
the alarm rings. :func:`armed_execution_timeout` arms that very class; the function it yields rings the
alarm now (``signal.raise_signal``), so the handler raises from the frame that called it: SDK code, or
botocore inside an SDK call (:func:`ring_at_request`).
"""

from __future__ import annotations

import contextlib
import signal
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest


@contextlib.contextmanager
def armed_execution_timeout() -> Iterator[Callable[[], None]]:
    """Arm Airflow's execution timeout (an hour); yield a function that makes it fire at once."""
    from airflow.sdk.execution_time.timeout import TimeoutPosix

    previous = signal.getsignal(signal.SIGALRM)
    pending, _ = signal.getitimer(signal.ITIMER_REAL)  # pytest-timeout's alarm, if it uses one
    started = time.monotonic()
    try:
        with TimeoutPosix(seconds=3600, error_message="Timeout"):
            yield lambda: signal.raise_signal(signal.SIGALRM)
    finally:
        signal.signal(signal.SIGALRM, previous)
        if pending:
            signal.setitimer(signal.ITIMER_REAL, max(pending - (time.monotonic() - started), 0.001))


def ring_at_request(
    monkeypatch: pytest.MonkeyPatch, operation: str, ring: Callable[[], None], *, after_response: bool
) -> None:
    """
    Ring the alarm inside botocore at the first ``operation`` request (before it is sent, or once answered).

    :param monkeypatch: the test's monkeypatch.
    :param operation: the API operation (``PutObject``, ``CreateTrainingJob``...).
    :param ring: what :func:`armed_execution_timeout` yielded.
    :param after_response: ring once the local SageMaker answered (the request was carried out).
    """
    from botocore.endpoint import Endpoint

    original = Endpoint._do_get_response
    rung: list[bool] = []

    def _do_get_response(self: Any, request: Any, operation_model: Any, context: Any) -> Any:
        due = operation_model.name == operation and not rung
        if due and not after_response:
            rung.append(True)
            ring()
        response = original(self, request, operation_model, context)
        if due and after_response:
            rung.append(True)
            ring()
        return response

    monkeypatch.setattr(Endpoint, "_do_get_response", _do_get_response)


def ring_in_sdk(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str, ring: Callable[[], None]) -> None:
    """
    Ring the alarm in SDK code, before ``owner.name`` (a function or classmethod) runs; no request involved.

    :param monkeypatch: the test's monkeypatch.
    :param owner: the SDK module or class.
    :param name: the attribute.
    :param ring: what :func:`armed_execution_timeout` yielded.
    """
    original = getattr(owner, name)

    def _ringing(*args: Any, **kwargs: Any) -> Any:
        ring()
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, _ringing)

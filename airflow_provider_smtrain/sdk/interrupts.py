"""Airflow's interruptions (execution timeout, termination) reach Airflow through SageMaker SDK calls.

**The problem.** The SDK wraps its entry points in a telemetry decorator
(``sagemaker.core.telemetry.telemetry_logging._telemetry_emitter``) that ends with::

    except Exception as e:
        caught_ex = e
    finally:
        if caught_ex:
            raise caught_ex
        return response

A ``BaseException`` that is not an ``Exception`` is never caught, so the ``return`` in ``finally``
discards it and the decorated call returns ``None``. That is Airflow's ``AirflowTaskTimeout`` (raised
by the ``SIGALRM`` handler of ``execution_timeout``, in the main thread, at whatever line runs then),
``AirflowTaskTerminated``, ``KeyboardInterrupt`` (``SIGINT``) and ``SystemExit``. The entry points this
provider calls that carry the decorator: ``ModelTrainer.train``; ``SFTTrainer``/``DPOTrainer``/
``RLAIFTrainer``/``RLVRTrainer``/``MultiTurnRLTrainer.train``; ``BenchMarkEvaluator``/
``CustomScorerEvaluator``/``LLMAsJudgeEvaluator``/``MultiTurnRLEvaluator.evaluate`` (and the evaluators'
``hyperparameters``); ``DataSet.get``, ``Evaluator.get``/``create``; ``AIRHub.upload_to_s3``/
``import_hub_content``; the registry's dataset validation. ``HyperparameterTuner.tune`` carries none
itself but runs the trainer's code. When the decorated call is nested inside other SDK code, the SDK
carries on with ``None``: it may send more requests to AWS, then fail with an unrelated error (or
succeed) while the task runs past its timeout.

**The guard.** Every block of SDK calls runs inside :func:`sdk_call`, which

1. *records* an interruption: when a signal handler raises it (the Python handlers of ``SIGALRM``,
   ``SIGTERM`` and ``SIGINT`` found when the block starts are wrapped for the block, in the main thread,
   where Python runs them), when it passes through any botocore request made in the block, through code
   of ours that runs inside the SDK and is marked with :func:`recording`, or when it leaves the block;
2. *refuses* every botocore request, from any thread, once an interruption is recorded: it raises the
   recorded exception again before anything is sent, so SDK code that carries on after a swallowed
   interruption sends nothing more to AWS (the telemetry sender itself is switched off by the
   credentials scope);
3. *raises it again* when the block ends, whether the block returned or raised something else (such as
   the SDK's error about the ``None`` it got): Airflow receives the very exception it raised.

A record rather than a per-decorator fix: the decorator is applied at import time all over the SDK and
the interruption can land anywhere, so only the signal path and the request path see every case. The
request patch (``botocore.endpoint.Endpoint.make_request``) is process-wide while a block is active;
SDK code only runs inside a credentials scope, and scopes are serialised process-wide.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any

#: Signals whose Python handlers raise Airflow's interruptions (timeout, termination) or KeyboardInterrupt.
SIGNALS = ("SIGALRM", "SIGTERM", "SIGINT")

_LOCK = threading.RLock()
_ACTIVE: list[Guard] = []
_ORIGINAL_MAKE_REQUEST: list[Callable[..., Any]] = []


class Guard:
    """The interruption recorded while one :func:`sdk_call` block runs (``None`` until there is one)."""

    def __init__(self) -> None:
        self.interruption: BaseException | None = None


def is_interruption(err: BaseException) -> bool:
    """
    Whether ``err`` is one the SDK's telemetry decorator swallows (a ``BaseException``, not an ``Exception``).

    :param err: the exception.
    """
    return not isinstance(err, Exception)


def record(err: BaseException) -> None:
    """
    Record ``err`` in every active block when it is an interruption (the first one recorded stays).

    :param err: the exception passing through.
    """
    if not is_interruption(err):
        return
    with _LOCK:
        for guard in _ACTIVE:
            if guard.interruption is None:
                guard.interruption = err


def recorded() -> BaseException | None:
    """The interruption recorded by an active block, if any."""
    with _LOCK:
        return next((guard.interruption for guard in _ACTIVE if guard.interruption is not None), None)


@contextlib.contextmanager
def recording() -> Iterator[None]:
    """Record an interruption raised in the block (for code of ours that runs inside an SDK call)."""
    try:
        yield
    except BaseException as err:
        record(err)
        raise


def _make_request(self: Any, *args: Any, **kwargs: Any) -> Any:
    interruption = recorded()
    if interruption is not None:  # the SDK carries on after swallowing it: send nothing more
        raise interruption
    with recording():
        return _ORIGINAL_MAKE_REQUEST[0](self, *args, **kwargs)


def _patch_requests(stack: contextlib.ExitStack) -> None:
    from botocore.endpoint import Endpoint

    with _LOCK:
        if not _ORIGINAL_MAKE_REQUEST:
            _ORIGINAL_MAKE_REQUEST.append(Endpoint.make_request)
            Endpoint.make_request = _make_request  # type: ignore[method-assign]
            stack.callback(_unpatch_requests)


def _unpatch_requests() -> None:
    from botocore.endpoint import Endpoint

    with _LOCK:
        Endpoint.make_request = _ORIGINAL_MAKE_REQUEST.pop()  # type: ignore[method-assign]


def _recording_handler(handler: Callable[..., Any]) -> Callable[..., Any]:
    def _handler(signum: int, frame: Any) -> Any:
        with recording():
            return handler(signum, frame)

    return _handler


def _restore_handler(signum: int, wrapper: Any, handler: Any) -> None:
    if signal.getsignal(signum) is wrapper:  # replaced in the meantime: leave the newer handler
        signal.signal(signum, handler)


def _wrap_signal_handlers(stack: contextlib.ExitStack) -> None:
    if threading.current_thread() is not threading.main_thread():
        return  # Python runs signal handlers in the main thread only
    for name in SIGNALS:
        signum = getattr(signal, name, None)
        handler = signal.getsignal(signum) if signum is not None else None
        if signum is None or not callable(handler):  # SIG_DFL, SIG_IGN: nothing raises in Python
            continue
        wrapper = _recording_handler(handler)
        signal.signal(signum, wrapper)
        stack.callback(_restore_handler, signum, wrapper, handler)


def _activate(guard: Guard) -> None:
    with _LOCK:
        _ACTIVE.append(guard)


def _deactivate(guard: Guard) -> None:
    with _LOCK:
        _ACTIVE.remove(guard)


@contextlib.contextmanager
def sdk_call() -> Iterator[Guard]:
    """
    Run SDK calls so that an interruption raised in them reaches the caller unchanged (see the module).

    The recorded interruption is raised when the block ends, even if the block returned or raised
    another error after the SDK swallowed it.
    """
    guard = Guard()
    with contextlib.ExitStack() as stack:
        _activate(guard)
        stack.callback(_deactivate, guard)
        _patch_requests(stack)
        _wrap_signal_handlers(stack)
        try:
            yield guard
        except BaseException as err:
            record(err)
            if guard.interruption is None or guard.interruption is err:
                raise
            raise guard.interruption from err
    if guard.interruption is not None:
        raise guard.interruption

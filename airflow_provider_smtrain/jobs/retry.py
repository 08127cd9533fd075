"""Which AWS errors are worth retrying, and how long to wait: shared by triggers and blocking waits."""

from __future__ import annotations

import builtins
import random
from collections.abc import Callable
from typing import Any, TypeVar

from airflow_provider_smtrain.jobs.clock import clock

T = TypeVar("T")

#: How long one read or stop of the job lifecycle keeps retrying throttling, 5xx and network errors
#: before it gives up (a task that cannot tell what its job is doing keeps asking).
CALL_RETRY_SECONDS = 900.0
#: Backoff scale and cap, in seconds, of those retries.
RETRY_BASE_DELAY = 1.0
RETRY_MAX_DELAY = 60.0

#: Error codes that mean "slow down"; always retried with backoff.
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestThrottledException",
        "SlowDown",
        "ProvisionedThroughputExceededException",
    }
)
#: Error codes of transient server-side failures; retried like throttling.
TRANSIENT_CODES = frozenset(
    {"InternalFailure", "InternalServerError", "InternalError", "ServiceUnavailable", "RequestTimeout"}
)


def error_code(err: BaseException) -> str | None:
    """
    The AWS error code of a botocore ``ClientError``, else None.

    :param err: any exception.
    """
    response = getattr(err, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        return str(code) if code is not None else None
    return None


def is_retriable(err: BaseException) -> bool:
    """
    Whether an error from an AWS call is worth retrying: throttling, 5xx, connection errors, timeouts.

    :param err: the exception raised by the aiobotocore call.
    """
    from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

    if isinstance(err, ClientError):
        code = error_code(err)
        status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        return code in THROTTLING_CODES or code in TRANSIENT_CODES or status == 429 or status >= 500
    if isinstance(err, ConnectionError | HTTPClientError | TimeoutError | builtins.ConnectionError):
        return True
    try:
        import aiohttp
    except ImportError:  # pragma: no cover - aiohttp ships with aiobotocore
        return False
    return isinstance(err, aiohttp.ClientError)


def _message(err: BaseException) -> str:
    response = getattr(err, "response", None)
    return str(response.get("Error", {}).get("Message", "")) if isinstance(response, dict) else ""


def is_not_found(err: BaseException) -> bool:
    """
    Whether an AWS error says the job does not exist.

    :param err: any exception.
    """
    code = error_code(err) or ""
    message = _message(err).lower()
    return code in {"ResourceNotFound", "ResourceNotFoundException"} or (
        code == "ValidationException"
        and ("not found" in message or "does not exist" in message or "could not find" in message)
    )


def is_conflict(err: BaseException) -> bool:
    """
    Whether an AWS error says what the call would create exists already (created by another caller).

    :param err: any exception.
    """
    code = error_code(err) or ""
    return code in {"ResourceInUse", "ResourceInUseException", "ConflictException"} or (
        code != "" and "already exists" in _message(err).lower()
    )


def is_not_running(err: BaseException) -> bool:
    """
    Whether a refused Stop* call means there is nothing to stop: the job ended already, or is gone.

    :param err: any exception.
    """
    message = _message(err).lower()
    already_ended = (error_code(err) or "") == "ValidationException" and (
        "status" in message or "already" in message or "not in progress" in message
    )
    return already_ended or is_not_found(err)


def describe_error(err: BaseException) -> str:
    """
    One line naming an exception: ``Code: message`` for AWS errors, ``Type: message`` otherwise.

    :param err: any exception.
    """
    code = error_code(err)
    if code is not None:
        message = getattr(err, "response", {}).get("Error", {}).get("Message") or str(err)
        return f"{code}: {message}"
    return f"{type(err).__name__}: {err}"


def backoff_delay(attempt: int, base: float, cap: float, rng: random.Random | None = None) -> float:
    """
    Exponential backoff with full jitter: uniform in ``[0, min(cap, base * 2 ** (attempt - 1))]``.

    :param attempt: 1 for the first retry.
    :param base: delay scale in seconds.
    :param cap: largest delay in seconds.
    :param rng: random source (tests pass a seeded one).
    """
    upper = min(cap, base * 2.0 ** min(max(attempt - 1, 0), 60))  # no float overflow after ~1000 tries
    return (rng or random).uniform(0, upper)


def call_with_retries(
    call: Callable[[], T],
    *,
    what: str,
    log: Any = None,
    budget_seconds: float = CALL_RETRY_SECONDS,
    not_after: float | None = None,
) -> T:
    """
    Run one AWS call, retrying retriable errors (:func:`is_retriable`) with capped, jittered backoff.

    Non-retriable errors are raised at once. Retriable ones are retried until ``budget_seconds`` have
    passed since the first attempt (or ``not_after``, whichever is first); the last error is raised then.
    Time is read and slept through :func:`~airflow_provider_smtrain.jobs.clock.clock`.

    :param call: the call, without arguments.
    :param what: what the call does, for the log (``"DescribeTrainingJob of train-1"``).
    :param log: where retries are logged.
    :param budget_seconds: how long to keep retrying.
    :param not_after: absolute epoch seconds after which no retry starts.
    """
    started = clock().now()
    give_up = started + budget_seconds if not_after is None else min(started + budget_seconds, not_after)
    attempt = 0
    while True:
        try:
            return call()
        except Exception as err:
            if not is_retriable(err):
                raise
            attempt += 1
            delay = backoff_delay(attempt, RETRY_BASE_DELAY, RETRY_MAX_DELAY)
            if clock().now() + delay > give_up:
                raise
            if log is not None:
                log.warning("%s failed (%s); retry %d in %.1fs", what, describe_error(err), attempt, delay)
            clock().sleep(delay)

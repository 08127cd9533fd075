"""Worker-side calls of the job lifecycle: reads and stops with retry budgets, and the blocking wait.

Every read the lifecycle makes (the first probe, the read after submitting, the read on resume, every
poll) and every stop goes through :func:`~airflow_provider_smtrain.jobs.retry.call_with_retries`:
throttling, 5xx answers, dropped connections and read timeouts are retried with capped backoff, so a
network blip never fails a task whose job runs fine. The blocking wait keeps asking until the task's
deadline: a task that cannot tell what its job is doing does not give up on it.
"""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk.exceptions import AirflowException

from airflow_provider_smtrain.exceptions import SageMakerJobFailed
from airflow_provider_smtrain.jobs.clock import clock
from airflow_provider_smtrain.jobs.kinds import JobKind, Outcome, outcome_of
from airflow_provider_smtrain.jobs.retry import call_with_retries, is_retriable

if TYPE_CHECKING:
    from airflow_provider_smtrain.operators.base import SageMakerJobOperator

#: How long a stop keeps retrying (``on_kill`` runs under the worker's kill grace period).
STOP_RETRY_SECONDS = 60.0
#: The longest the lifecycle waits for a job that is being stopped before it starts the next one.
STOPPING_TIMEOUT = 3600.0


def poll_deadline(
    *, max_wait: float | None, execution_timeout: timedelta | None, start_date: datetime | None
) -> float | None:
    """
    The absolute time (epoch seconds) after which waiting stops, or None.

    :param max_wait: the operator's ``max_wait`` in seconds.
    :param execution_timeout: the task's ``execution_timeout``.
    :param start_date: when the current try started.
    """
    now = clock().now()
    candidates = []
    if max_wait is not None:
        candidates.append(now + max_wait)
    if execution_timeout is not None:
        start = start_date.timestamp() if start_date is not None else now
        candidates.append(start + execution_timeout.total_seconds())
    return min(candidates) if candidates else None


def find_job(operator: SageMakerJobOperator, name: str, kind: JobKind | None = None) -> dict[str, Any] | None:
    """
    Describe the operator's job called ``name`` (None when SageMaker has none), retrying transient errors.

    :param operator: the operator that owns the job.
    :param name: the job name.
    :param kind: the kind of the job when it is not the operator's own (a tuning job's best training job).
    """
    kind = kind or operator.job_kind
    return call_with_retries(
        lambda: operator.hook.find_job(kind, name), what=f"Reading {kind.label} {name}", log=operator.log
    )


def describe_job(operator: SageMakerJobOperator, name: str) -> dict[str, Any]:
    """
    Like :func:`find_job`, but a job that does not exist is an error.

    :param operator: the operator that owns the job.
    :param name: the job name.
    """
    describe = find_job(operator, name)
    if describe is None:
        raise AirflowException(f"SageMaker has no {operator.job_kind.label} {name!r}")
    return describe


def stop_job(operator: SageMakerJobOperator, name: str) -> bool:
    """
    Ask SageMaker to stop the job, retrying transient errors; True when a stop was requested.

    :param operator: the operator that owns the job.
    :param name: the job name.
    """
    kind = operator.job_kind
    return call_with_retries(
        lambda: operator.hook.stop_job(kind, name),
        what=f"Stopping {kind.label} {name}",
        log=operator.log,
        budget_seconds=STOP_RETRY_SECONDS,
    )


def wait_out_stopping(operator: SageMakerJobOperator, name: str, describe: dict[str, Any]) -> dict[str, Any]:
    """
    Wait until a job that is being stopped has stopped; return its last describe.

    :param operator: the operator that owns the job.
    :param name: the job name.
    :param describe: the describe that showed it stopping.
    """
    kind = operator.job_kind
    give_up = clock().now() + STOPPING_TIMEOUT
    while describe.get(kind.status_key) in kind.stopping:
        if clock().now() > give_up:
            raise AirflowException(f"{kind.label} {name} was still stopping after {STOPPING_TIMEOUT:.0f}s")
        operator.log.info("%s %s is stopping; waiting for it to stop", kind.label.capitalize(), name)
        clock().sleep(min(operator.poll_interval, 5.0))
        describe = describe_job(operator, name)
    return describe


def wait_for_job(operator: SageMakerJobOperator, describe: dict[str, Any], deadline: float | None) -> dict[str, Any]:
    """
    Poll the operator's job until it ends or the deadline passes; return the last describe.

    Transient errors (throttling, 5xx, connection errors, timeouts) are retried for as long as the
    deadline allows. At the deadline the job is stopped (when ``stop_job_on_kill``) and the task fails.

    :param operator: the operator that owns the job.
    :param describe: the describe response read before waiting.
    :param deadline: absolute epoch seconds, or None.
    """
    kind = operator.job_kind
    name = describe[kind.name_param]
    last = (describe.get(kind.status_key), describe.get(kind.secondary_status_key or ""))
    while outcome_of(kind, describe.get(kind.status_key)) is Outcome.RUNNING:
        delay = operator.poll_interval * random.uniform(0.9, 1.1)
        if deadline is not None and clock().now() + delay > deadline:
            clock().sleep(deadline - clock().now())
            return at_deadline(operator, name)
        clock().sleep(delay)
        try:
            describe = call_with_retries(
                lambda: operator.hook.describe_job(kind, name),
                what=f"Reading {kind.label} {name}",
                log=operator.log,
                budget_seconds=math.inf,
                not_after=deadline,
            )
        except Exception as err:
            if deadline is not None and is_retriable(err):
                return at_deadline(operator, name)
            raise
        operator.on_poll(describe)
        now = (describe.get(kind.status_key), describe.get(kind.secondary_status_key or ""))
        if now != last:
            operator.log.info("%s %s: %s", kind.label.capitalize(), name, " / ".join(filter(None, now)))
            last = now
    return describe


def at_deadline(operator: SageMakerJobOperator, name: str) -> dict[str, Any]:
    """
    The deadline passed: return the job if it has just ended, else stop it (if asked, and if nobody
    is stopping it already) and fail.

    :param operator: the operator that owns the job.
    :param name: the job name.
    """
    kind = operator.job_kind
    try:
        describe = operator.hook.describe_job(kind, name)  # it may have ended since the last read
    except Exception:
        describe = {}
    if describe and outcome_of(kind, describe.get(kind.status_key)) is not Outcome.RUNNING:
        return describe
    if operator.stop_job_on_kill and describe.get(kind.status_key) not in kind.stopping:
        stop_job(operator, name)
    raise SageMakerJobFailed(f"{kind.label.capitalize()} {name} did not finish before the task's deadline")

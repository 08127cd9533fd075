"""Blocking-mode waiting: the same status logic as the triggers, run in the worker."""

from __future__ import annotations

import random
import time
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from airflow_provider_smtrain.exceptions import SageMakerJobFailed
from airflow_provider_smtrain.jobs.kinds import Outcome, outcome_of
from airflow_provider_smtrain.jobs.retry import backoff_delay, is_retriable

if TYPE_CHECKING:
    from airflow_provider_smtrain.operators.base import SageMakerJobOperator

def poll_deadline(
    *, max_wait: float | None, execution_timeout: timedelta | None, start_date: datetime | None
) -> float | None:
    """
    The absolute time (epoch seconds) after which waiting stops, or None.

    :param max_wait: the operator's ``max_wait`` in seconds.
    :param execution_timeout: the task's ``execution_timeout``.
    :param start_date: when the current try started.
    """
    candidates = []
    if max_wait is not None:
        candidates.append(time.time() + max_wait)
    if execution_timeout is not None:
        start = start_date.timestamp() if start_date is not None else time.time()
        candidates.append(start + execution_timeout.total_seconds())
    return min(candidates) if candidates else None


def wait_for_job(
    operator: SageMakerJobOperator,
    describe: dict[str, Any],
    deadline: float | None,
    max_consecutive_errors: int = 10,
) -> dict[str, Any]:
    """
    Poll the operator's job until it ends or the deadline passes; return the last describe.

    Throttling and 5xx answers are retried with backoff (up to ``max_consecutive_errors`` in a row);
    at the deadline the job is stopped (when ``stop_job_on_kill``) and the task fails.

    :param operator: the operator that owns the job.
    :param describe: the describe response read before waiting.
    :param deadline: absolute epoch seconds, or None.
    :param max_consecutive_errors: retryable errors in a row before giving up.
    """
    kind = operator.job_kind
    name = describe[kind.name_param]
    last = (describe.get(kind.status_key), describe.get(kind.secondary_status_key or ""))
    errors = 0
    while outcome_of(kind, describe.get(kind.status_key)) is Outcome.RUNNING:
        delay = operator.poll_interval * random.uniform(0.9, 1.1)
        if deadline is not None and time.time() + delay > deadline:
            time.sleep(max(deadline - time.time(), 0))
            describe = operator.hook.describe_job(kind, name)  # it may have ended since the last read
            if outcome_of(kind, describe.get(kind.status_key)) is not Outcome.RUNNING:
                break
            if operator.stop_job_on_kill:
                operator.hook.stop_job(kind, name)
            raise SageMakerJobFailed(f"{kind.label.capitalize()} {name} did not finish before the task's deadline")
        time.sleep(delay)
        try:
            describe = operator.hook.describe_job(kind, name)
            errors = 0
        except ClientError as err:
            if not is_retriable(err) or errors >= max_consecutive_errors:
                raise
            errors += 1
            pause = backoff_delay(errors, base=1.0, cap=60.0)
            operator.log.warning("Status read of %s throttled or failed (%s); retrying in %.1fs", name, err, pause)
            time.sleep(pause)
            continue
        operator.on_poll(describe)
        now = (describe.get(kind.status_key), describe.get(kind.secondary_status_key or ""))
        if now != last:
            operator.log.info("%s %s: %s", kind.label.capitalize(), name, " / ".join(filter(None, now)))
            last = now
    return describe

"""How a job operator finds its task instance's job, or submits the next one (see ``operators/base.py``).

These functions are the identity half of the job lifecycle: they read the identity persisted in
``task_state_store`` (:mod:`airflow_provider_smtrain.jobs.identity`), probe SageMaker for the current
generation, decide between re-attaching, returning a finished job's result and starting a new
generation, persist the identity before submitting, and reconcile a failed submission with what
SageMaker actually has. Only
:class:`~airflow_provider_smtrain.operators.base.SageMakerJobOperator` calls them.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from airflow.sdk.exceptions import AirflowException

from airflow_provider_smtrain.exceptions import TriggerEventError
from airflow_provider_smtrain.jobs.clock import clock
from airflow_provider_smtrain.jobs.identity import (
    IDENTITY_RETENTION,
    STATE_KEY,
    JobIdentity,
    cleared_since,
    max_tries_of,
    new_token,
)
from airflow_provider_smtrain.jobs.kinds import Outcome, outcome_of
from airflow_provider_smtrain.jobs.naming import generation_of, job_name, task_instance_key
from airflow_provider_smtrain.jobs.retry import is_retriable
from airflow_provider_smtrain.operators.waiting import describe_job, find_job, stop_job, wait_out_stopping

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_smtrain.operators.base import SageMakerJobOperator

#: How many failed generations one try skips over before giving up (a misconfigured job loop guard).
MAX_GENERATIONS = 1000
#: After a submission broke on the wire, how often and how far apart SageMaker is asked again whether
#: the job exists before the try concludes that nothing was created.
RECONCILE_LOOKS = 3
RECONCILE_INTERVAL = 10.0


def saved_identity(context: Context) -> JobIdentity | None:
    """The job identity this task instance persisted, if any (and if the store is available)."""
    store = context.get("task_state_store")
    return JobIdentity.from_state(store.get(STATE_KEY)) if store is not None else None


def ti_key(op: SageMakerJobOperator, context: Context, token: str) -> str:
    ti = context["ti"]
    map_index = getattr(ti, "map_index", -1)
    return task_instance_key(ti.dag_id, ti.task_id, ti.run_id, -1 if map_index is None else map_index, token)


def owned_job_name(op: SageMakerJobOperator, context: Context, event_job_name: str) -> str:
    saved = saved_identity(context)
    if saved is not None:
        owned = saved.job_name == event_job_name
    else:
        owned = generation_of(event_job_name, ti_key(op, context, "")) is not None
    if not owned:
        raise TriggerEventError(
            f"Trigger event names {op.job_kind.label} {event_job_name!r}, which this task instance "
            f"does not own" + (f" (it owns {saved.job_name!r})" if saved else "")
        )
    return event_job_name


def attach_or_submit(op: SageMakerJobOperator, spec: Any, context: Context) -> dict[str, Any]:
    store = context.get("task_state_store")
    saved = saved_identity(context)
    max_tries = max_tries_of(context.get("ti"))
    token = saved.token if saved else (new_token() if store is not None else "")
    identity = saved or JobIdentity("", 1, op.job_kind.name, token, max_tries)
    key = ti_key(op, context, token)
    prefix = op.name_prefix(spec)

    def name_of(generation: int) -> str:
        # The stored name wins over a freshly derived one: a changed prefix must not start a twin.
        if saved and saved.generation == generation:
            return saved.job_name
        return job_name(op.job_kind, prefix, key, generation)

    def identity_of(name: str, generation: int) -> JobIdentity:
        # An ARN already recorded for this very job is kept (no second store write to restore it).
        arn = saved.arn if saved and saved.job_name == name else None
        return JobIdentity(name, generation, op.job_kind.name, token, max_tries, arn)

    generation = identity.generation
    if saved is not None and cleared_since(saved, context.get("ti")):
        generation, running = run_again_after_clear(op, saved)
        if running is not None:  # stop_job_on_kill=False: the cleared task adopts its running job
            remember(op, store, identity_of(saved.job_name, generation))
            return found(op, running, context, Outcome.RUNNING)
    elif saved is not None or store is None:
        for _ in range(MAX_GENERATIONS):
            name = name_of(generation)
            describe = find_job(op, name)
            if describe is None:
                break
            describe = wait_out_stopping(op, name, describe)
            outcome = outcome_of(op.job_kind, describe.get(op.job_kind.status_key))
            if outcome in (Outcome.RUNNING, Outcome.SUCCEEDED):
                remember(op, store, identity_of(name, generation))
                return found(op, describe, context, outcome)
            op.log.info(
                "%s %s ended %s (%s); starting generation %d",
                op.job_kind.label.capitalize(), name, describe.get(op.job_kind.status_key),
                op.job_kind.failure_reason(describe) or "no reason given", generation + 1,
            )
            generation += 1
        else:
            raise AirflowException(f"{MAX_GENERATIONS} failed generations of {op.job_kind.label}; giving up")
    name = name_of(generation)
    remember(op, store, identity_of(name, generation))
    return submit(op, spec, name, context)


def run_again_after_clear(op: SageMakerJobOperator, saved: JobIdentity) -> tuple[int, dict[str, Any] | None]:
    """
    The task was cleared since the stored job started: the user asked to run again.

    The job of before the clear is stopped if it still runs (the old try's ``on_kill`` may not
    have done it yet). Returns the generation the cleared task submits, and the describe of a running
    job to re-attach to instead when ``stop_job_on_kill`` is False.
    """
    describe = find_job(op, saved.job_name)
    if describe is None:
        return saved.generation, None  # never submitted: its name is still free
    running = outcome_of(op.job_kind, describe.get(op.job_kind.status_key)) is Outcome.RUNNING
    if running and describe.get(op.job_kind.status_key) not in op.job_kind.stopping:
        if not op.stop_job_on_kill:
            return saved.generation, describe
        op.log.info("The task was cleared: stopping %s %s before running again",
                      op.job_kind.label, saved.job_name)
        stop_job(op, saved.job_name)
        describe = describe_job(op, saved.job_name)
    wait_out_stopping(op, saved.job_name, describe)
    op.log.info("The task was cleared since %s %s ran; starting generation %d",
                  op.job_kind.label, saved.job_name, saved.generation + 1)
    return saved.generation + 1, None


def submit(op: SageMakerJobOperator, spec: Any, name: str, context: Context) -> dict[str, Any]:
    """Submit, then reconcile: a job that exists although the submission failed is ours to attach."""
    op.log.info("Submitting %s %s", op.job_kind.label, name)
    op.hook.default_bucket = op.default_bucket or op.staging_bucket(spec)
    try:
        op.submit_job(spec, name, context)
    except Exception as err:
        describe = find_job(op, name)
        for _ in range(RECONCILE_LOOKS if describe is None and is_retriable(err) else 0):
            clock().sleep(RECONCILE_INTERVAL)  # a create still in flight when the connection broke
            describe = find_job(op, name)
            if describe is not None:
                break
        if describe is None:
            raise
        op.log.warning(
            "Submitting %s %s reported %s, but SageMaker has the job (%s): attaching to it",
            op.job_kind.label, name, type(err).__name__, describe.get(op.job_kind.status_key),
        )
    else:
        describe = describe_job(op, name)
    return found(op, describe, context, None)


def found(op: SageMakerJobOperator, describe: dict[str, Any], context: Context, outcome: Outcome | None) -> dict[str, Any]:
    if outcome is not None:
        op.log.info(
            "Found this task instance's %s %s (%s): %s, no new job submitted",
            op.job_kind.label, op._job_name, describe.get(op.job_kind.status_key),
            "re-attaching" if outcome is Outcome.RUNNING else "returning its result",
        )
    record_arn(op, describe, context)
    op.on_job_found(describe, context)
    return describe


def record_arn(op: SageMakerJobOperator, describe: dict[str, Any], context: Context) -> None:
    """Add the job's ARN to the persisted identity once SageMaker has answered with it."""
    arn = describe.get(op.job_kind.arn_key) if op.job_kind.arn_key else None
    store = context.get("task_state_store")
    saved = saved_identity(context)
    if arn and store is not None and saved is not None and saved.job_name == op._job_name and saved.arn != arn:
        remember(op, store, dataclasses.replace(saved, arn=str(arn)))


def remember(op: SageMakerJobOperator, store: Any, identity: JobIdentity) -> None:
    op._job_name = identity.job_name
    if store is not None:
        store.set(STATE_KEY, identity.to_state(), retention=IDENTITY_RETENTION)


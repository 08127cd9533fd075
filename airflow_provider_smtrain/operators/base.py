"""The one job lifecycle every job operator shares: submit, persist identity, defer or poll, resume, stop, result.

A concrete operator only says how to build its spec (:meth:`~SageMakerSdkOperator.build_spec`), how to
start a job from it with the SDK (:meth:`SageMakerJobOperator.submit_job`) and how to turn the final
describe into its documented result (:meth:`~SageMakerJobOperator.job_result`).

Identity (:mod:`airflow_provider_smtrain.jobs.identity`). Each task instance owns a sequence of job
*generations* whose names hash the task instance and a random token kept in ``task_state_store``. The
generation about to be submitted is written to the store **before** the SDK is called, so no crash
window exists in which a job runs that the next try cannot find. On every try the operator reads its
current generation:

* not found → submit it (a submission that fails is reconciled with what SageMaker has: a job created
  although its response was lost is attached to, not submitted again);
* running → re-attach, never submit; stopping → wait until it stopped, then as below;
* completed → return its result without submitting;
* failed or stopped → start the next generation.

A try that follows a user's clear (a new *epoch*) always runs a new generation: the job of the
previous epoch is stopped if it still runs (unless ``stop_job_on_kill=False``, which re-attaches).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.sdk.exceptions import TaskDeferralError, TaskDeferralTimeout

from airflow_provider_smtrain.config import default_deferrable
from airflow_provider_smtrain.exceptions import SageMakerJobFailed, TriggerEventError
from airflow_provider_smtrain.jobs.clock import clock
from airflow_provider_smtrain.jobs.identity import (
    STATE_KEY,
    JobIdentity,
    is_last_try,
)
from airflow_provider_smtrain.jobs.kinds import JobKind, Outcome, failure_message, outcome_of
from airflow_provider_smtrain.operators.attach import (
    MAX_GENERATIONS,
    attach_or_submit,
    owned_job_name,
    saved_identity,
)
from airflow_provider_smtrain.operators.events import check_event, check_event_shape
from airflow_provider_smtrain.operators.sdk_operator import SageMakerSdkOperator
from airflow_provider_smtrain.operators.waiting import (
    at_deadline,
    describe_job,
    poll_deadline,
    stop_job,
    wait_for_job,
)

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_smtrain.links.base import ConsoleLink
    from airflow_provider_smtrain.triggers.base import SageMakerJobTrigger

__all__ = ["MAX_GENERATIONS", "STATE_KEY", "SageMakerJobOperator"]

class SageMakerJobOperator(SageMakerSdkOperator):
    """
    Base class of operators that run one SageMaker job per task instance.

    :param deferrable: wait in the triggerer; default ``[smtrain] default_deferrable`` (True).
    :param wait_for_completion: wait until the job ends; when False the task returns once the job runs.
    :param poll_interval: seconds between status reads while waiting.
    :param max_wait: the longest the task waits for the job (seconds or timedelta); None waits as
        long as the job runs. The task's ``execution_timeout`` is honoured too, in both modes.
    :param stop_job_on_kill: stop the remote job when the task is killed, marked failed, cleared
        or times out, or fails for good while its job runs (never on a triggerer restart).
    :param job_name_prefix: readable start of the generated job names (default: the base job name or
        the task id); the rest is a digest of the task instance and a generation number.
    """

    job_kind: ClassVar[JobKind]
    job_link: ClassVar[type[ConsoleLink]]
    template_fields: Sequence[str] = (*SageMakerSdkOperator.template_fields, "job_name_prefix")
    ui_color = "#c7e9f1"

    def __init__(
        self,
        *,
        deferrable: bool | None = None,
        wait_for_completion: bool = True,
        poll_interval: float = 30,
        max_wait: timedelta | float | None = None,
        stop_job_on_kill: bool = True,
        job_name_prefix: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if float(poll_interval) <= 0:
            raise ValueError(f"poll_interval: must be a positive number of seconds (got {poll_interval!r})")
        if isinstance(max_wait, timedelta):
            max_wait = max_wait.total_seconds()
        if max_wait is not None and float(max_wait) <= 0:
            raise ValueError(f"max_wait: must be a positive number of seconds or None (got {max_wait!r})")
        self.deferrable = default_deferrable() if deferrable is None else deferrable
        self.wait_for_completion = wait_for_completion
        self.poll_interval = float(poll_interval)
        self.max_wait = None if max_wait is None else float(max_wait)
        self.stop_job_on_kill = stop_job_on_kill
        self.job_name_prefix = job_name_prefix
        self._job_name: str | None = None

    # -- what concrete operators provide ------------------------------------------------------------

    def submit_job(self, spec: Any, name: str, context: Context) -> None:
        """
        Start the job called ``name`` with the SDK; do not wait.

        :param spec: the validated spec.
        :param name: the job name to use.
        :param context: the task context.
        """
        raise NotImplementedError

    def job_result(self, describe: dict[str, Any]) -> dict[str, Any]:
        """
        The documented JSON result of a finished (or, without waiting, a running) job.

        :param describe: the final describe response.
        """
        raise NotImplementedError

    def name_prefix(self, spec: Any) -> str:
        """
        The readable start of the job name.

        :param spec: the validated spec.
        """
        return self.job_name_prefix or self.task_id

    def staging_bucket(self, spec: Any) -> str | None:
        """
        The S3 bucket the SDK stages code in when ``default_bucket`` is not given.

        :param spec: the validated spec.
        """
        return None

    def on_job_found(self, describe: dict[str, Any], context: Context) -> None:
        """
        Hook for subclasses: called once per try with the first describe of the job.

        :param describe: the describe response.
        :param context: the task context.
        """

    def on_poll(self, describe: dict[str, Any]) -> None:
        """
        Hook for subclasses: called in blocking mode after every status read.

        :param describe: the describe response.
        """

    def after_wait(self, describe: dict[str, Any]) -> None:
        """
        Hook for subclasses: called in the worker after a deferred wait, before the result.

        :param describe: the final describe response.
        """

    # -- lifecycle ----------------------------------------------------------------------------------

    def execute(self, context: Context) -> dict[str, Any]:
        """Run, re-attach to, or return the result of this task instance's job."""
        spec = self._spec  # validation first: nothing is created for bad input
        self.hook.require_region()  # a missing region is bad input too, reported before any AWS call
        try:
            describe = attach_or_submit(self, spec, context)
            self._persist_links(context)
            if not self.wait_for_completion:
                return self.job_result(describe)
            return self._wait_and_finish(describe, context)
        except (SageMakerJobFailed, TriggerEventError):
            raise  # the job ended, or was stopped at the deadline
        except Exception:
            self._stop_if_last_try(context)  # nobody would come back for a job left running
            raise

    def execute_complete(
        self, context: Context, event: dict[str, Any] | None = None, deadline: float | None = None
    ) -> dict[str, Any]:
        """
        Resume after the trigger fired: check the event, re-read the job, then return its result.

        An ``error`` event (the trigger could not read the job) is not the job's failure: the job is
        read again, and waited for in the worker if it still runs.

        :param context: the task context.
        :param event: the trigger event payload.
        :param deadline: the deadline the task deferred with (absolute epoch seconds), so that waiting
            again after this resume does not restart ``max_wait``; None recomputes it.
        """
        check_event_shape(event, self.job_kind)
        assert event is not None
        self._job_name = owned_job_name(self, context, event["job_name"])
        try:
            describe = describe_job(self, self._job_name)
            self.after_wait(describe)
            describe = self._settle_after_event(event, describe, self._resumed_deadline(deadline, context))
            outcome = outcome_of(self.job_kind, describe.get(self.job_kind.status_key))
            if outcome is not Outcome.SUCCEEDED and event["status"] in ("failed", "stopped", "deadline"):
                check_event(event, self.job_kind)  # the event says why (the deadline, the reason)
            return self._finish(outcome, describe)
        except (SageMakerJobFailed, TriggerEventError):
            raise
        except Exception:
            self._stop_if_last_try(context)
            raise

    def _settle_after_event(
        self, event: dict[str, Any], describe: dict[str, Any], deadline: float | None
    ) -> dict[str, Any]:
        """
        The job's describe once the event is acted on; the job's own state decides, not the event.

        A job that completed is a success whatever the event says. One that still runs after a
        ``deadline`` event is stopped now (the trigger's stop may have failed); after an ``error``
        event it is waited for in the worker; after any other event (fired early) the task defers again.
        """
        if outcome_of(self.job_kind, describe.get(self.job_kind.status_key)) is not Outcome.RUNNING:
            return describe
        assert self._job_name is not None
        status = describe.get(self.job_kind.status_key)
        if event["status"] == "deadline":
            if status in self.job_kind.stopping:
                return describe  # the trigger's stop went through
            return at_deadline(self, self._job_name)
        if event["status"] == "error":
            self.log.warning("The triggerer could not follow %s %s (%s); waiting for it in the worker",
                             self.job_kind.label, self._job_name, event.get("message"))
            return self._wait_blocking(describe, deadline)
        self.log.warning("%s %s is still %s after the trigger fired; waiting again",
                         self.job_kind.label.capitalize(), self._job_name, status)
        self._defer(deadline)
        raise AssertionError("unreachable: defer() raises TaskDeferred")

    def resume_execution(self, next_method: str, next_kwargs: dict[str, Any] | None, context: Context) -> Any:
        """
        Resume after deferral; when the deferral itself failed (triggerer down past the timeout, trigger
        crashed), stop the job on the task's last try so nothing is left running.

        :param next_method: the method to resume in, or Airflow's failure marker.
        :param next_kwargs: its keyword arguments.
        :param context: the task context.
        """
        try:
            return super().resume_execution(next_method, next_kwargs, context)
        except (TaskDeferralError, TaskDeferralTimeout):
            self._stop_if_last_try(context)
            raise

    def on_kill(self) -> None:
        """Stop the remote job when the task is killed, marked failed or times out (blocking mode)."""
        if self.stop_job_on_kill and self._job_name:
            self.log.info("Task killed: stopping %s %s", self.job_kind.label, self._job_name)
            stop_job(self, self._job_name)

    # -- steps --------------------------------------------------------------------------------------

    def _wait_and_finish(self, describe: dict[str, Any], context: Context) -> dict[str, Any]:
        if outcome_of(self.job_kind, describe.get(self.job_kind.status_key)) is Outcome.RUNNING:
            deadline = self._deadline(context)
            if self.deferrable:
                self._defer(deadline)
            describe = self._wait_blocking(describe, deadline)
        return self._finish(outcome_of(self.job_kind, describe.get(self.job_kind.status_key)), describe)

    def _wait_blocking(self, describe: dict[str, Any], deadline: float | None) -> dict[str, Any]:
        return wait_for_job(self, describe, deadline)

    def _stop_if_last_try(self, context: Context) -> None:
        """A task that fails for good while its job runs stops the job (no later try will attach)."""
        saved = self._saved_identity_quietly(context)
        name = self._job_name or (saved.job_name if saved else None)
        if not (self.stop_job_on_kill and name and is_last_try(context.get("ti"), self.retries or 0)):
            return
        try:
            stop_job(self, name)
        except Exception:
            self.log.exception("Could not stop %s %s", self.job_kind.label, name)

    @staticmethod
    def _saved_identity_quietly(context: Context) -> JobIdentity | None:
        try:
            return saved_identity(context)
        except Exception:
            return None

    def _persist_links(self, context: Context) -> None:
        self.persist_job_link(self.job_link, context)
        context["ti"].xcom_push(key="job_name", value=self._job_name)

    def persist_job_link(self, link: type[ConsoleLink], context: Context) -> None:
        """
        Persist ``link`` to this try's job (named by its job name), in the task's region and partition.

        :param link: a link class that takes ``job_name`` (the job's console page, its logs).
        :param context: the task context.
        """
        assert self._job_name is not None
        link.persist(
            context=context,
            operator=self,
            region_name=self.region,
            aws_partition=self.hook.sagemaker_client.meta.partition,
            job_name=self._job_name,
        )

    def _deadline(self, context: Context) -> float | None:
        return poll_deadline(
            max_wait=self.max_wait,
            execution_timeout=self.execution_timeout,
            start_date=getattr(context.get("ti"), "start_date", None),
        )

    def _resumed_deadline(self, deadline: float | None, context: Context) -> float | None:
        return deadline if deadline is not None else self._deadline(context)

    def _defer(self, deadline: float | None) -> None:
        assert self._job_name is not None
        self.log.info("Deferring: the triggerer now polls %s %s", self.job_kind.label, self._job_name)
        timeout = None if deadline is None else timedelta(seconds=max(deadline - clock().now(), 0) + 300)
        self.defer(
            trigger=self.make_trigger(deadline),
            method_name="execute_complete",
            kwargs={"deadline": deadline},
            timeout=timeout,
        )

    def make_trigger(self, deadline: float | None) -> SageMakerJobTrigger:
        """
        The trigger that waits for this operator's job.

        :param deadline: absolute epoch seconds after which the trigger gives up, or None.
        """
        from airflow_provider_smtrain.triggers import trigger_for_task

        assert self._job_name is not None
        return trigger_for_task(
            self,
            self.job_kind,
            job_name=self._job_name,
            region_name=self.region,
            poll_interval=self.poll_interval,
            deadline=deadline,
            stop_on_deadline=self.stop_job_on_kill,
            stop_on_kill=self.stop_job_on_kill,
        )

    def _finish(self, outcome: Outcome, describe: dict[str, Any]) -> dict[str, Any]:
        if outcome is Outcome.SUCCEEDED:
            return self.job_result(describe)
        status = describe.get(self.job_kind.status_key)
        raise SageMakerJobFailed(
            failure_message(self.job_kind, self._job_name, status, self.job_kind.failure_reason(describe))
        )

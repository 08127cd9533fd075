"""The one job lifecycle every job operator shares: submit, persist identity, defer or poll, resume, stop, result.

A concrete operator only says how to build its spec (:meth:`SageMakerJobOperator.build_spec`), how to
start a job from it with the SDK (:meth:`~SageMakerJobOperator.submit_job`) and how to turn the final
describe into its documented result (:meth:`~SageMakerJobOperator.job_result`).

Identity. Each task instance owns a sequence of job *generations* with deterministic names
(:func:`~airflow_provider_smtrain.jobs.naming.job_name`). The generation about to be submitted is
written to ``task_state_store`` **before** the SDK is called, so no crash window exists in which a job
runs that the next try cannot find. On every try the operator probes its current generation:

* not found → submit it;
* running (``InProgress``, ``Stopping``) → re-attach, never submit;
* completed → return its result without submitting;
* failed or stopped → start the next generation.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.providers.amazon.aws.links.base_aws import BaseAwsLink
from airflow.providers.amazon.aws.operators.base_aws import AwsBaseOperator
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields
from airflow.sdk.exceptions import AirflowException, TaskDeferralError, TaskDeferralTimeout

from airflow_provider_smtrain.exceptions import SageMakerJobFailed, TriggerEventError
from airflow_provider_smtrain.hooks.sagemaker_train import SageMakerTrainHook
from airflow_provider_smtrain.jobs.kinds import JobKind, Outcome, outcome_of
from airflow_provider_smtrain.jobs.naming import job_name, task_instance_key
from airflow_provider_smtrain.operators.defaults import default_deferrable
from airflow_provider_smtrain.operators.events import check_event, check_event_shape
from airflow_provider_smtrain.operators.waiting import poll_deadline, wait_for_job

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_smtrain.triggers.base import SageMakerJobTrigger

#: task_state_store key holding the job identity of the current task instance.
STATE_KEY = "smtrain_job"
#: How many failed generations one try skips over before giving up (a misconfigured job loop guard).
MAX_GENERATIONS = 1000


class SageMakerJobOperator(AwsBaseOperator[SageMakerTrainHook]):
    """
    Base class of operators that run one SageMaker job per task instance.

    :param aws_conn_id: the Airflow ``aws`` connection (credentials, region, endpoint, assume-role).
    :param region_name: AWS region; overrides the connection's region.
    :param verify: whether to verify SSL certificates, or a CA bundle path.
    :param botocore_config: botocore client configuration as a dict.
    :param deferrable: wait in the triggerer; default ``[smtrain] default_deferrable`` (True).
    :param wait_for_completion: wait until the job ends; when False the task returns once the job runs.
    :param poll_interval: seconds between status reads while waiting.
    :param max_wait: the longest the task waits for the job (seconds or timedelta); None waits as
        long as the job runs. The task's ``execution_timeout`` is honoured too, in both modes.
    :param stop_job_on_kill: stop the remote job when the task is killed, marked failed, cleared
        or times out (never on a triggerer restart).
    :param job_name_prefix: readable start of the generated job names (default: the base job name or
        the task id); the rest is a digest of the task instance and a generation number.
    :param default_bucket: S3 bucket the SDK stages code in; default: the bucket of the output path.
    """

    aws_hook_class = SageMakerTrainHook
    job_kind: ClassVar[JobKind]
    job_link: ClassVar[type[BaseAwsLink]]
    template_fields: Sequence[str] = aws_template_fields("job_name_prefix", "default_bucket")
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
        default_bucket: str | None = None,
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
        self.default_bucket = default_bucket
        self._job_name: str | None = None

    # -- what concrete operators provide ------------------------------------------------------------

    def build_spec(self) -> Any:
        """Validate the rendered arguments into the operator's spec; raise before any AWS call."""
        raise NotImplementedError

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

    # -- hook ---------------------------------------------------------------------------------------

    @property
    def _hook_parameters(self) -> dict[str, Any]:
        return {**super()._hook_parameters, "default_bucket": self.default_bucket}

    @cached_property
    def _spec(self) -> Any:
        return self.build_spec()

    @property
    def region(self) -> str:
        """The region the job runs in (the operator's, else the connection's); a clear error if neither."""
        return self.hook.require_region()

    # -- lifecycle ----------------------------------------------------------------------------------

    def execute(self, context: Context) -> dict[str, Any]:
        """Run, re-attach to, or return the result of this task instance's job."""
        spec = self._spec  # validation first: nothing is created for bad input
        self.region  # noqa: B018 - a missing region is bad input too, reported before any AWS call
        describe = self._attach_or_submit(spec, context)
        self._persist_links(context)
        if not self.wait_for_completion:
            return self.job_result(describe)
        outcome = outcome_of(self.job_kind, describe.get(self.job_kind.status_key))
        if outcome is Outcome.RUNNING:
            deadline = self._deadline(context)
            if self.deferrable:
                self._defer(deadline)
            try:
                describe = wait_for_job(self, describe, deadline)
            except SageMakerJobFailed:
                raise  # the job ended, or was stopped at the deadline
            except Exception:
                self._stop_if_last_try(context)  # waiting broke down; nobody would come back for the job
                raise
            outcome = outcome_of(self.job_kind, describe.get(self.job_kind.status_key))
        return self._finish(outcome, describe)

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        """
        Resume after the trigger fired: check the event, then return the job's result.

        :param context: the task context.
        :param event: the trigger event payload.
        """
        check_event_shape(event, self.job_kind)
        assert event is not None
        self._job_name = self._owned_job_name(context, event["job_name"])
        try:
            describe = self.hook.describe_job(self.job_kind, self._job_name)
        except Exception:
            check_event(event, self.job_kind)  # the event's own failure explains more than the read
            raise
        self.after_wait(describe)
        check_event(event, self.job_kind)
        outcome = outcome_of(self.job_kind, describe.get(self.job_kind.status_key))
        if outcome is Outcome.RUNNING:
            self.log.warning("%s %s is still %s after the trigger fired; waiting again",
                             self.job_kind.label.capitalize(), self._job_name,
                             describe.get(self.job_kind.status_key))
            self._defer(self._deadline(context))
        return self._finish(outcome, describe)

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

    def on_kill(self) -> None:
        """Stop the remote job when the task is killed, marked failed or times out (blocking mode)."""
        if self.stop_job_on_kill and self._job_name:
            self.log.info("Task killed: stopping %s %s", self.job_kind.label, self._job_name)
            self.hook.stop_job(self.job_kind, self._job_name)

    # -- steps --------------------------------------------------------------------------------------

    @staticmethod
    def _saved_identity(context: Context) -> dict[str, Any] | None:
        """The job identity this task instance persisted, if any (and if the store is available)."""
        store = context.get("task_state_store")
        saved = store.get(STATE_KEY) if store is not None else None
        return saved if isinstance(saved, dict) and "generation" in saved else None

    def _owned_job_name(self, context: Context, event_job_name: str) -> str:
        saved = self._saved_identity(context)
        if saved and saved.get("job_name") and saved["job_name"] != event_job_name:
            raise TriggerEventError(
                f"Trigger event names {self.job_kind.label} {event_job_name!r}, but this task instance "
                f"owns {saved['job_name']!r}"
            )
        return event_job_name

    def _stop_if_last_try(self, context: Context) -> None:
        """A task that fails for good while its job runs stops the job (no later try will attach)."""
        ti = context.get("ti")
        last_try = ti is None or int(getattr(ti, "try_number", 1)) > int(self.retries or 0)
        saved = self._saved_identity(context) or {}
        name = self._job_name or saved.get("job_name")
        if not (last_try and self.stop_job_on_kill and name):
            return
        try:
            self.hook.stop_job(self.job_kind, str(name))
        except Exception:
            self.log.exception("Could not stop %s %s", self.job_kind.label, name)

    def _wait_out_stopping(self, name: str, describe: dict[str, Any], timeout: float = 900) -> dict[str, Any]:
        """A job that is being stopped cannot be re-attached to: wait until it has stopped."""
        deadline = time.time() + timeout
        while describe.get(self.job_kind.status_key) in self.job_kind.stopping:
            if time.time() > deadline:
                raise AirflowException(f"{self.job_kind.label} {name} was still stopping after {timeout:.0f}s")
            self.log.info("%s %s is stopping; waiting for it to stop", self.job_kind.label.capitalize(), name)
            time.sleep(min(self.poll_interval, 5.0))
            describe = self.hook.describe_job(self.job_kind, name)
        return describe

    def _attach_or_submit(self, spec: Any, context: Context) -> dict[str, Any]:
        ti = context["ti"]
        map_index = getattr(ti, "map_index", -1)
        ti_key = task_instance_key(ti.dag_id, ti.task_id, ti.run_id, -1 if map_index is None else map_index)
        store = context.get("task_state_store")
        saved = self._saved_identity(context)
        generation = int(str(saved["generation"])) if saved else 1
        store_cleared = store is not None and saved is None
        prefix = self.name_prefix(spec)

        for _ in range(MAX_GENERATIONS):
            # The stored name wins over a freshly derived one: a changed prefix must not start a twin.
            if saved and int(str(saved["generation"])) == generation and saved.get("job_name"):
                name = str(saved["job_name"])
            else:
                name = job_name(self.job_kind, prefix, ti_key, generation)
            describe = self.hook.find_job(self.job_kind, name)
            if describe is None:
                break
            describe = self._wait_out_stopping(name, describe)
            outcome = outcome_of(self.job_kind, describe.get(self.job_kind.status_key))
            if outcome is Outcome.RUNNING or (outcome is Outcome.SUCCEEDED and not store_cleared):
                self.log.info(
                    "Found this task instance's %s %s (%s): %s, no new job submitted",
                    self.job_kind.label,
                    name,
                    describe.get(self.job_kind.status_key),
                    "re-attaching" if outcome is Outcome.RUNNING else "returning its result",
                )
                self._remember(store, name, generation)
                self.on_job_found(describe, context)
                return describe
            self.log.info(
                "%s %s ended %s (%s); starting generation %d",
                self.job_kind.label.capitalize(),
                name,
                describe.get(self.job_kind.status_key),
                describe.get("FailureReason") or "no reason given",
                generation + 1,
            )
            generation += 1
        else:
            raise AirflowException(f"{MAX_GENERATIONS} failed generations of {self.job_kind.label}; giving up")

        self._remember(store, name, generation)  # before submitting: the next try will look for it
        self.log.info("Submitting %s %s", self.job_kind.label, name)
        self.hook.default_bucket = self.default_bucket or self.staging_bucket(spec)
        self.submit_job(spec, name, context)
        describe = self.hook.describe_job(self.job_kind, name)
        self.on_job_found(describe, context)
        return describe

    def _remember(self, store: Any, name: str, generation: int) -> None:
        self._job_name = name
        if store is not None:
            store.set(STATE_KEY, {"job_name": name, "generation": generation, "kind": self.job_kind.name})

    def _persist_links(self, context: Context) -> None:
        assert self._job_name is not None
        self.job_link.persist(
            context=context,
            operator=self,
            region_name=self.region,
            aws_partition=self.hook.sagemaker_client.meta.partition,
            job_name=self._job_name,
        )
        context["ti"].xcom_push(key="job_name", value=self._job_name)

    def _deadline(self, context: Context) -> float | None:
        return poll_deadline(
            max_wait=self.max_wait,
            execution_timeout=self.execution_timeout,
            start_date=getattr(context.get("ti"), "start_date", None),
        )

    def _defer(self, deadline: float | None) -> None:
        assert self._job_name is not None
        self.log.info("Deferring: the triggerer now polls %s %s", self.job_kind.label, self._job_name)
        timeout = None if deadline is None else timedelta(seconds=max(deadline - time.time(), 0) + 300)
        self.defer(trigger=self.make_trigger(deadline), method_name="execute_complete", timeout=timeout)

    def make_trigger(self, deadline: float | None) -> SageMakerJobTrigger:
        """
        The trigger that waits for this operator's job.

        :param deadline: absolute epoch seconds after which the trigger gives up, or None.
        """
        from airflow_provider_smtrain.triggers import trigger_for

        assert self._job_name is not None
        return trigger_for(
            self.job_kind,
            job_name=self._job_name,
            aws_conn_id=self.aws_conn_id,
            region_name=self.region,
            verify=self.verify,
            botocore_config=self.botocore_config,
            poll_interval=self.poll_interval,
            deadline=deadline,
            stop_on_deadline=self.stop_job_on_kill,
            stop_on_kill=self.stop_job_on_kill,
        )

    def _finish(self, outcome: Outcome, describe: dict[str, Any]) -> dict[str, Any]:
        if outcome is Outcome.SUCCEEDED:
            return self.job_result(describe)
        name = self._job_name
        status = describe.get(self.job_kind.status_key)
        reason = describe.get("FailureReason") or "no failure reason given"
        raise SageMakerJobFailed(f"SageMaker {self.job_kind.label} {name} ended {status}: {reason}")

"""The one trigger that waits for a SageMaker job: poll, judge, back off, stop on deadline or kill."""

from __future__ import annotations

import math
import random
import time
from collections.abc import AsyncIterator
from typing import Any, ClassVar

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_smtrain.jobs.clock import clock
from airflow_provider_smtrain.jobs.kinds import JobKind, Outcome, get_kind, outcome_of
from airflow_provider_smtrain.jobs.retry import backoff_delay, describe_error, is_not_running, is_retriable
from airflow_provider_smtrain.triggers.clients import POOL
from airflow_provider_smtrain.triggers.coalesced import coalesces, wait_shared

#: Retries of a Stop* call (it must fit in the triggerer's ``on_kill_timeout``).
STOP_RETRIES = 3


class _CallFailed(Exception):
    """An AWS call failed for good (non-retriable, or retries exhausted)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class _DeadlineReached(Exception):
    """The deadline passed while retrying."""


class SageMakerJobTrigger(BaseTrigger):
    """
    Wait in the triggerer for one SageMaker job of a :class:`~airflow_provider_smtrain.jobs.kinds.JobKind`.

    Fires exactly one event, a JSON-native dict::

        {"status": "succeeded" | "failed" | "stopped" | "deadline" | "error",
         "job_name": str, "kind": str, "job_status": str | None, "secondary_status": str | None,
         "failure_reason": str | None, "message": str}

    Throttling, 5xx and connection errors are retried with exponential backoff and full jitter: status
    reads until the deadline (a trigger that cannot tell what its job is doing keeps asking), a stop
    at most ``min(max_retries, 3)`` times in a row (it must fit the triggerer's ``on_kill`` timeout). Any other error ends the wait with an ``error`` event.
    ``cleanup()`` never touches the job (it runs on triggerer restarts); :meth:`on_kill` stops it.

    :param job_name: name of the job.
    :param kind: job kind name (``training``, ``tuning``); see :data:`~airflow_provider_smtrain.jobs.catalog.CATALOG`.
    :param aws_conn_id: Airflow AWS connection id; None uses the default boto3 credential chain.
    :param region_name: AWS region; None uses the connection's region.
    :param verify: SSL verification flag or CA bundle path; None uses the connection's setting.
    :param botocore_config: keyword arguments of :class:`botocore.config.Config`.
    :param poll_interval: seconds between two status reads (each sleep is jittered by ±10%).
    :param deadline: absolute time (epoch seconds) after which the trigger stops waiting; None waits
        forever. Absolute so that a triggerer restart cannot extend it.
    :param stop_on_deadline: stop the job when the deadline is reached.
    :param stop_on_kill: stop the job when a user marks the deferred task failed, success or cleared.
    :param max_retries: consecutive retriable failures a stop call tolerates before giving up (at most 3).
    :param retry_base_delay: backoff scale in seconds.
    :param retry_max_delay: largest backoff delay in seconds.
    """

    #: Set by subclasses that wait for one kind only.
    fixed_kind: ClassVar[str | None] = None

    def __init__(
        self,
        *,
        job_name: str,
        kind: str | None = None,
        aws_conn_id: str | None = "aws_default",
        region_name: str | None = None,
        verify: bool | str | None = None,
        botocore_config: dict[str, Any] | None = None,
        poll_interval: float = 30.0,
        deadline: float | None = None,
        stop_on_deadline: bool = True,
        stop_on_kill: bool = True,
        max_retries: int = 10,
        retry_base_delay: float = 1.0,
        retry_max_delay: float = 60.0,
    ) -> None:
        super().__init__()
        kind = kind if kind is not None else self.fixed_kind
        if kind is None:
            raise ValueError("kind is required; accepted: 'training', 'tuning'")
        if self.fixed_kind is not None and kind != self.fixed_kind:
            raise ValueError(f"{type(self).__name__} waits for {self.fixed_kind!r} jobs, got kind={kind!r}")
        self.job_kind: JobKind = get_kind(kind)
        if not job_name or not isinstance(job_name, str):
            raise ValueError(f"job_name must be a non-empty string, got {job_name!r}")
        if not poll_interval > 0:
            raise ValueError(f"poll_interval must be > 0 seconds, got {poll_interval!r}")
        if deadline is not None and not isinstance(deadline, int | float):
            raise ValueError(f"deadline must be epoch seconds (float) or None, got {deadline!r}")
        if max_retries < 0 or retry_base_delay < 0 or retry_max_delay < 0:
            raise ValueError("max_retries, retry_base_delay and retry_max_delay must be >= 0")
        self.job_name = job_name
        self.kind = kind
        self.aws_conn_id = aws_conn_id
        self.region_name = region_name
        self.verify = verify
        self.botocore_config = botocore_config
        self.poll_interval = float(poll_interval)
        self.deadline = float(deadline) if deadline is not None else None
        self.stop_on_deadline = stop_on_deadline
        self.stop_on_kill = stop_on_kill
        self.max_retries = int(max_retries)
        self.retry_base_delay = float(retry_base_delay)
        self.retry_max_delay = float(retry_max_delay)

    # ------------------------------------------------------------------ serialization

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Classpath of the concrete class and primitive keyword arguments that rebuild this trigger."""
        cls = type(self)
        return (
            f"{cls.__module__}.{cls.__qualname__}",
            {
                "job_name": self.job_name,
                "kind": self.kind,
                "aws_conn_id": self.aws_conn_id,
                "region_name": self.region_name,
                "verify": self.verify,
                "botocore_config": self.botocore_config,
                "poll_interval": self.poll_interval,
                "deadline": self.deadline,
                "stop_on_deadline": self.stop_on_deadline,
                "stop_on_kill": self.stop_on_kill,
                "max_retries": self.max_retries,
                "retry_base_delay": self.retry_base_delay,
                "retry_max_delay": self.retry_max_delay,
            },
        )

    def hook_params(self) -> dict[str, Any]:
        """Keyword arguments of ``AwsBaseHook`` this trigger connects with (same keys as ``AwsBaseOperator._hook_parameters``)."""
        return {
            "aws_conn_id": self.aws_conn_id,
            "region_name": self.region_name,
            "verify": self.verify,
            "config": self.botocore_config,
        }

    # ------------------------------------------------------------------ running

    def _client(self) -> Any:
        return POOL.client(self.aws_conn_id, self.region_name, self.verify, self.botocore_config)

    def _params(self) -> dict[str, Any]:
        return self.job_kind.request_params(self.job_name)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Poll the job until it ends, the deadline passes or an error is final; yield one event."""
        yield TriggerEvent(await self._wait())

    async def _wait(self) -> dict[str, Any]:
        """
        The event payload. Opening the shared client is retried like a status read: a blip of the
        credentials service (assume-role, STS) at a triggerer restart is not the end of the wait.
        """
        if coalesces(self):
            return await self._wait_shared()
        failures = 0
        while True:
            try:
                async with self._client() as client:
                    return await self._watch(client)
            except _CallFailed as failed:
                return self._payload("error", message=failed.message)
            except Exception as err:
                where = f"(aws_conn_id={self.aws_conn_id!r}, region={self.region_name!r})"
                if not is_retriable(err):
                    return self._payload(
                        "error",
                        message=f"Could not wait for {self.job_kind.label} {self.job_name!r} {where}: "
                        f"{describe_error(err)}",
                    )
                failures += 1
                delay = backoff_delay(failures, self.retry_base_delay, self.retry_max_delay)
                if self.deadline is not None and clock().now() + delay >= self.deadline:
                    return self._unreachable_at_deadline(err)
                self.log.warning("Connecting %s failed (%s); retry %d in %.2fs", where, describe_error(err),
                                 failures, delay)
                await clock().async_sleep(delay)

    def _unreachable_at_deadline(self, err: BaseException) -> dict[str, Any]:
        where = f"(aws_conn_id={self.aws_conn_id!r}, region={self.region_name!r})"
        return self._payload(
            "deadline",
            message=f"{self.job_kind.label.capitalize()} {self.job_name!r} did not finish before "
            f"the deadline; the trigger could not connect to stop it {where}: {describe_error(err)}",
        )

    async def _wait_shared(self) -> dict[str, Any]:
        """The event payload, the job's status read by the poller this trigger shares (:mod:`.pollers`)."""
        how, found = await wait_shared(self)
        if how == "job":
            await self._shared_status(found, ended=True)
            return self._payload(outcome_of(self.job_kind, found.get(self.job_kind.status_key)).value, job=found)
        if how == "error":
            return self._payload("error", message=found)
        if not (self.stop_on_deadline and self.job_kind.stoppable):
            return await self._on_deadline(None, found)
        try:
            async with self._client() as client:
                return await self._on_deadline(client, found)
        except Exception as err:
            return self._unreachable_at_deadline(err)

    def _log_status(self, job: dict[str, Any], seen: tuple[Any, Any] | None) -> tuple[Any, Any]:
        """Log the job's status when it differs from ``seen``; return what was seen now."""
        kind = self.job_kind
        status = job.get(kind.status_key)
        secondary = job.get(kind.secondary_status_key) if kind.secondary_status_key else None
        if (status, secondary) != seen:
            self.log.info(
                "%s %s: status %s%s",
                kind.label.capitalize(),
                self.job_name,
                status,
                f" ({secondary})" if secondary else "",
            )
        return (status, secondary)

    async def _watch(self, client: Any) -> dict[str, Any]:
        """The poll loop; returns the event payload."""
        kind = self.job_kind
        job: dict[str, Any] = {}
        seen: tuple[Any, Any] | None = None
        while True:
            try:
                job = await self._call(
                    client, kind.describe_method, self._params(), max_retries=math.inf, not_after=self.deadline
                )
            except _DeadlineReached:
                return await self._on_deadline(client, job)
            seen = self._log_status(job, seen)
            await self._observe(client, job)
            outcome = outcome_of(kind, seen[0])
            if outcome is not Outcome.RUNNING:
                return self._payload(outcome.value, job=job)
            delay = self.poll_interval * random.uniform(0.9, 1.1)
            if self.deadline is not None:
                remaining = self.deadline - clock().now()
                if remaining <= 0:
                    return await self._on_deadline(client, job)
                delay = min(delay, remaining)
            await clock().async_sleep(delay)

    async def _shared_status(self, job: dict[str, Any], *, ended: bool) -> None:
        """
        Hook for subclasses: called, when the job's status is read by a shared poller, each time the
        status changed and once when the job ended, before the event (default: nothing).

        :param job: what the poller knows of the job (describe response, or fields of a list summary).
        :param ended: whether the job ended.
        """

    async def _observe(self, client: Any, job: dict[str, Any]) -> None:
        """
        Hook for subclasses: called after every status read of the poll loop (default: nothing).

        :param client: the aiobotocore SageMaker client.
        :param job: the describe response just read.
        """

    async def _call(
        self,
        client: Any,
        method: str,
        params: dict[str, Any],
        *,
        max_retries: float | None = None,
        not_after: float | None = None,
    ) -> Any:
        """
        Call one client method, retrying retriable errors with bounded backoff.

        :param client: the aiobotocore SageMaker client.
        :param method: snake_case client method.
        :param max_retries: consecutive retriable failures tolerated; defaults to ``self.max_retries``.
        :param not_after: epoch seconds; raise :class:`_DeadlineReached` instead of sleeping past it.
        :param params: request parameters.
        """
        operation = client.meta.method_to_api_mapping.get(method, method)
        retries = self.max_retries if max_retries is None else max_retries
        failures = 0
        while True:
            try:
                return await getattr(client, method)(**params)
            except Exception as err:
                target = f"{operation} for {self.job_kind.label} {self.job_name!r}"
                if not is_retriable(err):
                    raise _CallFailed(f"{target} failed: {describe_error(err)}") from err
                failures += 1
                if failures > retries:
                    raise _CallFailed(
                        f"{target} failed {failures} times in a row with retriable errors, giving up "
                        f"(max_retries={retries}); last error: {describe_error(err)}"
                    ) from err
                delay = backoff_delay(failures, self.retry_base_delay, self.retry_max_delay)
                self.log.warning(
                    "%s failed (%s); retry %d%s in %.2fs",
                    target,
                    describe_error(err),
                    failures,
                    f"/{retries:.0f}" if math.isfinite(retries) else "",
                    delay,
                )
                if not_after is not None and clock().now() + delay >= not_after:
                    await clock().async_sleep(not_after - clock().now())
                    raise _DeadlineReached from err
                await clock().async_sleep(delay)

    async def _on_deadline(self, client: Any, job: dict[str, Any]) -> dict[str, Any]:
        """Stop the job if asked to, and build the ``deadline`` payload."""
        stopped = ""
        if self.stop_on_deadline:
            stopped = " " + await self._stop(client, reason="deadline reached")
        return self._payload(
            "deadline",
            job=job,
            message=f"{self.job_kind.label.capitalize()} {self.job_name!r} did not finish before the deadline "
            f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(self.deadline or 0))}.{stopped}",
        )

    async def _stop(self, client: Any, *, reason: str) -> str:
        """
        Ask SageMaker to stop the job. Never raises; returns a sentence saying what happened.

        :param client: the aiobotocore SageMaker client.
        :param reason: why, for the log.
        """
        kind = self.job_kind
        if not kind.stoppable:
            self.log.info("%s %s cannot be stopped (%s); leaving it", kind.label, self.job_name, reason)
            return "Jobs of this kind cannot be stopped."
        try:
            # Few retries: on_kill runs under the triggerer's on_kill_timeout (30 s by default).
            await self._call(
                client, kind.stop_method, kind.stop_params(self.job_name),
                max_retries=min(self.max_retries, STOP_RETRIES),
            )
        except _CallFailed as failed:
            if is_not_running(failed.__cause__ or failed):
                self.log.info("Did not stop %s %s (%s): %s", kind.label, self.job_name, reason, failed)
                return "It was not running any more, so nothing was stopped."
            self.log.error("Could not stop %s %s (%s): %s", kind.label, self.job_name, reason, failed)
            return f"Stopping it failed: {failed.message}"
        self.log.info("Requested stop of %s %s (%s)", kind.label, self.job_name, reason)
        return "A stop was requested."

    async def on_kill(self) -> None:
        """Stop the job when a user kills the deferred task (not on triggerer restart). Never raises."""
        if not self.stop_on_kill:
            self.log.info("stop_on_kill is False; leaving %s %s running", self.job_kind.label, self.job_name)
            return
        try:
            async with self._client() as client:
                await self._stop(client, reason="task killed")
        except Exception:
            self.log.exception("on_kill: could not stop %s %s", self.job_kind.label, self.job_name)

    def _payload(
        self, status: str, *, job: dict[str, Any] | None = None, message: str = ""
    ) -> dict[str, Any]:
        """The event payload; JSON-native values only."""
        kind = self.job_kind
        job = job or {}

        def text(value: Any) -> str | None:
            return str(value) if value not in (None, "") else None

        job_status = text(job.get(kind.status_key))
        failure_reason = text(kind.failure_reason(job))
        if not message:
            message = f"{kind.label.capitalize()} {self.job_name!r} ended with status {job_status}"
            message += f": {failure_reason}" if failure_reason else "."
        return {
            "status": status,
            "job_name": self.job_name,
            "kind": self.kind,
            "job_status": job_status,
            "secondary_status": text(job.get(kind.secondary_status_key))
            if kind.secondary_status_key
            else None,
            "failure_reason": failure_reason,
            "message": message,
        }

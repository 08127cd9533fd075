"""The trigger that waits for one SageMaker pipeline execution (an evaluation), with its step progress."""

from __future__ import annotations

from typing import Any, ClassVar

from airflow_provider_smtrain.jobs.kinds import Outcome, outcome_of
from airflow_provider_smtrain.jobs.retry import describe_error
from airflow_provider_smtrain.triggers.base import SageMakerJobTrigger, _CallFailed

__all__ = ["PipelineExecutionTrigger", "failed_step", "step_line"]


def failed_step(steps: list[dict[str, Any]]) -> dict[str, Any] | None:
    """
    The first step that failed, as ``{"name", "reason"}``, or None.

    :param steps: ``ListPipelineExecutionSteps``' step summaries.
    """
    for step in steps:
        if step.get("StepStatus") == "Failed":
            return {"name": step.get("StepName"), "reason": step.get("FailureReason") or None}
    return None


def step_line(steps: list[dict[str, Any]]) -> str:
    """
    One line of step progress: ``EvaluateBaseModel Succeeded, EvaluateCustomModel Executing``.

    :param steps: the step summaries, in start order.
    """
    return ", ".join(f"{step.get('StepName')} {step.get('StepStatus')}" for step in steps) or "no step started yet"


class PipelineExecutionTrigger(SageMakerJobTrigger):
    """
    Wait for one SageMaker pipeline execution (``DescribePipelineExecution``; stopped with ``StopPipelineExecution``).

    ``job_name`` is the execution ARN. Besides the status, the trigger reads the execution's steps
    (``ListPipelineExecutionSteps``) whenever the execution changed (its ``LastModifiedTime``; when the
    status is read by the poller shared with the other waited executions: when the status
    changed, and once when the execution ended) and logs them in the triggerer log when they differ
    from the last line logged. A ``failed`` event
    names the failing step and its reason (``failed_step``, and in ``failure_reason``).

    Takes the keyword arguments of :class:`~airflow_provider_smtrain.triggers.base.SageMakerJobTrigger`;
    ``kind`` may be omitted and, if given, must be ``"pipeline_execution"``.
    """

    fixed_kind: ClassVar[str | None] = "pipeline_execution"
    #: What the poll loop saw last (set per instance once the loop runs).
    _modified: Any = None
    _steps_logged: str | None = None
    _failed_step: dict[str, Any] | None = None

    async def _observe(self, client: Any, job: dict[str, Any]) -> None:
        """Read the steps when the execution changed; log them when they changed; note a failed step."""
        modified = job.get("LastModifiedTime")
        if modified is not None and modified == self._modified:
            return
        self._modified = modified
        await self._read_steps(client)

    async def _shared_status(self, job: dict[str, Any], *, ended: bool) -> None:
        """
        Read (and log) the steps when the shared poller saw the status change or the execution fail (a
        succeeded or stopped execution's event goes out at once: its steps are in the operator's result).

        :param job: what the poller knows of the execution.
        :param ended: whether the execution ended.
        """
        if ended and outcome_of(self.job_kind, job.get(self.job_kind.status_key)) is not Outcome.FAILED:
            return  # the event goes out at once; the operator reads the steps of a finished execution
        try:
            async with self._client() as client:
                await self._read_steps(client)
        except Exception as err:
            self.log.warning("Could not read the steps of %s: %s", self.job_name, describe_error(err))

    async def _read_steps(self, client: Any) -> None:
        """Read the steps; log them when they changed; note a failed step."""
        try:
            response = await self._call(
                client, "list_pipeline_execution_steps",
                {"PipelineExecutionArn": self.job_name, "SortOrder": "Ascending", "MaxResults": 100},
            )
        except _CallFailed as failed:
            self.log.warning("Could not read the steps of %s: %s", self.job_name, failed.message)
            return
        steps = list(response.get("PipelineExecutionSteps") or [])
        line = step_line(steps)
        if line != self._steps_logged:
            self.log.info("Pipeline execution %s steps: %s", self.job_name, line)
            self._steps_logged = line
        self._failed_step = failed_step(steps)

    def _payload(self, status: str, *, job: dict[str, Any] | None = None, message: str = "") -> dict[str, Any]:
        """The base payload, plus ``failed_step`` (and the step in ``failure_reason``) for a failed execution."""
        payload = super()._payload(status, job=job, message=message)
        step = self._failed_step if job and outcome_of(self.job_kind, job.get(self.job_kind.status_key)) is Outcome.FAILED else None
        payload["failed_step"] = step
        if step is not None:
            reason = f"step {step['name']} failed: {step['reason'] or 'no reason given'}"
            if payload["failure_reason"] and step["reason"] and step["reason"] not in payload["failure_reason"]:
                reason = f"{payload['failure_reason']} ({reason})"
            elif payload["failure_reason"] and not step["reason"]:
                reason = f"{payload['failure_reason']} (step {step['name']} failed)"
            payload["failure_reason"] = reason
            payload["message"] = f"Pipeline execution {self.job_name!r} ended with status {payload['job_status']}: {reason}"
        return payload

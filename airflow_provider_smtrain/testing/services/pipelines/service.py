"""
Pipeline executions that step through their definition over simulated time (server process only).

``StartPipelineExecution`` snapshots the pipeline's definition (what ``DescribePipelineDefinitionForExecution``
returns, whatever ``UpdatePipeline`` does later) and applies the first matching outcome rule of kind
``pipeline_execution`` (glob on the pipeline name or the execution display name). Steps start when the
steps they depend on have succeeded; Training and Job steps run a job each (:mod:`.jobs`) and follow it,
other steps (Lineage, ...) succeed at once. A failed step fails the execution once no step runs any more
(``Step failure: One or multiple steps failed.``); a rule with outcome ``CompletedWithFailures`` lets the
others finish. ``StopPipelineExecution`` stops the running jobs: ``Stopping``, then ``Stopped``. A step
that succeeds writes its results (:mod:`.results`). Reads only bring the executions they touch up to date.
"""

from __future__ import annotations

import fnmatch
import json
import math
import secrets
import string
from typing import Any

from airflow_provider_smtrain.testing.engine.simulator import Key, Simulator
from airflow_provider_smtrain.testing.engine.timeline import to_datetime
from airflow_provider_smtrain.testing.services.pipelines import definition as definitions
from airflow_provider_smtrain.testing.services.pipelines import jobs, results
from airflow_provider_smtrain.testing.services.pipelines.model import (
    EXECUTION_STATUSES,
    STEP_FAILURE,
    ExecutionSim,
    StepSim,
)

KIND = "pipeline_execution"
DEFAULT_STEP_FAILURE = "AlgorithmError: simulated evaluation failure (LocalSageMaker rule)"
_ID_ALPHABET = string.ascii_lowercase + string.digits


class ExecutionNotFound(LookupError):
    """No such execution (ResourceNotFound)."""


class TokenConflict(ValueError):
    """A ClientRequestToken reused with another request."""


class PipelineExecutions:
    """
    The simulated pipeline executions of every account and region, by ARN.

    :param simulator: The simulator (lock, clock, config, rules).
    """

    name = KIND
    statuses = EXECUTION_STATUSES

    def __init__(self, simulator: Simulator) -> None:
        self.simulator = simulator
        self.executions: dict[str, ExecutionSim] = {}
        #: (account, region, pipeline, ClientRequestToken) -> execution ARN.
        self.tokens: dict[tuple[str, str, str, str], str] = {}

    # ------------------------------------------------------------------------------- API

    def start(self, pipeline: Any, account_id: str, region: str, params: dict[str, Any]) -> ExecutionSim:
        """
        StartPipelineExecution (idempotent per ``ClientRequestToken``).

        :param pipeline: moto's ``FakePipeline`` (its current definition).
        :param account_id: Account.
        :param region: Region.
        :param params: The request.
        :raises TokenConflict: The token was used for another request.
        :raises definitions.DefinitionError: The definition cannot run.
        """
        token = str(params.get("ClientRequestToken") or "")
        fingerprint = json.dumps(
            {k: params.get(k) for k in ("PipelineExecutionDisplayName", "PipelineParameters", "PipelineExecutionDescription")},
            sort_keys=True,
            default=str,
        )
        token_key = (account_id, region, pipeline.pipeline_name, token)
        if token and token_key in self.tokens:
            existing = self.executions[self.tokens[token_key]]
            if existing.request_fingerprint != fingerprint:
                raise TokenConflict(
                    "The ClientRequestToken was already used for a different StartPipelineExecution request."
                )
            return existing
        parsed = definitions.parse(str(pipeline.pipeline_definition or ""))
        now = self.simulator.clock.now()
        now = math.floor(now * 1000) / 1000  # whole milliseconds, as responses carry them (CreatedAfter)
        display = str(params.get("PipelineExecutionDisplayName") or "")
        execution = ExecutionSim(
            account_id=account_id,
            region=region,
            pipeline_name=pipeline.pipeline_name,
            pipeline_arn=pipeline.arn,
            execution_id="".join(secrets.choice(_ID_ALPHABET) for _ in range(12)),
            display_name=display,
            description=params.get("PipelineExecutionDescription"),
            definition_text=str(pipeline.pipeline_definition),
            definition=parsed,
            parameters={p.get("Name"): p.get("Value") for p in params.get("PipelineParameters") or []},
            token=token,
            request_fingerprint=fingerprint,
            created=now,
            version_id=int(getattr(pipeline, "local_version", 1)),
            last_modified=now,
        )
        if not execution.display_name:
            execution.display_name = f"execution-{int(now * 1000)}"
        self._apply_rule(execution, pipeline.pipeline_name, display)
        self.executions[execution.arn] = execution
        if token:
            self.tokens[token_key] = execution.arn
        pipeline.last_execution_time = to_datetime(now)
        self.advance(execution, now)
        return execution

    def get(self, arn: str) -> ExecutionSim:
        """
        The execution with this ARN, up to date.

        :param arn: PipelineExecutionArn.
        :raises ExecutionNotFound: Unknown ARN.
        """
        execution = self.executions.get(str(arn))
        if execution is None:
            raise ExecutionNotFound(f"Pipeline execution {arn} does not exist.")
        self.advance(execution, self.simulator.clock.now())
        return execution

    def listed(
        self, account_id: str, region: str, pipeline_name: str, *, up_to_date: bool = True
    ) -> list[ExecutionSim]:
        """
        The executions of one pipeline, up to date unless asked not to.

        :param account_id: Account.
        :param region: Region.
        :param pipeline_name: Pipeline name.
        :param up_to_date: Bring each up to the simulated time; a listing that filters and sorts only on
            what never changes (creation time, ARN) brings the executions of its page only
            (:meth:`summaries`): thousands of executions cost one page's work per call, not all of them.
        """
        found = [
            e for e in self.executions.values()
            if (e.account_id, e.region, e.pipeline_name) == (account_id, region, pipeline_name)
        ]
        if up_to_date:
            now = self.simulator.clock.now()
            for execution in found:
                self.advance(execution, now)
        return found

    def summaries(self, found: list[ExecutionSim]) -> list[dict[str, Any]]:
        """
        ``ListPipelineExecutions`` entries of some executions, each brought up to date first.

        :param found: The executions (one page).
        """
        now = self.simulator.clock.now()
        for execution in found:
            self.advance(execution, now)
        return [e.summary() for e in found]

    def stop(self, execution: ExecutionSim) -> None:
        """
        StopPipelineExecution: no new step starts, running jobs stop; ``Stopping``, then ``Stopped``.

        :param execution: The execution (up to date).
        :raises ValueError: It has ended (a stop of a stopping or stopped execution changes nothing).
        """
        if execution.status in ("Stopping", "Stopped"):
            return
        if execution.status != "Executing":
            raise ValueError(
                f"Pipeline execution {execution.arn} is in status {execution.status} and cannot be stopped."
            )
        now = self.simulator.clock.now()
        execution.stop_at = now
        execution.forced = False
        for step in execution.steps.values():
            if step.job_name and not step.terminal:
                jobs.stop_job(self.simulator, execution, step)
        execution.status = "Stopping"
        execution.last_modified = now
        self.advance(execution, now)

    # ------------------------------------------------------------------------------- simulation

    def advance(self, execution: ExecutionSim, now: float) -> None:
        """
        Bring an execution up to ``now``: update running steps, start due ones, derive its status.

        :param execution: The execution.
        :param now: Simulated unix time.
        """
        if execution.terminal or execution.forced:
            return
        self.simulator.ticks[self.name] += 1
        progressed = True
        while progressed:
            progressed = self._update_steps(execution, now) | self._start_due_steps(execution, now)
        self._derive_status(execution, now)

    def _update_steps(self, execution: ExecutionSim, now: float) -> bool:
        changed = False
        for step in execution.steps.values():
            if step.terminal or step.job_name is None:
                continue
            status, at, reason = jobs.job_state(self.simulator, execution, step)
            if status != step.status:
                changed = True
                step.status = status
                execution.last_modified = max(execution.last_modified, at)
            if step.terminal:
                step.end = at
                step.failure_reason = reason if status == "Failed" else None
                if status == "Succeeded":
                    results.write_step_outputs(execution, step, at)
        return changed

    def _start_due_steps(self, execution: ExecutionSim, now: float) -> bool:
        if execution.stop_at is not None:
            return False
        failed = any(s.status in ("Failed", "Stopped") for s in execution.steps.values())
        if failed and execution.outcome != "CompletedWithFailures":
            return False
        started = False
        for spec in execution.definition.steps:
            if spec.name in execution.steps:
                continue
            deps = [execution.steps.get(d) for d in spec.depends_on]
            if any(d is None or d.status != "Succeeded" for d in deps):
                continue
            start = max([execution.created] + [float(d.end or 0.0) for d in deps if d is not None])
            if start > now:
                continue
            self._start_step(execution, spec, start, now)
            started = True
        return started

    def _start_step(self, execution: ExecutionSim, spec: definitions.StepSpec, start: float, now: float) -> None:
        arguments = definitions.evaluate(spec.arguments, lambda path: self._resolve(execution, path))
        step = StepSim(spec=spec, start=start, arguments=arguments)
        execution.steps[spec.name] = step
        execution.last_modified = max(execution.last_modified, start)
        if not spec.runs_job:
            step.status, step.end = "Succeeded", start
            return
        failing = execution.failing_step == spec.name
        duration = execution.step_seconds if execution.step_seconds is not None else self.simulator.config.training_seconds
        reason = (execution.step_failure_reason or DEFAULT_STEP_FAILURE) if failing else None
        jobs.start_job(self.simulator, execution, step, duration, reason)

    def _resolve(self, execution: ExecutionSim, path: str) -> Any:
        parts = path.split(".")
        if path == "Execution.PipelineExecutionId":
            return execution.execution_id
        if path == "Execution.PipelineExecutionArn":
            return execution.arn
        if path == "Execution.StartDateTime":
            return to_datetime(execution.created).isoformat() + "Z"
        if parts[0] == "Parameters" and len(parts) == 2:
            return execution.parameters.get(parts[1], execution.definition.parameters.get(parts[1]))
        if parts[0] == "Steps" and len(parts) >= 3:
            step = execution.steps.get(parts[1])
            if step is None:
                return None
            if parts[2] in ("TrainingJobName", "JobName"):
                return step.job_name
            if parts[2] in ("TrainingJobArn", "JobArn"):
                return step.job_arn
            return definitions.member(step.arguments, parts[2:])
        return None

    def _derive_status(self, execution: ExecutionSim, now: float) -> None:
        steps = list(execution.steps.values())
        running = [s for s in steps if not s.terminal]
        if running:
            return
        end = max([execution.created] + [float(s.end or s.start) for s in steps])
        if execution.stop_at is not None:
            stopped_at = max(end, execution.stop_at + self.simulator.config.stop_seconds)
            if now >= stopped_at:
                execution.status, execution.last_modified = "Stopped", stopped_at
            return
        if any(s.status in ("Failed", "Stopped") for s in steps):  # a job stopped on its own fails it too
            if execution.outcome == "CompletedWithFailures":
                if self._pending(execution):
                    return
                execution.status = "CompletedWithFailures"
            else:
                execution.status, execution.failure_reason = "Failed", STEP_FAILURE
            execution.last_modified = end
            return
        if self._pending(execution):
            return
        execution.status, execution.last_modified = "Succeeded", end

    @staticmethod
    def _pending(execution: ExecutionSim) -> bool:
        """Whether a step not started yet can still start (its dependencies did not fail)."""
        for spec in execution.definition.steps:
            if spec.name in execution.steps:
                continue
            deps = [execution.steps.get(d) for d in spec.depends_on]
            if all(d is None or d.status in ("Succeeded", "Executing", "Starting") for d in deps):
                return True
        return False

    def _apply_rule(self, execution: ExecutionSim, pipeline_name: str, display_name: str) -> None:
        rule = self.simulator.rules.match_any(KIND, [pipeline_name, display_name])
        if rule is None:
            return
        execution.step_seconds = rule.seconds
        execution.metrics = dict(rule.metrics) if rule.metrics is not None else None
        execution.base_metrics = dict(rule.base_metrics) if rule.base_metrics is not None else None
        if rule.outcome in ("Failed", "CompletedWithFailures"):
            execution.outcome = rule.outcome
            job_steps = [s.name for s in execution.definition.steps if s.runs_job]
            wanted = rule.step
            if wanted is None:
                execution.failing_step = job_steps[-1] if job_steps else None
            else:
                execution.failing_step = next((s for s in job_steps if _glob(s, wanted)), None)
            execution.step_failure_reason = rule.failure_reason

    # ------------------------------------------------------------------------------- Service protocol

    def touch(self, key: Key) -> ExecutionSim | None:
        """
        Bring the execution of a key (its ARN as the name) up to date.

        :param key: ``(account, region, ARN)``.
        """
        execution = self.executions.get(key[2])
        if execution is not None:
            self.advance(execution, self.simulator.clock.now())
        return execution

    def find(self, name: str, account_id: str | None, region: str | None) -> Key | None:
        """
        The key of an execution by ARN, execution id or display name.

        :param name: ARN, id or display name.
        :param account_id: Account, ``None`` = any.
        :param region: Region, ``None`` = any.
        """
        for execution in self.executions.values():
            if name in (execution.arn, execution.execution_id, execution.display_name) and (
                account_id in (None, execution.account_id) and region in (None, execution.region)
            ):
                return (execution.account_id, execution.region, execution.arn)
        return None

    def force(self, key: Key, status: str, secondary_status: str | None, failure_reason: str | None) -> None:
        """
        Put an execution into a state now and keep it there (running jobs stop when it ends).

        :param key: ``(account, region, ARN)``.
        :param status: PipelineExecutionStatus.
        :param secondary_status: Ignored.
        :param failure_reason: FailureReason (``Failed``).
        """
        execution = self.executions[key[2]]
        now = self.simulator.clock.now()
        self.advance(execution, now)
        if status != "Executing":
            for step in execution.steps.values():
                if step.job_name and not step.terminal:
                    jobs.stop_job(self.simulator, execution, step)
        execution.status = status
        execution.forced = status != "Executing"
        execution.failure_reason = (failure_reason or "Forced failure (LocalSageMaker)") if status == "Failed" else None
        execution.last_modified = now

    def snapshot(self) -> list[dict[str, Any]]:
        """JSON-able view of every execution, up to date."""
        now = self.simulator.clock.now()
        for execution in self.executions.values():
            self.advance(execution, now)
        return [e.snapshot() for e in self.executions.values()]

    def clear(self) -> None:
        """Forget every execution."""
        self.executions.clear()
        self.tokens.clear()


def _glob(name: str, pattern: str) -> bool:
    return fnmatch.fnmatchcase(name, pattern)


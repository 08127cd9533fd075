"""Simulation state of one pipeline execution and its steps, and their API views (standard library only)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from airflow_provider_smtrain.testing.engine.timeline import to_datetime
from airflow_provider_smtrain.testing.services.pipelines.definition import Definition, StepSpec

EXECUTION_STATUSES = ("Executing", "Stopping", "Stopped", "Failed", "Succeeded", "CompletedWithFailures")
TERMINAL_EXECUTION = ("Stopped", "Failed", "Succeeded", "CompletedWithFailures")
TERMINAL_STEP = ("Stopped", "Failed", "Succeeded")
#: FailureReason SageMaker gives an execution whose step failed.
STEP_FAILURE = "Step failure: One or multiple steps failed."


@dataclass
class StepSim:
    """
    One started step of an execution.

    :param spec: The step as defined.
    :param start: Simulated start time.
    :param arguments: Its arguments with every expression evaluated.
    :param status: ``StepStatus``.
    :param end: Simulated end time once terminal.
    :param failure_reason: ``FailureReason`` of a failed step.
    :param job_kind: ``training`` (a Training step), ``agent_rft`` (a Job step) or ``None``.
    :param job_name: The job SageMaker created for the step.
    :param job_arn: Its ARN.
    :param results_written: Whether the step's output files are in S3.
    """

    spec: StepSpec
    start: float
    arguments: dict[str, Any]
    status: str = "Executing"
    end: float | None = None
    failure_reason: str | None = None
    job_kind: str | None = None
    job_name: str | None = None
    job_arn: str | None = None
    results_written: bool = False

    @property
    def terminal(self) -> bool:
        """Whether the step has ended."""
        return self.status in TERMINAL_STEP

    def view(self) -> dict[str, Any]:
        """A ``PipelineExecutionSteps`` entry."""
        item: dict[str, Any] = {
            "StepName": self.spec.name,
            "StartTime": to_datetime(self.start),
            "StepStatus": self.status,
            "AttemptCount": 1,
            "Metadata": self._metadata(),
        }
        if self.spec.display_name:
            item["StepDisplayName"] = self.spec.display_name
        if self.spec.description:
            item["StepDescription"] = self.spec.description
        if self.end is not None:
            item["EndTime"] = to_datetime(self.end)
        if self.failure_reason and self.status == "Failed":
            item["FailureReason"] = self.failure_reason
        return item

    def _metadata(self) -> dict[str, Any]:
        if self.job_kind == "training" and self.job_arn:
            return {"TrainingJob": {"Arn": self.job_arn}}
        if self.job_kind == "agent_rft" and self.job_arn:
            return {"Job": {"Arn": self.job_arn}}
        if self.spec.step_type == "Lineage":
            return {"Lineage": {}}
        return {}


@dataclass
class ExecutionSim:
    """
    One pipeline execution.

    :param account_id: Account.
    :param region: Region.
    :param pipeline_name: Pipeline name.
    :param pipeline_arn: Pipeline ARN.
    :param execution_id: The 12-character id ending the ARN.
    :param display_name: ``PipelineExecutionDisplayName``.
    :param description: ``PipelineExecutionDescription``.
    :param definition_text: The pipeline definition as it was when the execution started.
    :param definition: It, parsed.
    :param parameters: ``PipelineParameters`` (name to value).
    :param token: ``ClientRequestToken`` of the start.
    :param request_fingerprint: What the start request asked for (same token, other request = an error).
    :param created: Simulated creation time.
    :param version_id: ``PipelineVersionId`` it ran.
    """

    account_id: str
    region: str
    pipeline_name: str
    pipeline_arn: str
    execution_id: str
    display_name: str
    description: str | None
    definition_text: str
    definition: Definition
    parameters: dict[str, Any]
    token: str
    request_fingerprint: str
    created: float
    version_id: int = 1
    steps: dict[str, StepSim] = field(default_factory=dict)
    status: str = "Executing"
    failure_reason: str | None = None
    last_modified: float = 0.0
    stop_at: float | None = None
    forced: bool = False
    #: From an outcome rule: the step that fails (``None`` = no failure), its reason, the final status.
    failing_step: str | None = None
    step_failure_reason: str | None = None
    outcome: str | None = None
    step_seconds: float | None = None
    metrics: dict[str, float] | None = None
    base_metrics: dict[str, float] | None = None

    @property
    def arn(self) -> str:
        """``arn:aws:sagemaker:<region>:<account>:pipeline/<pipeline>/execution/<id>``."""
        return f"{self.pipeline_arn}/execution/{self.execution_id}"

    @property
    def terminal(self) -> bool:
        """Whether the execution has ended."""
        return self.status in TERMINAL_EXECUTION

    def describe(self) -> dict[str, Any]:
        """The DescribePipelineExecution response."""
        response: dict[str, Any] = {
            "PipelineArn": self.pipeline_arn,
            "PipelineExecutionArn": self.arn,
            "PipelineExecutionDisplayName": self.display_name,
            "PipelineExecutionStatus": self.status,
            "CreationTime": to_datetime(self.created),
            "LastModifiedTime": to_datetime(max(self.created, self.last_modified)),
            "PipelineVersionId": self.version_id,
        }
        if self.description:
            response["PipelineExecutionDescription"] = self.description
        if self.failure_reason and self.status == "Failed":
            response["FailureReason"] = self.failure_reason
        mlflow = self.definition.mlflow_config or {}
        if mlflow.get("MlflowResourceArn"):
            response["MLflowConfig"] = {
                k: v for k, v in mlflow.items() if k in ("MlflowResourceArn", "MlflowExperimentName") and v
            }
        return response

    def summary(self) -> dict[str, Any]:
        """The ListPipelineExecutions entry."""
        item: dict[str, Any] = {
            "PipelineExecutionArn": self.arn,
            "StartTime": to_datetime(self.created),
            "PipelineExecutionStatus": self.status,
            "PipelineExecutionDisplayName": self.display_name,
        }
        if self.description:
            item["PipelineExecutionDescription"] = self.description
        if self.failure_reason and self.status == "Failed":
            item["PipelineExecutionFailureReason"] = self.failure_reason
        return item

    def snapshot(self) -> dict[str, Any]:
        """JSON-able view for the control API."""
        return {
            "name": self.display_name,
            "arn": self.arn,
            "pipeline_name": self.pipeline_name,
            "account_id": self.account_id,
            "region": self.region,
            "status": self.status,
            "failure_reason": self.failure_reason,
            "steps": [
                {"name": s.spec.name, "status": s.status, "job_name": s.job_name, "failure_reason": s.failure_reason}
                for s in self.steps.values()
            ],
        }

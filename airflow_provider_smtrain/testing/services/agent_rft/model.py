"""Simulation state of one AgentRFT job (``CreateJob``), and its DescribeJob / ListJobs views (standard library only)."""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from airflow_provider_smtrain.testing.engine.timeline import (
    TERMINAL,
    Event,
    secondary_status_transitions,
    to_datetime,
    visible,
)

#: The log group the SDK streams AgentRFT logs from (``sagemaker.train.common_utils.log_streamer``).
LOG_GROUP = "/aws/sagemaker/Job/AgentRFT"
#: Training steps an AgentRFT job reports in ``ServiceOutput.ProgressInfo``.
MAX_STEPS = 100

STATUS_MESSAGES = {
    "Starting": "Preparing the agent environment and the training cluster",
    "Downloading": "Downloading the training dataset",
    "Training": "Running multi-turn rollouts and policy updates",
    "Uploading": "Uploading the fine-tuned checkpoint",
    "Completed": "Job completed",
    "Failed": "Job failed",
    "Stopping": "Stopping the job",
    "Stopped": "Job stopped",
}


@dataclass
class JobSim:
    """
    One AgentRFT (or AgentRFTEvaluation) job.

    :param account_id: Account.
    :param region: Region.
    :param name: JobName.
    :param category: JobCategory.
    :param role_arn: RoleArn.
    :param schema_version: JobConfigSchemaVersion.
    :param document: JobConfigDocument as sent (a JSON object).
    :param tags: Tags.
    :param created: Simulated creation time.
    :param events: Planned or observed timeline, chronological.
    :param failure_reason: FailureReason if the timeline ends ``Failed``.
    """

    account_id: str
    region: str
    name: str
    category: str
    role_arn: str
    schema_version: str
    document: dict[str, Any]
    tags: list[dict[str, str]]
    created: float
    events: list[Event]
    failure_reason: str | None
    #: Planned start and end of the ``Training`` phase (progress steps are spread over it).
    training_window: tuple[float, float] = (0.0, 0.0)
    #: Set when the job completes: ``ServiceOutput.OutputModelPackageArn``.
    output_model_package_arn: str | None = None
    completed_once: bool = False
    logged: int = 0

    @property
    def key(self) -> tuple[str, str, str]:
        """``(account, region, name)``."""
        return (self.account_id, self.region, self.name)

    @property
    def arn(self) -> str:
        """JobArn: ``arn:aws:sagemaker:<region>:<account>:job/<category>/<name>``."""
        return f"arn:aws:sagemaker:{self.region}:{self.account_id}:job/{self.category}/{self.name}"

    def last(self, now: float) -> Event:
        """
        The state at ``now``.

        :param now: Simulated unix time.
        """
        return visible(self.events, now)[-1]

    def output_path(self) -> str:
        """``OutputDataConfig.S3OutputPath`` of the document, without a trailing slash."""
        return str((self.document.get("OutputDataConfig") or {}).get("S3OutputPath") or "").rstrip("/")

    def service_output(self, now: float) -> dict[str, Any]:
        """
        What SageMaker adds to the document as ``ServiceOutput`` (read by the SDK's ``AgentRFTJob``).

        :param now: Simulated unix time.
        """
        seen = visible(self.events, now)
        last = seen[-1]
        out: dict[str, Any] = {}
        if any(e.secondary == "Training" for e in seen):
            start, end = self.training_window
            halted = next((e.at for e in seen if e.secondary in ("Stopping", "Failed", "Stopped")), now)
            fraction = 1.0 if end <= start else (min(now, end, halted) - start) / (end - start)
            out["ProgressInfo"] = {"MaxSteps": MAX_STEPS, "CurrentStep": int(MAX_STEPS * max(0.0, min(1.0, fraction)))}
        mlflow = (self.document.get("TrainingConfig") or {}).get("MlflowConfig")
        if mlflow:
            out["MlflowDetails"] = {
                "ExperimentName": mlflow.get("MlflowExperimentName") or self.name,
                "RunName": mlflow.get("MlflowRunName") or self.name,
                "ExperimentId": str(_number(self.name, "experiment") % 10**6),
                "RunId": hashlib.sha256(f"run|{self.name}".encode()).hexdigest()[:32],
            }
        if last.status in TERMINAL:
            tokens = 10_000 + _number(self.name, "tokens") % 990_000
            out["BillableTokenUsage"] = {
                "TrainTokenCount": tokens,
                "PrefillTokenCount": tokens * 3,
                "SampleTokenCount": tokens * 2,
            }
        if self.output_model_package_arn and last.status == "Completed":
            out["OutputModelPackageArn"] = self.output_model_package_arn
        return out

    def describe(self, now: float) -> dict[str, Any]:
        """
        The DescribeJob response at ``now``.

        :param now: Simulated unix time.
        """
        seen = visible(self.events, now)
        last = seen[-1]
        transitions = secondary_status_transitions(seen, STATUS_MESSAGES)
        document = copy.deepcopy(self.document)
        output = self.service_output(now)
        if output:
            document["ServiceOutput"] = output
        response: dict[str, Any] = {
            "JobName": self.name,
            "JobArn": self.arn,
            "RoleArn": self.role_arn,
            "JobCategory": self.category,
            "JobConfigSchemaVersion": self.schema_version,
            "JobConfigDocument": json.dumps(document),
            "CreationTime": to_datetime(self.created),
            "LastModifiedTime": to_datetime(last.at),
            "JobStatus": last.status,
            "SecondaryStatus": last.secondary,
            "SecondaryStatusTransitions": transitions,
        }
        if last.status in TERMINAL:
            response["EndTime"] = to_datetime(last.at)
        if last.status == "Failed" and self.failure_reason:
            response["FailureReason"] = self.failure_reason
        if self.tags:
            response["Tags"] = self.tags
        return response

    def summary(self, now: float) -> dict[str, Any]:
        """
        The ListJobs ``JobSummary`` at ``now``.

        :param now: Simulated unix time.
        """
        last = self.last(now)
        item: dict[str, Any] = {
            "JobArn": self.arn,
            "JobName": self.name,
            "JobCategory": self.category,
            "JobStatus": last.status,
            "JobSecondaryStatus": last.secondary,
            "CreationTime": to_datetime(self.created),
            "LastModifiedTime": to_datetime(last.at),
        }
        if last.status in TERMINAL:
            item["EndTime"] = to_datetime(last.at)
        return item

    def log_lines(self, secondary: str) -> list[str]:
        """
        The log lines the job writes when it enters a SecondaryStatus.

        :param secondary: SecondaryStatus.
        """
        if secondary == "Failed":
            return [f"ERROR: {self.failure_reason}", "Job failed."]
        return [f"[{self.name}] {STATUS_MESSAGES.get(secondary, secondary)}"]


def _number(name: str, salt: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{salt}|{name}".encode()).digest()[:8], "big")

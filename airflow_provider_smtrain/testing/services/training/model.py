"""Simulation state of one training job, and the values it reports (standard library only)."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_smtrain.testing.engine.timeline import Event, visible

DEFAULT_METRIC = "train:loss"

STATUS_MESSAGES = {
    "Starting": "Preparing the instances for training",
    "Downloading": "Downloading input data",
    "Training": "Training image download completed. Training in progress.",
    "Uploading": "Uploading generated training model",
    "Completed": "Training job completed",
    "Failed": "Training job failed",
    "Stopping": "Stopping the training job",
    "Stopped": "Training job stopped",
    "MaxRuntimeExceeded": "Training job stopped: it exceeded MaxRuntimeInSeconds",
}

_LOWER_IS_BETTER = ("loss", "error", "rmse", "mse", "mae", "perplexity")
_HIGHER_IS_BETTER = ("acc", "auc", "f1", "precision", "recall", "score", "dcg", "map")


def metric_value(metric_name: str, seed_text: str) -> float:
    """
    Deterministic, plausible value of a metric: losses/errors in [0.05, 0.95], scores in [0.5, 0.99].

    :param metric_name: Metric name (its wording picks the range).
    :param seed_text: What makes the value differ between jobs (hyperparameters or job name).
    """
    digest = hashlib.sha256(f"{metric_name}|{seed_text}".encode()).digest()
    unit = int.from_bytes(digest[:8], "big") / 2**64
    lowered = metric_name.lower()
    if any(word in lowered for word in _LOWER_IS_BETTER):
        return round(0.05 + 0.9 * unit, 6)
    if any(word in lowered for word in _HIGHER_IS_BETTER):
        return round(0.5 + 0.49 * unit, 6)
    return round(unit, 6)


def midway(metric_name: str, final: float) -> float:
    """
    An intermediate value of a metric: worse than the final one.

    :param metric_name: Metric name.
    :param final: Its final value.
    """
    if any(word in metric_name.lower() for word in _LOWER_IS_BETTER):
        return final * 1.5
    return final * 0.8


def tar_gz(files: dict[str, bytes], mtime: float = 0.0) -> bytes:
    """
    Build a ``.tar.gz`` archive in memory.

    :param files: Archive member name to content.
    :param mtime: Modification time of the members.
    """
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = int(mtime)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@dataclass
class ChildPlan:
    """
    What a tuning job plans for one child training job, handed to the training service by name.

    :param tuning_key: ``(account, region, name)`` of the parent tuning job.
    :param created: Planned creation time.
    :param duration: Planned duration in seconds.
    :param objective_metric: The tuning objective's metric, reported by the child.
    """

    tuning_key: tuple[str, str, str]
    created: float
    duration: float
    objective_metric: str | None


@dataclass
class TrainingSim:
    """
    Simulation state of one training job (the moto ``FakeTrainingJob`` lives in ``job``).

    :param account_id: Account of the job.
    :param region: Region of the job.
    :param name: Training job name.
    :param job: The moto model object that is mutated.
    :param created: Simulated creation time.
    :param events: Planned or observed timeline, chronological.
    :param failure_reason: FailureReason if the timeline ends in ``Failed``.
    :param metric_names: Metrics reported in FinalMetricDataList.
    :param log_stream: CloudWatch log stream name.
    :param tuning_name: Parent tuning job, if any.
    :param max_runtime_at: When ``StoppingCondition.MaxRuntimeInSeconds`` runs out, if set.
    """

    account_id: str
    region: str
    name: str
    job: Any
    created: float
    events: list[Event]
    failure_reason: str | None
    metric_names: list[str]
    log_stream: str
    tuning_name: str | None = None
    max_runtime_at: float | None = None
    script_mode: bool = False
    final_metrics: dict[str, float] | None = None
    model_tar: bytes | None = None
    applied: int = 0
    finalized: bool = False
    stop_requested: bool = False
    on_stop: Callable[[], None] | None = None
    #: The serverless members of the request (``serverless.ServerlessRequest``), for serverless jobs.
    serverless: Any = None
    serverless_done: bool = False
    pending_log: list[tuple[float, str]] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str, str]:
        """``(account, region, name)``."""
        return (self.account_id, self.region, self.name)

    @property
    def hyperparameters(self) -> dict[str, str]:
        """Hyperparameters of the job (strings)."""
        return dict(self.job.hyper_parameters or {})

    def visible_events(self, now: float) -> list[Event]:
        """
        Events whose time has come.

        :param now: Simulated unix time.
        """
        return visible(self.events, now)

    def metrics(self) -> dict[str, float]:
        """Final metric values (from the script run, else derived from hyperparameters / name)."""
        if self.final_metrics is not None:
            return dict(self.final_metrics)
        hyperparameters = self.hyperparameters
        seed = json.dumps(hyperparameters, sort_keys=True) if hyperparameters else self.name
        return {metric: metric_value(metric, seed) for metric in self.metric_names}

    def log_lines(self, status: str) -> list[str]:
        """
        The log lines a job writes when it enters a SecondaryStatus.

        :param status: SecondaryStatus.
        """
        job = self.job
        if status == "Starting":
            resources = job.resource_config or {}
            return [
                f"LocalSageMaker: starting training job {self.name} "
                f"({resources.get('InstanceType', 'ml.m5.large')} x{resources.get('InstanceCount', 1)})",
                f"Hyperparameters: {json.dumps(self.hyperparameters, sort_keys=True)}",
            ]
        if status == "Downloading":
            channels = [c.get("ChannelName") for c in (job.input_data_config or [])]
            return [f"Downloading input data for channels {channels}"]
        if status == "Training":
            if self.script_mode:
                return ["Invoking user training script."]
            return [f"epoch 1: {name}={midway(name, value):.6f}" for name, value in self.metrics().items()]
        if status == "Uploading":
            return [f"Uploading model artifacts to {job.model_artifacts['S3ModelArtifacts']}"]
        if status == "Completed":
            if self.script_mode:
                return ["Training completed successfully."]
            metrics = [f"final: {name}={value:.6f}" for name, value in self.metrics().items()]
            return [*metrics, "Training completed successfully."]
        if status == "Failed":
            return [f"ERROR: {self.failure_reason}", "Training job failed."]
        if status == "Stopping":
            return ["Received stop request, stopping training."]
        if status == "MaxRuntimeExceeded":
            return ["Training job stopped: MaxRuntimeInSeconds exceeded."]
        if status == "Stopped":
            return ["Training job stopped."]
        return [status]

    def summary(self, now: float) -> dict[str, Any]:
        """
        Small JSON-able view for the control API.

        :param now: Simulated unix time.
        """
        last = self.visible_events(now)[-1]
        return {
            "name": self.name,
            "account_id": self.account_id,
            "region": self.region,
            "status": last.status,
            "secondary_status": last.secondary,
            "tuning_job": self.tuning_name,
            "script_mode": self.script_mode,
            "planned_end": self.events[-1].at,
        }

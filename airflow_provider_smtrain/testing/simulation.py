"""
Time-driven lifecycle of simulated training and hyperparameter tuning jobs (server process only).

moto creates SageMaker jobs already terminal and never changes them. Here every job gets a timeline of
``(unix time, SecondaryStatus)`` events, planned at creation. :meth:`Simulator.tick` (run before every
request the server forwards to moto) applies the events whose time has come to the moto model objects,
so DescribeTrainingJob / ListTrainingJobs / DescribeHyperParameterTuningJob see a consistent, moving state:
statuses, transitions, times, metrics, model artifacts, log lines and tuning children.

All public methods expect :attr:`Simulator.lock` to be held (the WSGI middleware holds it around moto).
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import logging
import math
import random
import tarfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from airflow_provider_smtrain.testing import moto_access
from airflow_provider_smtrain.testing.config import ServerConfig
from airflow_provider_smtrain.testing.rules import RuleBook

log = logging.getLogger(__name__)

TERMINAL_TRAINING = ("Completed", "Failed", "Stopped")
TERMINAL_TUNING = ("Completed", "Failed", "Stopped")
DEFAULT_METRIC = "train:loss"
DEFAULT_TUNING_CHILDREN = 2
MAX_TUNING_CHILDREN = 100

#: Where each timed secondary status starts, as a fraction of the job duration.
_PHASES = (("Starting", 0.0), ("Downloading", 0.15), ("Training", 0.3), ("Uploading", 0.85))

_STATUS_MESSAGES = {
    "Starting": "Preparing the instances for training",
    "Downloading": "Downloading input data",
    "Training": "Training image download completed. Training in progress.",
    "Uploading": "Uploading generated training model",
    "Completed": "Training job completed",
    "Failed": "Training job failed",
    "Stopping": "Stopping the training job",
    "Stopped": "Training job stopped",
}


def to_datetime(ts: float) -> datetime:
    """
    Unix time to the naive-UTC ``datetime`` moto stores.

    :param ts: Unix time.
    """
    return datetime.fromtimestamp(ts, tz=UTC).replace(tzinfo=None)


def primary_status(secondary: str) -> str:
    """
    Map a SecondaryStatus to TrainingJobStatus.

    :param secondary: SecondaryStatus.
    """
    if secondary in ("Completed", "Failed", "Stopped", "Stopping"):
        return secondary
    return "InProgress"


def metric_value(metric_name: str, seed_text: str) -> float:
    """
    Deterministic, plausible value of a metric: losses/errors in [0.05, 0.95], scores in [0.5, 0.99].

    :param metric_name: Metric name (its wording picks the range).
    :param seed_text: What makes the value differ between jobs (hyperparameters or job name).
    """
    digest = hashlib.sha256(f"{metric_name}|{seed_text}".encode()).digest()
    unit = int.from_bytes(digest[:8], "big") / 2**64
    lowered = metric_name.lower()
    if any(word in lowered for word in ("loss", "error", "rmse", "mse", "mae", "perplexity")):
        return round(0.05 + 0.9 * unit, 6)
    if any(word in lowered for word in ("acc", "auc", "f1", "precision", "recall", "score", "dcg", "map")):
        return round(0.5 + 0.49 * unit, 6)
    return round(unit, 6)


def _seed_text(name: str, hyperparameters: dict[str, str] | None) -> str:
    if hyperparameters:
        return json.dumps(hyperparameters, sort_keys=True)
    return name


def tar_gz(files: dict[str, bytes]) -> bytes:
    """
    Build a ``.tar.gz`` archive in memory.

    :param files: Archive member name to content.
    """
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = int(time.time())
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@dataclass
class TrainingSim:
    """
    Simulation state of one training job (the moto ``FakeTrainingJob`` lives in ``job``).

    :param account_id: Account of the job.
    :param region: Region of the job.
    :param name: Training job name.
    :param job: The moto model object that is mutated.
    :param created: Unix creation time.
    :param events: Planned or observed ``(unix time, SecondaryStatus)`` events, chronological.
    :param failure_reason: FailureReason if the plan ends in ``Failed``.
    :param metric_names: Metrics reported in FinalMetricDataList.
    :param log_stream: CloudWatch log stream name.
    :param tuning_name: Parent tuning job, if any.
    :param script_mode: The job runs a real entry script (events appended by the script runner).
    """

    account_id: str
    region: str
    name: str
    job: Any
    created: float
    events: list[tuple[float, str]]
    failure_reason: str | None
    metric_names: list[str]
    log_stream: str
    tuning_name: str | None = None
    script_mode: bool = False
    final_metrics: dict[str, float] | None = None
    model_tar: bytes | None = None
    applied: int = 0
    finalized: bool = False
    stop_requested: bool = False
    on_stop: Callable[[], None] | None = None
    pending_log: list[tuple[float, str]] = field(default_factory=list)

    @property
    def hyperparameters(self) -> dict[str, str]:
        """Hyperparameters of the job (strings)."""
        return dict(self.job.hyper_parameters or {})

    def visible_events(self, now: float) -> list[tuple[float, str]]:
        """
        Events whose time has come.

        :param now: Unix time.
        """
        return [event for event in self.events if event[0] <= now] or self.events[:1]

    def status(self, now: float) -> str:
        """
        TrainingJobStatus at ``now``.

        :param now: Unix time.
        """
        return primary_status(self.visible_events(now)[-1][1])

    def metrics(self) -> dict[str, float]:
        """Final metric values (from the script run, else derived from hyperparameters / name)."""
        if self.final_metrics is not None:
            return dict(self.final_metrics)
        seed = _seed_text(self.name, self.hyperparameters)
        return {metric: metric_value(metric, seed) for metric in self.metric_names}

    def summary(self, now: float) -> dict[str, Any]:
        """
        Small JSON-able view for the control API.

        :param now: Unix time.
        """
        visible = self.visible_events(now)
        return {
            "name": self.name,
            "account_id": self.account_id,
            "region": self.region,
            "status": primary_status(visible[-1][1]),
            "secondary_status": visible[-1][1],
            "tuning_job": self.tuning_name,
            "script_mode": self.script_mode,
            "planned_end": self.events[-1][0],
        }


@dataclass
class TuningSim:
    """
    Simulation state of one hyperparameter tuning job.

    :param account_id: Account of the job.
    :param region: Region of the job.
    :param name: Tuning job name.
    :param job: The moto ``HyperParameterTuningJob`` that is mutated.
    :param created: Unix creation time.
    :param end: Planned unix end time.
    :param child_starts: Planned start time of each child training job.
    :param child_end: Planned end time of each child (parallel waves).
    :param failure_reason: Set if a rule makes the tuning job fail.
    """

    account_id: str
    region: str
    name: str
    job: Any
    created: float
    end: float
    child_starts: list[float]
    child_ends: list[float]
    failure_reason: str | None
    children: list[str] = field(default_factory=list)
    tuned: dict[str, dict[str, str]] = field(default_factory=dict)
    stop_at: float | None = None
    stop_seconds: float = 0.0
    status: str = "InProgress"
    terminal_at: float | None = None

    @property
    def config(self) -> dict[str, Any]:
        """HyperParameterTuningJobConfig."""
        return dict(self.job.hyper_parameter_tuning_job_config or {})

    def definitions(self) -> list[dict[str, Any]]:
        """Training job definitions (single or multi-algorithm)."""
        if self.job.training_job_definitions:
            return list(self.job.training_job_definitions)
        return [self.job.training_job_definition or {}]

    def objective(self, definition: dict[str, Any]) -> dict[str, Any] | None:
        """
        Objective ``{Type, MetricName}`` for a definition, if any.

        :param definition: A training job definition.
        """
        return self.config.get("HyperParameterTuningJobObjective") or definition.get("TuningObjective")


class Simulator:
    """
    Owns every simulated job and the lock that serialises access to moto.

    :param config: Live server config (shared with the control API).
    :param rules: Outcome rules.
    """

    def __init__(self, config: ServerConfig, rules: RuleBook) -> None:
        self.lock = threading.RLock()
        self.config = config
        self.rules = rules
        self.training: dict[tuple[str, str, str], TrainingSim] = {}
        self.tuning: dict[tuple[str, str, str], TuningSim] = {}
        self._child_spec = threading.local()
        #: Called with a new script-mode TrainingSim; set by the script runner (stretch feature).
        self.script_launcher: Callable[[TrainingSim], None] | None = None
        #: The server's own URL (set by ``server.serve``), given to scripts as AWS_ENDPOINT_URL.
        self.endpoint_url: str | None = None

    # ------------------------------------------------------------------ creation hooks (moto patches)

    def on_training_created(self, job: Any, account_id: str, region: str) -> None:
        """
        Plan the lifecycle of a new moto training job (called from the patched ``FakeTrainingJob``).

        :param job: The new ``FakeTrainingJob``.
        :param account_id: Its account.
        :param region: Its region.
        """
        spec = getattr(self._child_spec, "value", None)
        now = time.time()
        created = spec["created"] if spec else now
        duration = spec["duration"] if spec else self.config.training_seconds
        duration, failure_reason = self._apply_rule("training", job.training_job_name, duration)
        metric_names = [m["Name"] for m in (job.algorithm_specification.get("MetricDefinitions") or []) if "Name" in m]
        if spec and spec.get("objective_metric") and spec["objective_metric"] not in metric_names:
            metric_names.append(spec["objective_metric"])
        if not metric_names:
            metric_names = [DEFAULT_METRIC]
        sim = TrainingSim(
            account_id=account_id,
            region=region,
            name=job.training_job_name,
            job=job,
            created=created,
            events=self.plan_training(created, created + duration, failed=failure_reason is not None),
            failure_reason=failure_reason,
            metric_names=metric_names,
            log_stream=f"{job.training_job_name}/algo-1-{int(created)}",
            tuning_name=spec["tuning_name"] if spec else None,
        )
        if (
            self.config.run_scripts
            and failure_reason is None
            and self.script_launcher is not None
            and _has_source_code(job)
        ):
            sim.script_mode = True
            sim.events = [(created, "Starting")]
        job.creation_time = to_datetime(created)
        job.final_metric_data_list = None
        self.training[(account_id, region, sim.name)] = sim
        self._apply_training(sim, max(now, created))
        if sim.script_mode and self.script_launcher is not None:
            self.script_launcher(sim)

    def _apply_rule(self, kind: str, name: str, duration: float) -> tuple[float, str | None]:
        """
        The duration and failure reason of a new job after the first matching rule.

        :param kind: ``training`` or ``tuning``.
        :param name: the job name.
        :param duration: the configured duration, used when no rule sets one.
        """
        rule = self.rules.match(kind, name)
        if rule is None:
            return duration, None
        seconds = duration if rule.seconds is None else rule.seconds
        return seconds, rule.failure_reason if rule.outcome == "Failed" else None

    def on_tuning_created(self, job: Any, account_id: str, region: str) -> None:
        """
        Plan a new moto hyperparameter tuning job (called from the patched ``HyperParameterTuningJob``).

        :param job: The new ``HyperParameterTuningJob``.
        :param account_id: Its account.
        :param region: Its region.
        """
        now = time.time()
        name = job.hyper_parameter_tuning_job_name
        duration, failure_reason = self._apply_rule("tuning", name, self.config.tuning_seconds)
        limits = (job.hyper_parameter_tuning_job_config or {}).get("ResourceLimits") or {}
        count = int(limits.get("MaxNumberOfTrainingJobs") or DEFAULT_TUNING_CHILDREN)
        count = max(1, min(count, MAX_TUNING_CHILDREN))
        parallel = max(1, min(int(limits.get("MaxParallelTrainingJobs") or count), count))
        waves = math.ceil(count / parallel)
        wave = duration / waves
        starts = [now + (i // parallel) * wave for i in range(count)]
        ends = [now + (i // parallel + 1) * wave for i in range(count)]
        sim = TuningSim(
            account_id=account_id,
            region=region,
            name=name,
            job=job,
            created=now,
            end=max(ends),
            child_starts=starts,
            child_ends=ends,
            failure_reason=failure_reason,
        )
        job.creation_time = job.last_modified_time = to_datetime(now)
        self.tuning[(account_id, region, name)] = sim
        self._apply_tuning(sim, now)

    # ------------------------------------------------------------------------------- planning

    @staticmethod
    def plan_training(start: float, end: float, failed: bool) -> list[tuple[float, str]]:
        """
        Timed SecondaryStatus events of a job running from ``start`` to ``end``.

        :param start: Unix creation time.
        :param end: Unix time the job becomes terminal.
        :param failed: End in ``Failed`` (after ``Training``) instead of ``Completed``.
        """
        span = max(0.0, end - start)
        events = [(start + fraction * span, status) for status, fraction in _PHASES]
        if failed:
            events = events[:3]
        events.append((end, "Failed" if failed else "Completed"))
        return events

    # ------------------------------------------------------------------------------- ticking

    def tick(self, now: float | None = None) -> None:
        """
        Bring every simulated job to its state at ``now`` (default: current time).

        :param now: Unix time.
        """
        now = time.time() if now is None else now
        for sim in list(self.training.values()):
            if not sim.finalized:
                self._apply_training(sim, now)
        for tsim in list(self.tuning.values()):
            if tsim.terminal_at is None:
                self._apply_tuning(tsim, now)

    def _apply_training(self, sim: TrainingSim, now: float) -> None:
        job = sim.job
        visible = sim.visible_events(now)
        last_time, secondary = visible[-1]
        status = primary_status(secondary)
        transitions = []
        for index, (ts, st) in enumerate(visible):
            entry: dict[str, Any] = {
                "Status": st,
                "StartTime": to_datetime(ts),
                "StatusMessage": _STATUS_MESSAGES.get(st, st),
            }
            if index + 1 < len(visible):
                entry["EndTime"] = to_datetime(visible[index + 1][0])
            elif st in TERMINAL_TRAINING:
                entry["EndTime"] = to_datetime(ts)
            transitions.append(entry)
        job.secondary_status = secondary
        job.training_job_status = status
        job.secondary_status_transitions = transitions
        job.last_modified_time = to_datetime(last_time)
        start = next((ts for ts, st in visible if st == "Downloading"), None)
        job.training_start_time = to_datetime(start) if start is not None else None
        terminal = status in TERMINAL_TRAINING
        job.training_end_time = to_datetime(last_time) if terminal else None
        if terminal and start is not None:
            seconds = max(1, math.ceil(last_time - start))
            job.training_time_in_seconds = seconds
            job.billable_time_in_seconds = seconds
        else:
            job.training_time_in_seconds = None
            job.billable_time_in_seconds = None
        job.failure_reason = sim.failure_reason if status == "Failed" else None
        if status == "Completed":
            job.final_metric_data_list = [
                {"MetricName": name, "Value": value, "Timestamp": to_datetime(last_time)}
                for name, value in sim.metrics().items()
            ] or None
        else:
            job.final_metric_data_list = None
        self._emit_logs(sim, visible)
        if terminal:
            sim.finalized = True
            if status == "Completed":
                self._store_model(sim)

    def _emit_logs(self, sim: TrainingSim, visible: list[tuple[float, str]]) -> None:
        lines: list[tuple[float, str]] = []
        for ts, status in visible[sim.applied :]:
            lines.extend((ts, line) for line in self._log_lines(sim, status))
        sim.applied = len(visible)
        lines.extend(sim.pending_log)
        sim.pending_log.clear()
        lines.sort(key=lambda item: item[0])
        moto_access.append_log_events(
            sim.account_id, sim.region, moto_access.TRAINING_LOG_GROUP, sim.log_stream, lines
        )

    def _log_lines(self, sim: TrainingSim, status: str) -> list[str]:
        job = sim.job
        if status == "Starting":
            resources = job.resource_config or {}
            return [
                f"LocalSageMaker: starting training job {sim.name} "
                f"({resources.get('InstanceType', 'ml.m5.large')} x{resources.get('InstanceCount', 1)})",
                f"Hyperparameters: {json.dumps(sim.hyperparameters, sort_keys=True)}",
            ]
        if status == "Downloading":
            channels = [c.get("ChannelName") for c in (job.input_data_config or [])]
            return [f"Downloading input data for channels {channels}"]
        if status == "Training":
            if sim.script_mode:
                return ["Invoking user training script."]
            return [f"epoch 1: {name}={_midway(name, value):.6f}" for name, value in sim.metrics().items()]
        if status == "Uploading":
            return [f"Uploading model artifacts to {job.model_artifacts['S3ModelArtifacts']}"]
        if status == "Completed":
            if sim.script_mode:
                return ["Training completed successfully."]
            metrics = [f"final: {name}={value:.6f}" for name, value in sim.metrics().items()]
            return [*metrics, "Training completed successfully."]
        if status == "Failed":
            return [f"ERROR: {sim.failure_reason}", "Training job failed."]
        if status == "Stopping":
            return ["Received stop request, stopping training."]
        if status == "Stopped":
            return ["Training job stopped."]
        return [status]

    def _store_model(self, sim: TrainingSim) -> None:
        uri = sim.job.model_artifacts.get("S3ModelArtifacts", "")
        body = sim.model_tar
        if body is None:
            manifest = {
                "training_job_name": sim.name,
                "hyperparameters": sim.hyperparameters,
                "metrics": sim.metrics(),
                "generated_by": "airflow_provider_smtrain.testing (LocalSageMaker)",
            }
            body = tar_gz({"model.json": json.dumps(manifest, indent=2, sort_keys=True).encode()})
        try:
            moto_access.s3_put(uri, body)
        except Exception:
            log.exception("could not store model artifacts at %s", uri)

    def _apply_tuning(self, sim: TuningSim, now: float) -> None:
        job = sim.job
        if sim.stop_at is None and sim.status == "InProgress":
            for index, start in enumerate(sim.child_starts):
                if index >= len(sim.children) and start <= now:
                    self._spawn_child(sim, index)
        children = [self.training[(sim.account_id, sim.region, name)] for name in sim.children]
        for child in children:
            if not child.finalized:
                self._apply_training(child, now)
        statuses = [child.job.training_job_status for child in children]
        counters = {
            "Completed": statuses.count("Completed"),
            "InProgress": statuses.count("InProgress") + statuses.count("Stopping"),
            "RetryableError": 0,
            "NonRetryableError": statuses.count("Failed"),
            "Stopped": statuses.count("Stopped"),
        }
        job.training_job_status_counters = counters
        job.objective_status_counters = {
            "Succeeded": counters["Completed"],
            "Pending": counters["InProgress"],
            "Failed": counters["NonRetryableError"] + counters["Stopped"],
        }
        last_change = max([sim.created] + [c.visible_events(now)[-1][0] for c in children])
        all_children_done = all(s in TERMINAL_TRAINING for s in statuses)
        if sim.stop_at is not None:
            stopped_at = sim.stop_at + sim.stop_seconds
            if now >= stopped_at and all_children_done:
                sim.status, sim.terminal_at = "Stopped", stopped_at
            else:
                sim.status = "Stopping"
            last_change = max(last_change, sim.stop_at)
        elif now >= sim.end and all_children_done and len(children) == len(sim.child_starts):
            sim.terminal_at = max(sim.end, last_change)
            if sim.failure_reason is not None:
                sim.status = "Failed"
            elif counters["Completed"] > 0:
                sim.status = "Completed"
            else:
                sim.status = "Failed"
                sim.failure_reason = "All training jobs failed. See the FailureReason of the training jobs."
        job.hyper_parameter_tuning_job_status = sim.status
        if sim.terminal_at is not None:
            last_change = max(last_change, sim.terminal_at)
            job.hyper_parameter_tuning_end_time = to_datetime(sim.terminal_at)
        else:
            job.hyper_parameter_tuning_end_time = None
        job.last_modified_time = to_datetime(last_change)
        job.failure_reason = sim.failure_reason if sim.status == "Failed" else None
        best = self.best_child(sim)
        job.best_training_job = best
        job.OverallBestTrainingJob = best
        job.tuning_job_completion_details = None
        job.consumed_resources = {
            "RuntimeInSeconds": int(sum(c.job.billable_time_in_seconds or 0 for c in children))
        }

    def _spawn_child(self, sim: TuningSim, index: int) -> None:
        from moto.sagemaker.models import sagemaker_backends

        definitions = sim.definitions()
        definition = definitions[index % len(definitions)]
        ranges = sim.config.get("ParameterRanges") or definition.get("HyperParameterRanges") or {}
        tuned = sample_hyperparameters(ranges, f"{sim.name}/{index}")
        suffix = hashlib.sha256(f"{sim.name}/{index}".encode()).hexdigest()[:8]
        child_name = f"{sim.name}-{index + 1:03d}-{suffix}"
        objective = sim.objective(definition)
        algorithm = copy.deepcopy(definition.get("AlgorithmSpecification") or {})
        backend: Any = sagemaker_backends[sim.account_id][sim.region]
        self._child_spec.value = {
            "created": sim.child_starts[index],
            "duration": sim.child_ends[index] - sim.child_starts[index],
            "tuning_name": sim.name,
            "objective_metric": objective.get("MetricName") if objective else None,
        }
        try:
            child: Any = backend.create_training_job(
                training_job_name=child_name,
                hyper_parameters={**(definition.get("StaticHyperParameters") or {}), **tuned},
                algorithm_specification=algorithm,
                role_arn=definition.get("RoleArn"),
                input_data_config=copy.deepcopy(definition.get("InputDataConfig") or []),
                output_data_config=copy.deepcopy(definition.get("OutputDataConfig") or {"S3OutputPath": ""}),
                resource_config=copy.deepcopy(definition.get("ResourceConfig") or {}),
                vpc_config=definition.get("VpcConfig"),
                stopping_condition=definition.get("StoppingCondition"),
                tags=[],
                enable_network_isolation=definition.get("EnableNetworkIsolation", False),
                enable_inter_container_traffic_encryption=definition.get(
                    "EnableInterContainerTrafficEncryption", False
                ),
                enable_managed_spot_training=definition.get("EnableManagedSpotTraining", False),
                checkpoint_config=definition.get("CheckpointConfig"),
                debug_hook_config=None,
                debug_rule_configurations=None,
                tensor_board_output_config=None,
                experiment_config=None,
            )
        finally:
            self._child_spec.value = None
        child.tuning_job_arn = sim.job.arn
        sim.children.append(child_name)
        sim.tuned[child_name] = tuned

    # ------------------------------------------------------------------------------- tuning views

    def child_summary(self, sim: TuningSim, child_name: str) -> dict[str, Any]:
        """
        HyperParameterTrainingJobSummary of one child.

        :param sim: The tuning job.
        :param child_name: Child training job name.
        """
        child = self.training[(sim.account_id, sim.region, child_name)]
        job = child.job
        definitions = sim.definitions()
        index = sim.children.index(child_name)
        definition = definitions[index % len(definitions)]
        summary: dict[str, Any] = {
            "TrainingJobName": child_name,
            "TrainingJobArn": job.arn,
            "TuningJobName": sim.name,
            "CreationTime": job.creation_time,
            "TrainingJobStatus": job.training_job_status,
            "TunedHyperParameters": dict(sim.tuned.get(child_name, {})),
        }
        if definition.get("DefinitionName"):
            summary["TrainingJobDefinitionName"] = definition["DefinitionName"]
        if job.training_start_time is not None:
            summary["TrainingStartTime"] = job.training_start_time
        if job.training_end_time is not None:
            summary["TrainingEndTime"] = job.training_end_time
        if job.failure_reason:
            summary["FailureReason"] = job.failure_reason
        objective = sim.objective(definition)
        status = job.training_job_status
        if status == "Completed" and objective:
            value = child.metrics().get(objective["MetricName"])
            summary["FinalHyperParameterTuningJobObjectiveMetric"] = {
                "Type": objective.get("Type", "Maximize"),
                "MetricName": objective["MetricName"],
                "Value": value,
            }
            summary["ObjectiveStatus"] = "Succeeded"
        elif status in ("InProgress", "Stopping"):
            summary["ObjectiveStatus"] = "Pending"
        else:
            summary["ObjectiveStatus"] = "Failed"
        return summary

    def best_child(self, sim: TuningSim) -> dict[str, Any] | None:
        """
        BestTrainingJob of a tuning job (``None`` until a child completed with an objective value).

        :param sim: The tuning job.
        """
        best: dict[str, Any] | None = None
        for name in sim.children:
            summary = self.child_summary(sim, name)
            metric = summary.get("FinalHyperParameterTuningJobObjectiveMetric")
            if metric is None or metric.get("Value") is None:
                continue
            if best is None:
                best = summary
                continue
            current = best["FinalHyperParameterTuningJobObjectiveMetric"]["Value"]
            better = metric["Value"] < current if metric["Type"] == "Minimize" else metric["Value"] > current
            if better:
                best = summary
        return best

    def list_children(
        self,
        sim: TuningSim,
        *,
        status_equals: str | None = None,
        sort_by: str | None = None,
        sort_order: str | None = None,
    ) -> list[dict[str, Any]]:
        """
        Summaries of a tuning job's children (for ListTrainingJobsForHyperParameterTuningJob).

        :param sim: The tuning job.
        :param status_equals: Only children in this TrainingJobStatus.
        :param sort_by: ``Name`` (default), ``CreationTime``, ``Status`` or ``FinalObjectiveMetricValue``.
        :param sort_order: ``Ascending`` (default) or ``Descending``.
        """
        summaries = [self.child_summary(sim, name) for name in sim.children]
        if status_equals:
            summaries = [s for s in summaries if s["TrainingJobStatus"] == status_equals]
        key: Callable[[dict[str, Any]], Any]
        if sort_by == "CreationTime":
            key = lambda s: (s["CreationTime"], s["TrainingJobName"])  # noqa: E731
        elif sort_by == "Status":
            key = lambda s: (s["TrainingJobStatus"], s["TrainingJobName"])  # noqa: E731
        elif sort_by == "FinalObjectiveMetricValue":
            missing = float("-inf") if sort_order == "Descending" else float("inf")

            def key(s: dict[str, Any]) -> Any:
                metric = s.get("FinalHyperParameterTuningJobObjectiveMetric") or {}
                value = metric.get("Value")
                return (missing if value is None else value, s["TrainingJobName"])
        else:
            key = lambda s: s["TrainingJobName"]  # noqa: E731
        return sorted(summaries, key=key, reverse=sort_order == "Descending")

    # ------------------------------------------------------------------------------- stopping

    def stop_training(self, account_id: str, region: str, name: str, now: float | None = None) -> None:
        """
        StopTrainingJob: ``InProgress`` -> ``Stopping`` -> ``Stopped`` after ``stop_seconds``.

        :param account_id: Account.
        :param region: Region.
        :param name: Training job name.
        :param now: Unix time of the request.
        :raises LookupError: Unknown job.
        :raises ValueError: Job not ``InProgress`` (message like AWS).
        """
        now = time.time() if now is None else now
        sim = self.training.get((account_id, region, name))
        if sim is None:
            raise LookupError(name)
        self._apply_training(sim, now)
        status = sim.job.training_job_status
        if status != "InProgress":
            raise ValueError(f"The request was rejected because the training job is in status {status}.")
        self._stop_sim(sim, now, self.config.stop_seconds)

    def _stop_sim(self, sim: TrainingSim, now: float, stop_seconds: float) -> None:
        sim.stop_requested = True
        sim.events = [event for event in sim.events if event[0] <= now]
        sim.events += [(now, "Stopping"), (now + stop_seconds, "Stopped")]
        if sim.on_stop is not None:
            sim.on_stop()
        self._apply_training(sim, now)

    def stop_tuning(self, account_id: str, region: str, name: str, now: float | None = None) -> None:
        """
        StopHyperParameterTuningJob: stop the job and its running children.

        :param account_id: Account.
        :param region: Region.
        :param name: Tuning job name.
        :param now: Unix time of the request.
        :raises LookupError: Unknown job.
        :raises ValueError: Job not ``InProgress``.
        """
        now = time.time() if now is None else now
        sim = self.tuning.get((account_id, region, name))
        if sim is None:
            raise LookupError(name)
        self._apply_tuning(sim, now)
        if sim.status != "InProgress":
            raise ValueError(
                f"The request was rejected because the hyperparameter tuning job is in status {sim.status}."
            )
        sim.stop_at = now
        sim.stop_seconds = self.config.stop_seconds
        for child_name in sim.children:
            child = self.training[(sim.account_id, sim.region, child_name)]
            if child.job.training_job_status == "InProgress":
                self._stop_sim(child, now, sim.stop_seconds)
        self._apply_tuning(sim, now)

    # ------------------------------------------------------------------------------- views / reset

    def snapshot(self) -> dict[str, Any]:
        """JSON-able view of every simulated job (control API ``/_local/jobs``)."""
        now = time.time()
        return {
            "training": [sim.summary(now) for sim in self.training.values()],
            "tuning": [
                {
                    "name": sim.name,
                    "account_id": sim.account_id,
                    "region": sim.region,
                    "status": sim.status,
                    "children": list(sim.children),
                    "planned_end": sim.end,
                }
                for sim in self.tuning.values()
            ],
        }

    def clear(self) -> None:
        """Forget every simulated job (stopping running scripts)."""
        for sim in self.training.values():
            if sim.on_stop is not None and not sim.finalized:
                sim.stop_requested = True
                sim.on_stop()
        self.training.clear()
        self.tuning.clear()


def sample_hyperparameters(ranges: dict[str, Any], seed: str) -> dict[str, str]:
    """
    Deterministically sample one value per tunable hyperparameter.

    :param ranges: ``ParameterRanges`` (Integer/Continuous/CategoricalParameterRanges).
    :param seed: Seed text (e.g. ``<tuning job>/<index>``).
    """
    rng = random.Random(seed)
    values: dict[str, str] = {}
    for spec in ranges.get("IntegerParameterRanges") or []:
        low, high = int(float(spec["MinValue"])), int(float(spec["MaxValue"]))
        if spec.get("ScalingType") == "Logarithmic" and low > 0:
            values[spec["Name"]] = str(int(round(math.exp(rng.uniform(math.log(low), math.log(high))))))
        else:
            values[spec["Name"]] = str(rng.randint(low, high))
    for spec in ranges.get("ContinuousParameterRanges") or []:
        low_f, high_f = float(spec["MinValue"]), float(spec["MaxValue"])
        if spec.get("ScalingType") == "Logarithmic" and low_f > 0:
            value = math.exp(rng.uniform(math.log(low_f), math.log(high_f)))
        else:
            value = rng.uniform(low_f, high_f)
        values[spec["Name"]] = f"{value:.6g}"
    for spec in ranges.get("CategoricalParameterRanges") or []:
        choices = list(spec.get("Values") or [])
        if choices:
            values[spec["Name"]] = str(rng.choice(choices))
    return values


def _has_source_code(job: Any) -> bool:
    channels = {c.get("ChannelName") for c in (job.input_data_config or [])}
    return "sm_drivers" in channels and "code" in channels


def _midway(metric_name: str, final: float) -> float:
    """An intermediate value of a metric: worse than the final one."""
    lowered = metric_name.lower()
    if any(word in lowered for word in ("loss", "error", "rmse", "mse", "mae", "perplexity")):
        return final * 1.5
    return final * 0.8

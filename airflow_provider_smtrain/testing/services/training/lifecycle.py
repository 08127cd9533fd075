"""Lifecycle of simulated training jobs: plan at creation, apply lazily, stop, force (server process only)."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable
from typing import Any

from airflow_provider_smtrain.jobs.console import TRAINING_LOG_GROUP
from airflow_provider_smtrain.testing import moto_support
from airflow_provider_smtrain.testing.engine.simulator import Key, Simulator, key_named
from airflow_provider_smtrain.testing.engine.timeline import (
    TERMINAL,
    Event,
    event,
    modified_time,
    plan_training,
    secondary_status_transitions,
    to_datetime,
)
from airflow_provider_smtrain.testing.services.training import serverless
from airflow_provider_smtrain.testing.services.training.model import (
    DEFAULT_METRIC,
    STATUS_MESSAGES,
    ChildPlan,
    TrainingSim,
    tar_gz,
)

log = logging.getLogger(__name__)

#: SecondaryStatus a forced status gets when none is given.
FORCED_SECONDARY = {
    "InProgress": "Training",
    "Completed": "Completed",
    "Failed": "Failed",
    "Stopping": "Stopping",
    "Stopped": "Stopped",
}
DEFAULT_FORCED_FAILURE = "AlgorithmError: forced failure (LocalSageMaker)"


class TrainingService:
    """
    The simulated training jobs of every account and region.

    :param simulator: The simulator (lock, clock, config, rules).
    """

    name = "training"

    def __init__(self, simulator: Simulator) -> None:
        self.simulator = simulator
        self.jobs: dict[Key, TrainingSim] = {}
        #: Children a tuning job will create, by key; popped when moto creates them.
        self.planned: dict[Key, ChildPlan] = {}
        #: Called with a new script-mode job; set by the script runner.
        self.script_launcher: Callable[[TrainingSim], None] | None = None
        #: The serverless members of the CreateTrainingJob request being handled (set by the patch).
        self.pending_serverless: serverless.ServerlessRequest | None = None

    # ------------------------------------------------------------------------------- creation

    def on_created(self, job: Any, account_id: str, region: str) -> None:
        """
        Plan the lifecycle of a new moto training job (called from the patched ``FakeTrainingJob``).

        :param job: The new ``FakeTrainingJob``.
        :param account_id: Its account.
        :param region: Its region.
        """
        name = job.training_job_name
        plan = self.planned.pop((account_id, region, name), None)
        now = self.simulator.clock.now()
        created = plan.created if plan else now
        duration = plan.duration if plan else self.simulator.config.training_seconds
        duration, failure_reason = self.simulator.outcome("training", name, duration)
        definitions = (job.algorithm_specification or {}).get("MetricDefinitions") or []
        metric_names = [m["Name"] for m in definitions if "Name" in m]
        if plan and plan.objective_metric and plan.objective_metric not in metric_names:
            metric_names.append(plan.objective_metric)
        max_runtime = (job.stopping_condition or {}).get("MaxRuntimeInSeconds")
        sim = TrainingSim(
            account_id=account_id,
            region=region,
            name=name,
            job=job,
            created=created,
            events=plan_training(created, created + duration, failed=failure_reason is not None),
            failure_reason=failure_reason,
            metric_names=metric_names or [DEFAULT_METRIC],
            log_stream=f"{name}/algo-1-{int(created)}",
            tuning_name=plan.tuning_key[2] if plan else None,
            max_runtime_at=created + float(max_runtime) if max_runtime else None,
        )
        config = self.simulator.config
        if config.run_scripts and failure_reason is None and self.script_launcher and _has_source_code(job):
            sim.script_mode = True
            sim.events = [event(created, "Starting")]
        job.creation_time = job.last_modified_time = to_datetime(created)
        job.final_metric_data_list = None
        if self.pending_serverless is not None and plan is None:
            serverless.attach(sim, self.pending_serverless)
        self.jobs[sim.key] = sim
        self.apply(sim, max(now, created))
        if sim.script_mode and self.script_launcher is not None:
            self.script_launcher(sim)

    # ------------------------------------------------------------------------------- applying

    def touch(self, key: Key) -> TrainingSim | None:
        """
        Bring one job up to the simulated time (creating it first if it is a due tuning child).

        :param key: ``(account, region, name)``.
        """
        sim = self.jobs.get(key)
        if sim is None and key in self.planned:
            self.simulator.service("tuning").touch(self.planned[key].tuning_key)
            sim = self.jobs.get(key)
        if sim is not None and not sim.finalized:
            self.apply(sim, self.simulator.clock.now())
        return sim

    def apply(self, sim: TrainingSim, now: float) -> None:
        """
        Write the job's state at ``now`` into its moto object; emit its logs and model when due.

        :param sim: The job.
        :param now: Simulated unix time.
        """
        self.simulator.ticks[self.name] += 1
        if sim.max_runtime_at is not None and sim.max_runtime_at <= now and not sim.stop_requested:
            if sim.visible_events(sim.max_runtime_at)[-1].status == "InProgress":
                self.stop_sim(sim, sim.max_runtime_at, final="MaxRuntimeExceeded")
        job = sim.job
        seen = sim.visible_events(now)
        last = seen[-1]
        transitions = secondary_status_transitions(seen, STATUS_MESSAGES)
        changed = (job.training_job_status, job.secondary_status) != (last.status, last.secondary)
        job.secondary_status = last.secondary
        job.training_job_status = last.status
        job.secondary_status_transitions = transitions
        job.last_modified_time = modified_time(job.last_modified_time, to_datetime(last.at), changed)
        start = next((e.at for e in seen if e.secondary == "Downloading"), None)
        job.training_start_time = to_datetime(start) if start is not None else None
        terminal = last.status in TERMINAL
        job.training_end_time = to_datetime(last.at) if terminal else None
        seconds = max(1, math.ceil(last.at - start)) if terminal and start is not None else None
        job.training_time_in_seconds = job.billable_time_in_seconds = seconds
        job.failure_reason = sim.failure_reason if last.status == "Failed" else None
        if last.status == "Completed":
            job.final_metric_data_list = [
                {"MetricName": name, "Value": value, "Timestamp": to_datetime(last.at)}
                for name, value in sim.metrics().items()
            ] or None
        else:
            job.final_metric_data_list = None
        self._emit_logs(sim, seen)
        if terminal:
            sim.finalized = True
            if last.status == "Completed":
                self._store_model(sim, last.at)
                if sim.serverless is not None:
                    serverless.on_completed(sim, last.at)

    def _emit_logs(self, sim: TrainingSim, seen: list[Event]) -> None:
        lines: list[tuple[float, str]] = []
        for ts, secondary, _ in seen[sim.applied :]:
            lines.extend((ts, line) for line in sim.log_lines(secondary))
        sim.applied = len(seen)
        lines.extend(sim.pending_log)
        sim.pending_log.clear()
        lines.sort(key=lambda item: item[0])
        moto_support.append_log_events(
            sim.account_id, sim.region, TRAINING_LOG_GROUP, sim.log_stream, lines
        )

    def _store_model(self, sim: TrainingSim, at: float) -> None:
        uri = sim.job.model_artifacts.get("S3ModelArtifacts", "")
        body = sim.model_tar
        if body is None:
            manifest = {
                "training_job_name": sim.name,
                "hyperparameters": sim.hyperparameters,
                "metrics": sim.metrics(),
                "generated_by": "airflow_provider_smtrain.testing (LocalSageMaker)",
            }
            body = tar_gz({"model.json": json.dumps(manifest, indent=2, sort_keys=True).encode()}, at)
        try:
            moto_support.s3_put(uri, body)
        except Exception:
            log.exception("could not store model artifacts at %s", uri)

    # ------------------------------------------------------------------------------- stop / force

    def stop(self, key: Key) -> None:
        """
        StopTrainingJob: ``InProgress`` -> ``Stopping`` -> ``Stopped`` after ``stop_seconds``.

        :param key: ``(account, region, name)``.
        :raises LookupError: Unknown job.
        :raises ValueError: Job not ``InProgress`` (message like AWS).
        """
        sim = self.touch(key)
        if sim is None:
            raise LookupError(key[2])
        status = sim.job.training_job_status
        if status != "InProgress":
            raise ValueError(f"The request was rejected because the training job is in status {status}.")
        now = self.simulator.clock.now()
        self.stop_sim(sim, now)
        self.apply(sim, now)

    def stop_sim(self, sim: TrainingSim, at: float, final: str = "Stopped") -> None:
        """
        Replan a job to stop at ``at`` (``Stopping``, then ``final`` after ``stop_seconds``); kill its script.

        :param sim: The job.
        :param at: Simulated time of the stop.
        :param final: The final SecondaryStatus (``Stopped`` or ``MaxRuntimeExceeded``).
        """
        sim.stop_requested = True
        sim.finalized = False
        kept = [e for e in sim.events if e.at <= at]
        sim.applied = min(sim.applied, len(kept))
        stop_seconds = self.simulator.config.stop_seconds
        sim.events = [*kept, event(at, "Stopping"), event(at + stop_seconds, final, "Stopped")]
        if sim.on_stop is not None:
            sim.on_stop()

    def force(self, key: Key, status: str, secondary_status: str | None, failure_reason: str | None) -> None:
        """
        Put a job into a state now and keep it there (no further planned events, no MaxRuntime).

        :param key: ``(account, region, name)``.
        :param status: TrainingJobStatus.
        :param secondary_status: SecondaryStatus; default derived from ``status``.
        :param failure_reason: FailureReason (``Failed`` only; a default one otherwise).
        """
        sim = self.jobs[key]
        now = self.simulator.clock.now()
        kept = [e for e in sim.events if e.at <= now] or sim.events[:1]
        sim.events = [*kept, Event(now, secondary_status or FORCED_SECONDARY[status], status)]
        sim.applied = min(sim.applied, len(kept))
        sim.max_runtime_at = None
        sim.finalized = False
        if status == "Failed":
            sim.failure_reason = failure_reason or sim.failure_reason or DEFAULT_FORCED_FAILURE
        if status != "InProgress":  # no script run may overwrite the forced outcome
            sim.stop_requested = True
            if sim.on_stop is not None:
                sim.on_stop()
        self.apply(sim, now)

    def find(self, name: str, account_id: str | None, region: str | None) -> Key | None:
        """
        The key of the job called ``name``.

        :param name: Job name.
        :param account_id: Account, ``None`` = any.
        :param region: Region, ``None`` = any.
        """
        key = key_named([*self.jobs, *self.planned], name, account_id, region)
        if key is None:
            return None
        self.touch(key)
        return key if key in self.jobs else None

    # ------------------------------------------------------------------------------- views / reset

    def snapshot(self) -> list[dict[str, Any]]:
        """JSON-able view of every job, brought up to date."""
        now = self.simulator.clock.now()
        for sim in self.jobs.values():
            if not sim.finalized:
                self.apply(sim, now)
        return [sim.summary(now) for sim in self.jobs.values()]

    def clear(self) -> None:
        """Forget every job (stopping running scripts)."""
        for sim in self.jobs.values():
            if sim.on_stop is not None and not sim.finalized:
                sim.stop_requested = True
                sim.on_stop()
        self.jobs.clear()
        self.planned.clear()


def _has_source_code(job: Any) -> bool:
    channels = {c.get("ChannelName") for c in (job.input_data_config or [])}
    return "sm_drivers" in channels and "code" in channels

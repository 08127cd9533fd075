"""Lifecycle of simulated tuning jobs: children over time, counters, best job, stop, force (server only)."""

from __future__ import annotations

import copy
import hashlib
import math
from typing import Any

from airflow_provider_smtrain.testing.engine.simulator import Key, Simulator, key_named
from airflow_provider_smtrain.testing.engine.timeline import TERMINAL, modified_time, to_datetime
from airflow_provider_smtrain.testing.services.training.lifecycle import TrainingService
from airflow_provider_smtrain.testing.services.training.model import ChildPlan, TrainingSim
from airflow_provider_smtrain.testing.services.tuning.model import TuningSim, sample_hyperparameters
from airflow_provider_smtrain.testing.services.tuning.views import best_child

DEFAULT_TUNING_CHILDREN = 2
MAX_TUNING_CHILDREN = 100
ALL_CHILDREN_FAILED = "All training jobs failed. See the FailureReason of the training jobs."


class TuningService:
    """
    The simulated hyperparameter tuning jobs of every account and region.

    :param simulator: The simulator (lock, clock, config, rules).
    :param training: The training service, which runs the children.
    """

    name = "tuning"

    def __init__(self, simulator: Simulator, training: TrainingService) -> None:
        self.simulator = simulator
        self.training = training
        self.jobs: dict[Key, TuningSim] = {}

    # ------------------------------------------------------------------------------- creation

    def on_created(self, job: Any, account_id: str, region: str) -> None:
        """
        Plan a new moto tuning job and its children (called from the patched ``HyperParameterTuningJob``).

        :param job: The new ``HyperParameterTuningJob``.
        :param account_id: Its account.
        :param region: Its region.
        """
        now = self.simulator.clock.now()
        name = job.hyper_parameter_tuning_job_name
        duration, failure_reason = self.simulator.outcome(
            "tuning", name, self.simulator.config.tuning_seconds
        )
        limits = (job.hyper_parameter_tuning_job_config or {}).get("ResourceLimits") or {}
        count = int(limits.get("MaxNumberOfTrainingJobs") or DEFAULT_TUNING_CHILDREN)
        count = max(1, min(count, MAX_TUNING_CHILDREN))
        parallel = max(1, min(int(limits.get("MaxParallelTrainingJobs") or count), count))
        wave = duration / math.ceil(count / parallel)
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
            child_names=[_child_name(name, i) for i in range(count)],
            failure_reason=failure_reason,
        )
        for index, child_name in enumerate(sim.child_names):
            objective = sim.objective(sim.definition(index))
            self.training.planned[(account_id, region, child_name)] = ChildPlan(
                tuning_key=sim.key,
                created=starts[index],
                duration=ends[index] - starts[index],
                objective_metric=objective.get("MetricName") if objective else None,
            )
        job.creation_time = job.last_modified_time = to_datetime(now)
        self.jobs[sim.key] = sim
        self.apply(sim, now)

    # ------------------------------------------------------------------------------- applying

    def touch(self, key: Key) -> TuningSim | None:
        """
        Bring one tuning job and its children up to the simulated time.

        :param key: ``(account, region, name)``.
        """
        sim = self.jobs.get(key)
        if sim is not None and sim.terminal_at is None:
            self.apply(sim, self.simulator.clock.now())
        return sim

    def touch_region(self, account_id: str, region: str) -> None:
        """
        Spawn the due children of every running tuning job of one account and region.

        :param account_id: Account.
        :param region: Region.
        """
        for sim in list(self.jobs.values()):
            if sim.terminal_at is None and (sim.account_id, sim.region) == (account_id, region):
                self.touch(sim.key)

    def children(self, sim: TuningSim) -> list[TrainingSim]:
        """
        The child training jobs created so far.

        :param sim: The tuning job.
        """
        return [self.training.jobs[(sim.account_id, sim.region, name)] for name in sim.children]

    def apply(self, sim: TuningSim, now: float) -> None:
        """
        Write the tuning job's state at ``now`` into its moto object, creating due children.

        :param sim: The tuning job.
        :param now: Simulated unix time.
        """
        self.simulator.ticks[self.name] += 1
        job = sim.job
        if sim.stop_at is None and sim.forced_at is None and sim.status == "InProgress":
            for index, start in enumerate(sim.child_starts):
                if index >= len(sim.children) and start <= now:
                    self._spawn_child(sim, index)
        children = self.children(sim)
        for child in children:
            if not child.finalized:
                self.training.apply(child, now)
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
        last_change = max([sim.created] + [c.visible_events(now)[-1].at for c in children])
        all_children_done = all(s in TERMINAL for s in statuses)
        if sim.forced_at is not None:
            last_change = max(last_change, sim.forced_at)
        elif sim.stop_at is not None:
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
                sim.status, sim.failure_reason = "Failed", ALL_CHILDREN_FAILED
        changed = job.hyper_parameter_tuning_job_status != sim.status
        job.hyper_parameter_tuning_job_status = sim.status
        if sim.terminal_at is not None:
            last_change = max(last_change, sim.terminal_at)
        job.hyper_parameter_tuning_end_time = to_datetime(sim.terminal_at) if sim.terminal_at else None
        job.last_modified_time = modified_time(job.last_modified_time, to_datetime(last_change), changed)
        job.failure_reason = sim.failure_reason if sim.status == "Failed" else None
        best = best_child(sim, self.training)
        job.best_training_job = best
        job.OverallBestTrainingJob = best
        job.tuning_job_completion_details = None
        job.consumed_resources = {
            "RuntimeInSeconds": int(sum(c.job.billable_time_in_seconds or 0 for c in children))
        }

    def _spawn_child(self, sim: TuningSim, index: int) -> None:
        """Create child ``index`` through moto; its plan waits in ``training.planned`` under its name."""
        from moto.sagemaker.models import sagemaker_backends

        definition = sim.definition(index)
        ranges = sim.config.get("ParameterRanges") or definition.get("HyperParameterRanges") or {}
        tuned = sample_hyperparameters(ranges, f"{sim.name}/{index}")
        child_name = sim.child_names[index]
        backend: Any = sagemaker_backends[sim.account_id][sim.region]
        child: Any = backend.create_training_job(
            training_job_name=child_name,
            hyper_parameters={**(definition.get("StaticHyperParameters") or {}), **tuned},
            algorithm_specification=copy.deepcopy(definition.get("AlgorithmSpecification") or {}),
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
        child.tuning_job_arn = sim.job.arn
        sim.children.append(child_name)
        sim.tuned[child_name] = tuned

    # ------------------------------------------------------------------------------- stop / force

    def stop(self, key: Key) -> None:
        """
        StopHyperParameterTuningJob: stop the job and its running children.

        :param key: ``(account, region, name)``.
        :raises LookupError: Unknown job.
        :raises ValueError: Job not ``InProgress``.
        """
        sim = self.touch(key)
        if sim is None:
            raise LookupError(key[2])
        if sim.status != "InProgress":
            raise ValueError(
                f"The request was rejected because the hyperparameter tuning job is in status {sim.status}."
            )
        now = self.simulator.clock.now()
        sim.forced_at = None  # a stop ends a forced state, as it ends a planned one
        sim.stop_at = now
        sim.stop_seconds = self.simulator.config.stop_seconds
        self._stop_children(sim, now)
        self.apply(sim, now)

    def _stop_children(self, sim: TuningSim, now: float) -> None:
        for child in self.children(sim):
            if child.job.training_job_status == "InProgress":
                self.training.stop_sim(child, now)

    def force(self, key: Key, status: str, secondary_status: str | None, failure_reason: str | None) -> None:
        """
        Put a tuning job into a state now and keep it there; stopping states stop running children.

        :param key: ``(account, region, name)``.
        :param status: HyperParameterTuningJobStatus.
        :param secondary_status: Ignored (tuning jobs have none).
        :param failure_reason: FailureReason (``Failed`` only).
        """
        sim = self.jobs[key]
        now = self.simulator.clock.now()
        self.apply(sim, now)
        sim.forced_at = now
        sim.status = status
        sim.terminal_at = now if status in TERMINAL else None
        if status == "Failed":
            sim.failure_reason = failure_reason or sim.failure_reason or "Forced failure (LocalSageMaker)"
        if status in ("Stopping", "Stopped"):
            self._stop_children(sim, now)
        self.apply(sim, now)

    def find(self, name: str, account_id: str | None, region: str | None) -> Key | None:
        """
        The key of the tuning job called ``name``.

        :param name: Job name.
        :param account_id: Account, ``None`` = any.
        :param region: Region, ``None`` = any.
        """
        return key_named(self.jobs, name, account_id, region)

    # ------------------------------------------------------------------------------- views / reset

    def snapshot(self) -> list[dict[str, Any]]:
        """JSON-able view of every tuning job, brought up to date."""
        for sim in list(self.jobs.values()):
            self.touch(sim.key)
        return [
            {
                "name": sim.name,
                "account_id": sim.account_id,
                "region": sim.region,
                "status": sim.status,
                "children": list(sim.children),
                "planned_end": sim.end,
            }
            for sim in self.jobs.values()
        ]

    def clear(self) -> None:
        """Forget every tuning job."""
        self.jobs.clear()


def _child_name(tuning_name: str, index: int) -> str:
    suffix = hashlib.sha256(f"{tuning_name}/{index}".encode()).hexdigest()[:8]
    return f"{tuning_name}-{index + 1:03d}-{suffix}"

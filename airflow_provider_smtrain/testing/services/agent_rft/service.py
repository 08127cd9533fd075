"""
AgentRFT jobs (``CreateJob``/``DescribeJob``/``StopJob``/``ListJobs``), which moto lacks entirely (server process only).

A job is planned at creation like a training job (``Starting`` → ``Downloading`` → ``Training`` →
``Uploading`` → ``Completed``, or ``Failed`` by an outcome rule of kind ``agent_rft``) over
``training_seconds`` of simulated time; reads only compute the state at the simulated time. On success
the fine-tuned checkpoint is written under the document's output path and, when the document names an
``OutputModelPackageGroupArn``, a model package version is registered there.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from airflow_provider_smtrain.testing import moto_support
from airflow_provider_smtrain.testing.engine.simulator import Key, Simulator, key_named
from airflow_provider_smtrain.testing.engine.timeline import TERMINAL, Event, event, plan_training
from airflow_provider_smtrain.testing.services import model_packages
from airflow_provider_smtrain.testing.services.agent_rft.model import LOG_GROUP, JobSim
from airflow_provider_smtrain.testing.services.names import NameRule

log = logging.getLogger(__name__)

JOB_NAME = NameRule("jobName", 63, r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")
JOB_CATEGORIES = ("AgentRFT", "AgentRFTEvaluation")
FORCED_SECONDARY = {
    "InProgress": "Training",
    "Completed": "Completed",
    "Failed": "Failed",
    "Stopping": "Stopping",
    "Stopped": "Stopped",
}
DEFAULT_FORCED_FAILURE = "ClientError: forced failure (LocalSageMaker)"


class JobNotFound(LookupError):
    """No job of that name and category (ResourceNotFound)."""


class JobInUse(ValueError):
    """A job of that name exists already (ResourceInUse)."""


class AgentRFTService:
    """
    The simulated AgentRFT jobs of every account and region.

    :param simulator: The simulator (lock, clock, config, rules).
    """

    name = "agent_rft"

    def __init__(self, simulator: Simulator) -> None:
        self.simulator = simulator
        self.jobs: dict[Key, JobSim] = {}

    # ------------------------------------------------------------------------------- API

    def create(self, account_id: str, region: str, params: dict[str, Any]) -> JobSim:
        """
        CreateJob.

        :param account_id: Account.
        :param region: Region.
        :param params: The request.
        :raises ValueError: A ValidationException (message like AWS's).
        :raises JobInUse: The name is taken.
        """
        name = str(params.get("JobName") or "")
        violation = JOB_NAME.violation(name)
        if violation is not None:
            raise ValueError(violation)
        category = self._category(params)
        for member in ("RoleArn", "JobConfigSchemaVersion", "JobConfigDocument"):
            if not params.get(member):
                raise ValueError(f"1 validation error detected: Value null at '{member[0].lower()}{member[1:]}' "
                                 "failed to satisfy constraint: Member must not be null")
        try:
            document = json.loads(params["JobConfigDocument"])
        except ValueError:
            raise ValueError("JobConfigDocument is not a valid JSON document") from None
        if not isinstance(document, dict):
            raise ValueError("JobConfigDocument must be a JSON object")
        group_arn = (document.get("ModelPackageConfig") or {}).get("OutputModelPackageGroupArn")
        if group_arn and not model_packages.group_exists(account_id, region, group_arn):
            raise ValueError(f"Model package group {group_arn} does not exist.")
        key = (account_id, region, name)
        if key in self.jobs:
            raise JobInUse(
                "Job names must be unique within an AWS account and region, and a job with this name "
                f"already exists ({self.jobs[key].arn})"
            )
        now = self.simulator.clock.now()
        duration, failure_reason = self.simulator.outcome(self.name, name, self.simulator.config.training_seconds)
        events = plan_training(now, now + duration, failed=failure_reason is not None)
        training = next(e.at for e in events if e.secondary == "Training")
        uploading = next((e.at for e in events if e.secondary == "Uploading"), events[-1].at)
        sim = JobSim(
            account_id=account_id,
            region=region,
            name=name,
            category=category,
            role_arn=str(params["RoleArn"]),
            schema_version=str(params["JobConfigSchemaVersion"]),
            document=document,
            tags=list(params.get("Tags") or []),
            created=now,
            events=events,
            failure_reason=failure_reason,
            training_window=(training, uploading),
        )
        self.jobs[key] = sim
        self.apply(sim, now)
        return sim

    def get(self, account_id: str, region: str, params: dict[str, Any]) -> JobSim:
        """
        The job a Describe/Stop request names, brought up to the simulated time.

        :param account_id: Account.
        :param region: Region.
        :param params: The request (``JobName``, ``JobCategory``).
        :raises JobNotFound: No such job in that category.
        """
        category = self._category(params)
        name = str(params.get("JobName") or "")
        sim = self.touch((account_id, region, name))
        if sim is None or sim.category != category:
            arn = f"arn:aws:sagemaker:{region}:{account_id}:job/{category}/{name}"
            raise JobNotFound(f"Job {arn} does not exist.")
        return sim

    def stop(self, sim: JobSim) -> None:
        """
        StopJob: ``InProgress`` → ``Stopping`` → ``Stopped`` after ``stop_seconds``.

        :param sim: The job (up to date).
        :raises ValueError: The job is not ``InProgress`` (message like StopTrainingJob's).
        """
        now = self.simulator.clock.now()
        status = sim.last(now).status
        if status != "InProgress":
            raise ValueError(f"The request was rejected because the job is in status {status}.")
        kept = [e for e in sim.events if e.at <= now]
        stop_seconds = self.simulator.config.stop_seconds
        sim.events = [*kept, event(now, "Stopping"), event(now + stop_seconds, "Stopped")]
        self.apply(sim, now)

    def listed(self, account_id: str, region: str, category: str) -> list[JobSim]:
        """
        Every job of one category in an account and region, brought up to date.

        :param account_id: Account.
        :param region: Region.
        :param category: JobCategory.
        """
        now = self.simulator.clock.now()
        found = [s for s in self.jobs.values() if s.key[:2] == (account_id, region) and s.category == category]
        for sim in found:
            self.apply(sim, now)
        return found

    # ------------------------------------------------------------------------------- simulation

    def touch(self, key: Key) -> JobSim | None:
        """
        Bring one job up to the simulated time.

        :param key: ``(account, region, name)``.
        """
        sim = self.jobs.get(key)
        if sim is not None:
            self.apply(sim, self.simulator.clock.now())
        return sim

    def apply(self, sim: JobSim, now: float) -> None:
        """
        Emit the job's due log lines; on completion write its outputs and register its model once.

        :param sim: The job.
        :param now: Simulated unix time.
        """
        self.simulator.ticks[self.name] += 1
        seen = [e for e in sim.events if e.at <= now] or sim.events[:1]
        lines = [(e.at, line) for e in seen[sim.logged :] for line in sim.log_lines(e.secondary)]
        sim.logged = len(seen)
        moto_support.append_log_events(sim.account_id, sim.region, LOG_GROUP, f"{sim.name}/rft-{int(sim.created)}", lines)
        last = seen[-1]
        if last.status == "Completed" and not sim.completed_once:
            sim.completed_once = True
            self._complete(sim, last.at)

    def _complete(self, sim: JobSim, at: float) -> None:
        weights = f"{sim.output_path()}/{sim.name}/checkpoints/hf_merged/"
        base = str((sim.document.get("TrainingConfig") or {}).get("BaseModelArn") or "")
        try:
            moto_support.s3_put(f"{weights}config.json", json.dumps({"base_model_arn": base}).encode())
            moto_support.s3_put(f"{weights}model.safetensors", b"LocalSageMaker placeholder weights")
            manifest = {"job_name": sim.name, "checkpoint_s3_bucket": weights}
            moto_support.s3_put(f"{sim.output_path()}/{sim.name}/manifest.json", json.dumps(manifest).encode())
        except Exception:
            log.exception("could not write the outputs of job %s", sim.name)
        group_arn = (sim.document.get("ModelPackageConfig") or {}).get("OutputModelPackageGroupArn")
        if group_arn and base:
            try:
                sim.output_model_package_arn = model_packages.register_version(
                    sim.account_id,
                    sim.region,
                    group_arn,
                    base_model_arn=base,
                    weights_uri=weights,
                    description=f"Fine-tuned by {sim.category} job {sim.name}",
                    metadata={"JobArn": sim.arn, "CustomizationTechnique": "MultiTurnRL"},
                    at=at,
                )
            except Exception:
                log.exception("could not register a model package version for job %s", sim.name)

    def find(self, name: str, account_id: str | None, region: str | None) -> Key | None:
        """
        The key of the job called ``name``.

        :param name: Job name.
        :param account_id: Account, ``None`` = any.
        :param region: Region, ``None`` = any.
        """
        return key_named(self.jobs, name, account_id, region)

    def force(self, key: Key, status: str, secondary_status: str | None, failure_reason: str | None) -> None:
        """
        Put a job into a state now and keep it there.

        :param key: ``(account, region, name)``.
        :param status: JobStatus.
        :param secondary_status: SecondaryStatus; default derived from ``status``.
        :param failure_reason: FailureReason (``Failed``).
        """
        sim = self.jobs[key]
        now = self.simulator.clock.now()
        kept = [e for e in sim.events if e.at <= now] or sim.events[:1]
        sim.events = [*kept, Event(now, secondary_status or FORCED_SECONDARY[status], status)]
        sim.logged = min(sim.logged, len(kept))
        if status == "Failed":
            sim.failure_reason = failure_reason or sim.failure_reason or DEFAULT_FORCED_FAILURE
        self.apply(sim, now)

    def snapshot(self) -> list[dict[str, Any]]:
        """JSON-able view of every job."""
        now = self.simulator.clock.now()
        out = []
        for sim in self.jobs.values():
            self.apply(sim, now)
            last = sim.last(now)
            out.append(
                {
                    "name": sim.name,
                    "account_id": sim.account_id,
                    "region": sim.region,
                    "category": sim.category,
                    "status": last.status,
                    "secondary_status": last.secondary,
                    "planned_end": sim.events[-1].at,
                    "terminal": last.status in TERMINAL,
                }
            )
        return out

    def clear(self) -> None:
        """Forget every job."""
        self.jobs.clear()

    @staticmethod
    def _category(params: dict[str, Any]) -> str:
        category = params.get("JobCategory")
        if category not in JOB_CATEGORIES:
            raise ValueError(
                f"1 validation error detected: Value '{category}' at 'jobCategory' failed to satisfy constraint: "
                f"Member must satisfy enum value set: [{', '.join(JOB_CATEGORIES)}]"
            )
        return str(category)

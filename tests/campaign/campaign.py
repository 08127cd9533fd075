"""Run campaign scenarios against one local SageMaker and count what the checker finds.

For each scenario the server is reset, its clock frozen, job durations set in virtual minutes, the
one-shot faults queued; then the task instance (and its twin deployment) runs under a
:class:`~tests.campaign.vclock.CampaignClock`, which opens and closes network fault windows and samples
the running jobs at every step. The request log, the final jobs and the samples go to the checker.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import random
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from airflow_provider_smtrain.jobs.clock import use_clock
from tests.campaign.checker import Evidence, Verdict, check, job_key, running_statuses, server_kind
from tests.campaign.driver import Stuck, TaskDriver, TaskRecord
from tests.campaign.faulty import (
    DATASET_RECORDS,
    CampaignFaults,
    build_operator,
    prepare_agent_rft,
    prepare_endpoint,
    prepare_finetune,
)
from tests.campaign.faulty_evaluation import pipeline_death_points, prepare_evaluation
from tests.campaign.plan import DROP_SECONDS, SUBMISSION_RATE_CAP, Scenario, Window, draw
from tests.campaign.vclock import (
    CampaignClock,
    pollers_hold_time,
    schema_checked_once,
    virtual_botocore_backoff,
)

BUCKET = "smtrain-campaign"
#: deployment -> (Airflow connection id, access key that signs its requests)
DEPLOYMENTS = {
    "prod": ("smtrain_campaign", "AKIACAMPAIGNPROD0001"),
    "staging": ("smtrain_campaign_twin", "AKIACAMPAIGNSTAGING1"),
}


#: The campaign runs the triggers as deployed: waiting on the shared status poller
#: (``[smtrain] coalesce_status_reads``). The poller holds virtual time while it works
#: (:func:`~tests.campaign.vclock.pollers_hold_time`), Airflow's acts cut in when due whatever the trigger
#: is doing (``TaskDriver.cut_in``), and a poller silent for more than two intervals is a finding.
CAMPAIGN_ENV = {"AIRFLOW__SMTRAIN__COALESCE_STATUS_READS": "True"}


def connection_env(sm: Any) -> dict[str, str]:
    """The ``AIRFLOW_CONN_*`` variables of both deployments' connections (set them before running)."""
    return {
        f"AIRFLOW_CONN_{conn_id.upper()}": sm.airflow_connection_json(
            access_key_id=key, secret_access_key="s"
        )
        for conn_id, key in DEPLOYMENTS.values()
    }


class Network:
    """Opens and closes a scenario's fault windows as virtual time passes; caps them during submissions."""

    def __init__(self, sm: Any, windows: list[Window], clock: CampaignClock) -> None:
        self.sm, self.windows, self.clock = sm, windows, clock
        self.active: Window | None = None
        self.capped = 0
        self.lock = threading.RLock()
        self.opened: Counter[str] = Counter()

    def on_advance(self, now: float) -> None:
        elapsed = now - self.clock.start
        want = next((w for w in self.windows if w.start <= elapsed < w.end), None)
        with self.lock:
            if want is not self.active:
                self.active = want
                if want is not None:
                    self.opened[f"network window: {want.label}"] += 1
                self.apply()

    def apply(self) -> None:
        if self.active is None:
            self.sm.set_faults()
            return
        settings = dict(self.active.settings)
        if self.capped:
            for rate in ("throttle_rate", "error_5xx_rate", "lost_response_rate", "dropped_request_rate"):
                if rate in settings:
                    settings[rate] = min(settings[rate], SUBMISSION_RATE_CAP / 2)
        self.sm.set_faults(**settings)

    @contextlib.contextmanager
    def submitting(self) -> Iterator[None]:
        with self.lock:
            self.capped += 1
            if self.active is not None:
                self.apply()
        try:
            yield
        finally:
            with self.lock:
                self.capped -= 1
                if self.active is not None:
                    self.apply()


class Sampler:
    """Records the set of this scenario's running jobs whenever it changes (at every step of time)."""

    def __init__(self, sm: Any, prefix: str, kind: str, clock: CampaignClock) -> None:
        self.sm, self.prefix, self.kind, self.clock = sm, prefix, kind, clock
        self.samples: list[tuple[float, frozenset[str]]] = []

    def on_advance(self, now: float) -> None:
        jobs = self.sm.jobs().get(server_kind(self.kind), [])
        running = frozenset(
            job_key(self.kind, j)
            for j in jobs
            if j["name"].startswith(self.prefix + "-") and j["status"] in running_statuses(self.kind)
        )
        if not self.samples or self.samples[-1][1] != running:
            self.samples.append((now - self.clock.start, running))


@dataclass
class Outcome:
    """One scenario's result."""

    scenario: Scenario
    verdict: Verdict
    served: Counter[str] = field(default_factory=Counter)
    real_seconds: float = 0.0
    virtual_seconds: float = 0.0
    stuck: str | None = None


def prepare(sm: Any, sc: Scenario) -> str:
    """Reset the server for one scenario; return the role ARN."""
    sm.reset()
    sm.create_bucket(BUCKET)
    sm.put_object(BUCKET, "data/train/train.csv", b"x,y\n0,1\n1,3\n2,5\n3,7\n")
    role_arn: str = sm.create_role("SageMakerCampaignRole")
    if sc.kind == "training":
        sm.configure(training_seconds=sc.job_seconds, stop_seconds=sc.stop_seconds)
    elif sc.kind == "agent_rft":  # AgentRFT jobs run for training_seconds too
        sm.configure(training_seconds=sc.job_seconds, stop_seconds=sc.stop_seconds)
        prepare_agent_rft(sm, BUCKET)
    elif sc.kind == "finetune":  # RLVR's reward evaluator imports in a virtual minute
        sm.configure(training_seconds=sc.job_seconds, stop_seconds=sc.stop_seconds, hub_import_seconds=60)
        prepare_finetune(sm, BUCKET)
    elif sc.kind == "endpoint":  # the deployment takes the scenario's job time
        sm.configure(endpoint_seconds=sc.job_seconds)
        prepare_endpoint(sm, BUCKET)
    elif sc.kind == "evaluation":  # the evaluation's one job step takes the scenario's job time
        sm.configure(training_seconds=sc.job_seconds, stop_seconds=sc.stop_seconds)
        prepare_evaluation(sm, BUCKET)
    elif sc.kind == "hub_content":  # the import takes the scenario's job time
        sm.configure(hub_import_seconds=sc.job_seconds)
        sm.put_object(BUCKET, "datasets/train.jsonl", DATASET_RECORDS)
    else:
        sm.configure(
            tuning_seconds=sc.job_seconds, training_seconds=sc.job_seconds / 3, stop_seconds=sc.stop_seconds
        )
    sm.clear_requests()
    for shot in sc.one_shots:
        sm.fail_next(**{"seconds": DROP_SECONDS, **shot})
    return role_arn


def local_dataset() -> str:
    """The local dataset file ``hub_content`` scenarios upload (same bytes every time)."""
    path = Path(tempfile.gettempdir()) / "smtrain-campaign" / "train.jsonl"
    if not path.exists() or path.read_bytes() != DATASET_RECORDS:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(DATASET_RECORDS)
    return str(path)


def run_scenario(sm: Any, sc: Scenario) -> Outcome:
    """Run one scenario and judge it."""
    started = time.monotonic()
    random.seed(f"{sc.seed}/{sc.kind}/{sc.index}/jitter")  # the lifecycle's poll jitter and backoff
    role_arn = prepare(sm, sc)
    clock = CampaignClock(sm.clock.advance, sm.clock.freeze())
    network = Network(sm, sc.windows, clock)
    sampler = Sampler(sm, sc.name, sc.kind, clock)
    clock.on_advance += [network.on_advance, sampler.on_advance]
    clock.before_advance.append(sampler.on_advance)
    deployments = ["prod", "staging"] if sc.two_deployments else ["prod"]
    records: list[TaskRecord] = []
    drivers: list[TaskDriver] = []
    for deployment in deployments:
        conn_id, key = DEPLOYMENTS[deployment]
        twin = deployment != "prod"
        plan = dataclasses.replace(sc, actions=[], deaths=[], clear_after_success=False) if twin else sc
        faults = CampaignFaults(plan.deaths, network.submitting)
        operator = build_operator(
            plan, conn_id=conn_id, bucket=BUCKET, role_arn=role_arn, faults=faults, local_file=local_dataset()
        )
        record = TaskRecord(deployment=deployment, access_key=key)
        records.append(record)
        drivers.append(TaskDriver(plan, operator, clock, record, plan.actions))
    stuck: list[str] = []

    def run(driver: TaskDriver) -> None:
        try:
            driver.run()
        except Stuck as err:
            stuck.append(str(err))
            driver.record.state = "failed"
            driver.record.try_errors.append(f"stuck: {err}")

    with (
        use_clock(clock),
        virtual_botocore_backoff(),
        schema_checked_once(),
        pollers_hold_time(clock),
        pipeline_death_points(),
    ):
        threads = [
            threading.Thread(target=run, args=(d,), name=f"campaign-{d.record.deployment}")
            for d in drivers[1:]
        ]
        for thread in threads:
            thread.start()
        run(drivers[0])
        for thread in threads:
            thread.join()
    sm.set_faults()
    sampler.on_advance(clock.now())
    evidence = Evidence(
        prefix=sc.name,
        kind=sc.kind,
        records=records,
        requests=sm.requests(),
        jobs=sm.jobs(),
        samples=sampler.samples,
        virtual_at=clock.virtual_at,
        timeout=sc.timeout,
        stop_job_on_kill=sc.stop_job_on_kill,
        expected_failure=sc.expected_failure,
    )
    verdict = check(evidence)
    verdict.late_polls = list(clock.late_polls)
    served: Counter[str] = Counter()
    for req in evidence.requests:
        if req.get("fault"):
            served[f"{req.get('service')}: {req['fault']}"] += 1
    for record in records:
        served.update(record.served)
    served.update(network.opened)
    if sc.two_deployments:
        served["two deployments at once"] += 1
    if sc.evaluator is not None:
        served[f"evaluator: {sc.evaluator}"] += 1
    if sc.timeout is not None:
        served["max_wait" if sc.max_wait is not None else "execution_timeout"] += 1
    served["triggerer restart"] = served.pop("restart", 0)
    return Outcome(
        sc, verdict, served, time.monotonic() - started, clock.elapsed, stuck[0] if stuck else None
    )


def run_campaign(
    sm: Any,
    *,
    scenarios: int,
    seed: int,
    kinds: tuple[str, ...] = ("training", "tuning"),
    progress: Any = None,
) -> list[Outcome]:
    """
    Run ``scenarios`` scenarios per kind, interleaving kinds; ``progress(outcome)`` after each.

    Sets the deployments' connection variables in ``os.environ`` for the duration, with the triggers'
    shared status pollers on (:data:`CAMPAIGN_ENV`).
    """
    env = {**connection_env(sm), **CAMPAIGN_ENV}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    outcomes: list[Outcome] = []
    try:
        for index in range(scenarios):
            for kind in kinds:
                outcome = run_scenario(sm, draw(seed, index, kind))
                outcomes.append(outcome)
                if progress is not None:
                    progress(outcome)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return outcomes

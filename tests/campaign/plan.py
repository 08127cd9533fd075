"""What one campaign scenario does: the task, its mode, and the faults drawn for it from a seed.

A scenario is one task instance (two, for two deployments sharing an account) of one job kind, run
blocking or deferrable, with ``retries`` and a schedule of faults in virtual seconds since it started:

* worker deaths at hook points (``DEATH_POINTS``) or at a virtual instant while the worker waits;
* Airflow acting at a virtual instant (``Action``): triggerer restart, ``error`` event, user clear,
  mark-failed, the triggerer down past a deferral's timeout;
* timeouts: ``max_wait`` or ``execution_timeout`` shorter than the job;
* network fault windows (``Window``): resets, throttling bursts, 5xx on SageMaker, S3 and CloudWatch
  Logs for up to 5 virtual minutes; one-shot server faults (``fail_next``): lost Create*/Stop*
  responses, dropped requests, read timeouts;
* a clear after the task succeeded; a second deployment running the same task instance at once.

Transient by construction: worker deaths <= retries, windows end before anything must be stopped
(stops retry for 60 s, the triggerer's ``on_kill`` three times), and a submission meets at most the
fault rate botocore's own retries absorb. Mark-failed and timeouts are not transient: the task must
end failed and its job stopped.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from typing import Any

KINDS = ("training", "tuning", "agent_rft", "finetune", "hub_content", "endpoint", "evaluation")
#: The fine-tuning trainer a ``finetune`` scenario runs (they share ``FineTuneOperator``'s lifecycle).
TECHNIQUES = ("SFT", "SFT", "DPO", "RLAIF", "RLVR")
#: The evaluator an ``evaluation`` scenario runs (they share ``EvaluatorOperator``'s lifecycle).
EVALUATORS = ("benchmark", "llm_as_judge", "custom_scorer", "benchmark", "llm_as_judge", "custom_scorer", "multi_turn_rl")
#: Kinds whose "job" cannot be stopped (an AI Registry import): ``stop_job_on_kill`` is always False.
UNSTOPPABLE = ("hub_content", "endpoint")
MODES = ("deferrable", "blocking")
#: Where a worker can die, by mode (``while_waiting`` = between two polls of the blocking wait,
#: ``on_resume`` = the worker that resumes after the trigger fired, before it reads the job).
DEATH_POINTS = {
    "blocking": ("before_submit", "after_create", "after_found", "while_waiting", "after_end"),
    "deferrable": ("before_submit", "after_create", "after_found", "on_resume", "after_end"),
}
#: An evaluation also dies between ``CreatePipeline``/``UpdatePipeline`` and ``StartPipelineExecution``
#: (``after_pipeline``), and once the start was carried out, its response lost with the worker (``start_lost``).
EVALUATION_DEATH_POINTS = ("after_pipeline", "start_lost")
#: Operations of each kind, for one-shot faults.
OPERATIONS = {
    "training": ("CreateTrainingJob", "DescribeTrainingJob", "StopTrainingJob"),
    "tuning": (
        "CreateHyperParameterTuningJob",
        "DescribeHyperParameterTuningJob",
        "StopHyperParameterTuningJob",
    ),
    "agent_rft": ("CreateJob", "DescribeJob", "StopJob"),
    "finetune": ("CreateTrainingJob", "DescribeTrainingJob", "StopTrainingJob"),
    "hub_content": ("ImportHubContent", "DescribeHubContent", None),  # an import cannot be stopped
    "endpoint": ("CreateEndpoint", "DescribeEndpoint", None),  # a deployment cannot be stopped
    "evaluation": ("StartPipelineExecution", "DescribePipelineExecution", "StopPipelineExecution"),
}
#: The highest fault rate a submission meets (the SDK's calls have botocore's retries only).
SUBMISSION_RATE_CAP = 0.2
#: Real seconds of silence of a ``timeout`` drop: longer than the clients' read timeout, so they see it.
DROP_SECONDS = 1.5
#: The operators' botocore config: a read timeout short enough that a silent server costs 1 s real.
BOTOCORE_CONFIG = {"read_timeout": 1.0, "connect_timeout": 1.0}


@dataclass
class Action:
    """Airflow acts on the task instance at a virtual instant (seconds since the scenario started)."""

    at: float
    what: str  # restart | error_event | clear | mark_failed | death | triggerer_down


@dataclass
class Window:
    """Random network faults between two virtual instants; ``settings`` are ``set_faults`` arguments."""

    start: float
    end: float
    label: str  # reset | read_timeout | throttle | 5xx
    settings: dict[str, Any]


@dataclass
class Scenario:
    """One randomized task instance run; see the module docstring."""

    seed: int
    index: int
    kind: str
    mode: str
    retries: int
    job_seconds: float
    poll_interval: float
    stop_seconds: float
    stop_job_on_kill: bool = True
    deaths: list[str] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    windows: list[Window] = field(default_factory=list)
    one_shots: list[dict[str, Any]] = field(default_factory=list)
    max_wait: float | None = None
    execution_timeout: float | None = None
    airflow_timeout_grace: float = 0.0
    clear_after_success: bool = False
    two_deployments: bool = False
    technique: str | None = None  # finetune: SFT, DPO, RLAIF or RLVR
    evaluator: str | None = None  # evaluation: benchmark, llm_as_judge, custom_scorer or multi_turn_rl

    @property
    def name(self) -> str:
        """Task id and job name prefix: unique per scenario, so a prefix identifies the jobs of its TIs."""
        return f"c{self.seed}{self.kind[:2]}{self.index:04d}"

    @property
    def expected_failure(self) -> bool:
        """Not transient: the task must end failed (and its job stopped)."""
        return any(a.what == "mark_failed" for a in self.actions) or self.timeout is not None

    @property
    def timeout(self) -> float | None:
        return self.max_wait if self.max_wait is not None else self.execution_timeout

    def describe(self) -> dict[str, Any]:
        """JSON-native form, for the report of a failing scenario."""
        return asdict(self)


def draw(seed: int, index: int, kind: str) -> Scenario:
    """
    The scenario ``index`` of a campaign seeded with ``seed``, for job ``kind`` (deterministic).

    :param seed: campaign seed.
    :param index: scenario number.
    :param kind: one of :data:`KINDS`.
    """
    rng = random.Random(f"{seed}/{kind}/{index}")
    mode = MODES[index % 2]
    minutes = (10, 40) if kind == "tuning" else (5, 30)
    sc = Scenario(
        seed=seed,
        index=index,
        kind=kind,
        mode=mode,
        retries=rng.choice((0, 0, 1, 1, 2, 3)),
        job_seconds=round(rng.uniform(*minutes) * 60),
        poll_interval=round(rng.uniform(30, 60)),
        stop_seconds=round(rng.uniform(10, 90)),
    )
    length = sc.job_seconds
    ending = rng.random()
    stop_at: float | None = None  # when something must be stopped: no network window overlaps it
    if ending < 0.12:
        sc.actions.append(Action(round(rng.uniform(0.1, 0.8) * length), "mark_failed"))
        stop_at = sc.actions[-1].at
    elif ending < 0.24:
        timeout = round(rng.uniform(0.3, 0.6) * length)
        if rng.random() < 0.5:
            sc.max_wait = timeout
        else:
            sc.execution_timeout = timeout
            sc.airflow_timeout_grace = rng.choice((0.0, 5.0))
        sc.retries = min(sc.retries, 1)
        stop_at = timeout
        if mode == "deferrable" and rng.random() < 0.4:  # the triggerer is down past the deferral timeout
            sc.actions.append(Action(round(rng.uniform(0.1, 0.9) * timeout), "triggerer_down"))
    elif ending < 0.44:
        sc.actions.append(Action(round(rng.uniform(0.1, 0.8) * length), "clear"))
        stop_at = sc.actions[-1].at
    if rng.random() < 0.12:
        sc.stop_job_on_kill = False
    sc.clear_after_success = ending >= 0.44 and rng.random() < 0.2
    sc.two_deployments = ending >= 0.44 and rng.random() < 0.25
    points = DEATH_POINTS[mode] + (EVALUATION_DEATH_POINTS if kind == "evaluation" else ())
    sc.deaths = rng.sample(points, k=rng.randint(0, min(sc.retries, 2)))
    if sc.retries > len(sc.deaths) and rng.random() < 0.3 and mode == "blocking":
        sc.actions.append(Action(round(rng.uniform(0.1, 0.9) * length), "death"))
    if mode == "deferrable":
        for _ in range(rng.choice((0, 0, 1, 1, 2))):
            sc.actions.append(Action(round(rng.uniform(0.05, 0.9) * length), "restart"))
        if rng.random() < 0.3:
            sc.actions.append(Action(round(rng.uniform(0.1, 0.9) * length), "error_event"))
    sc.actions.sort(key=lambda a: a.at)
    _draw_network(rng, sc, stop_at)
    if kind == "finetune":  # drawn last: the other kinds' streams are unchanged
        sc.technique = rng.choice(TECHNIQUES)
    if kind in UNSTOPPABLE:
        sc.stop_job_on_kill = False
    if kind == "endpoint":  # two deployments deploying one endpoint at once conflict by design
        sc.two_deployments = False
    if kind == "evaluation":
        sc.evaluator = rng.choice(EVALUATORS)
        _draw_pipeline_faults(rng, sc)
    return sc


def _draw_pipeline_faults(rng: random.Random, sc: Scenario) -> None:
    """An evaluation's other requests: the pipeline's creation, the executions' listing (found by it) and search."""
    if rng.random() < 0.25:
        sc.one_shots.append(
            {"operation": "CreatePipeline", "kind": "lost_response", "mode": rng.choice(("reset", "timeout"))}
        )
    if rng.random() < 0.15:
        sc.one_shots.append({"operation": "UpdatePipeline", "kind": "lost_response", "mode": "reset"})
    # the executions' status reads of a shared poller (Search; ListPipelineExecutions where it is refused)
    # meet the same faults as the listing (no draw of their own: the seed's scenarios stay as they were)
    if rng.random() < 0.25:
        count = rng.randint(1, 4)
        for operation in ("ListPipelineExecutions", "Search"):
            sc.one_shots.append({"operation": operation, "kind": "dropped_request", "mode": "reset", "count": count})
    if rng.random() < 0.2:
        count = rng.randint(3, 12)
        for operation in ("ListPipelineExecutions", "Search"):
            sc.one_shots.append({"operation": operation, "kind": "error", "code": "ThrottlingException",
                                 "status": 400, "count": count})


def _draw_network(rng: random.Random, sc: Scenario, stop_at: float | None) -> None:
    create, describe, stop = OPERATIONS[sc.kind]
    if rng.random() < 0.3:
        sc.one_shots.append(
            {"operation": create, "kind": "lost_response", "mode": rng.choice(("reset", "timeout"))}
        )
    if rng.random() < 0.15:
        sc.one_shots.append({"operation": create, "kind": "dropped_request", "mode": "reset"})
    if stop_at is not None and rng.random() < 0.5 and stop is not None:
        sc.one_shots.append(
            {"operation": stop, "kind": "lost_response", "mode": rng.choice(("reset", "timeout"))}
        )
    if rng.random() < 0.25:
        sc.one_shots.append(
            {"operation": describe, "kind": "dropped_request", "mode": "reset", "count": rng.randint(1, 6)}
        )
    if rng.random() < 0.15:
        sc.one_shots.append(
            {"operation": describe, "kind": "dropped_request", "mode": "timeout", "count": rng.randint(1, 2)}
        )
    if rng.random() < 0.2:
        sc.one_shots.append(
            {
                "operation": describe,
                "kind": "error",
                "code": "ThrottlingException",
                "status": 400,
                "count": rng.randint(3, 20),
            }
        )
    horizon = sc.job_seconds * 0.9 if stop_at is None else stop_at - 90
    start = rng.uniform(1, 120)
    for _ in range(rng.choice((0, 1, 1, 2))):
        length = rng.uniform(30, 300)
        if start + length > horizon:
            break
        label = rng.choice(("reset", "reset", "throttle", "5xx", "read_timeout"))
        services = rng.sample(["sagemaker", "s3", "logs"], k=rng.randint(1, 3))
        if label == "read_timeout":
            services, length = ["sagemaker"], min(length, 90)
        rate = round(rng.uniform(0.3, 1.0), 2)
        settings: dict[str, Any] = {"services": services, "seed": rng.randint(0, 2**31)}
        if label in ("reset", "read_timeout"):
            settings.update(
                dropped_request_rate=rate / 2,
                lost_response_rate=rate / 2,
                drop_mode="timeout" if label == "read_timeout" else "reset",
                drop_seconds=DROP_SECONDS,
            )
            if label == "read_timeout":  # each costs 1 s real: fewer, but the same kinds
                settings.update(dropped_request_rate=0.15, lost_response_rate=0.15)
        elif label == "throttle":
            settings["throttle_rate"] = rate
        else:
            settings["error_5xx_rate"] = rate
        sc.windows.append(Window(round(start), round(start + length), label, settings))
        start += length + rng.uniform(60, 600)

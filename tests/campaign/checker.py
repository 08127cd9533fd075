"""The invariants of principles 3 and 4, judged from the local SageMaker's records, not the operator's word.

Inputs (:class:`Evidence`): the server's request log and final job list, samples of the jobs running at
every step of virtual time, and what Airflow did (:class:`~tests.campaign.driver.TaskRecord`). A job
belongs to the task instance whose connection key signed the ``Create*`` request that made it (each
scenario has its own name prefix; two deployments sign with their own keys).

* duplicate: two jobs of one task instance running (or stopping) at the same sampled instant; two
  jobs completed in one clear epoch; a job nobody of this scenario created;
* wrong result: a success whose job is not a completed job of the same task instance;
* late timeout: a try that waits past its own deadline (``max_wait`` restarted by a resume);
* orphan: a job still ``InProgress`` after its task instance ended (for a failed one, unless
  ``stop_job_on_kill=False``, or unless its last try's worker died: then nothing of the task runs
  again and the job is counted apart as *unstoppable*), or a tuning job's child running after its
  parent ended;
* wrongful stop: a ``Stop*`` request not explained by a kill, clear, timeout or final failure of the
  owning task instance (signed by it, made after the reason arose);
* failed task: a task instance that ended failed although its scenario was transient.

``finetune`` scenarios (the fine-tuning trainers) run training jobs: judged as ``training``.
``hub_content`` scenarios (``CreateDataSetOperator``) import an AI Registry version, which cannot be
stopped, and whose version is shared by every task instance registering the same content
(create-or-reuse). Their invariants (:func:`_check_hub_content`):

* duplicate: two versions of the content that did not fail (one task instance, a retry, a clear or a
  second deployment must all end on the same version), or an import signed by no task instance;
* wrong result: a success that returns anything but an ``Available`` version of this content;
* wrongful stop: any ``DeleteHubContent`` / ``DeleteHub``: mark-failed and timeouts fail the task and
  leave the import alone, so nothing may delete it;
* orphans: none by definition (an import left ``Importing`` after the task failed is what
  ``stop_job_on_kill=False`` means, and the operators cannot set it otherwise);
* failed task, late timeout: as above.

``evaluation`` scenarios run pipeline executions, keyed by ARN and owned through their generation's
pipeline (:mod:`tests.campaign.checker_evaluation`); then the invariants above apply.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.campaign.checker_evaluation import evaluation_owners, execution_key, in_scenario
from tests.campaign.driver import TaskRecord

RUNNING = ("InProgress", "Stopping")
CREATE = {
    "training": "CreateTrainingJob",
    "tuning": "CreateHyperParameterTuningJob",
    "agent_rft": "CreateJob",
    "finetune": "CreateTrainingJob",
    "hub_content": "ImportHubContent",
}
STOP = {
    "training": "StopTrainingJob",
    "tuning": "StopHyperParameterTuningJob",
    "agent_rft": "StopJob",
    "finetune": "StopTrainingJob",
    "evaluation": "StopPipelineExecution",
}
#: Requests that would undo an AI Registry import (none may be made by a registry task).
HUB_DELETES = ("DeleteHubContent", "DeleteHub")
#: Requests that would undo a deployment (none may be made by a deploy task).
ENDPOINT_DELETES = ("DeleteEndpoint", "DeleteEndpointConfig", "DeleteModel")
#: Campaign kinds whose jobs the local SageMaker lists under another kind.
SERVER_KINDS = {"finetune": "training", "evaluation": "pipeline_execution"}
#: A job's status while it runs and once it completed, where not ``InProgress`` / ``Completed``.
IN_PROGRESS = {"evaluation": "Executing"}
COMPLETED = {"evaluation": "Succeeded"}
#: Slack in virtual seconds when matching a stop to a timeout (deadlines are read from a jittered clock).
TIMEOUT_SLACK = 1.0


@dataclass
class Evidence:
    """Everything the checker reads about one scenario."""

    prefix: str
    kind: str
    records: list[TaskRecord]
    requests: list[dict[str, Any]]
    jobs: dict[str, list[dict[str, Any]]]
    samples: list[tuple[float, frozenset[str]]]
    virtual_at: Callable[[float], float]
    timeout: float | None = None
    stop_job_on_kill: bool = True
    expected_failure: bool = False


@dataclass
class Verdict:
    """What the checker found; every list should be empty."""

    duplicates: list[str] = field(default_factory=list)
    wrong_results: list[str] = field(default_factory=list)
    late_timeouts: list[str] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)
    wrongful_stops: list[str] = field(default_factory=list)
    failed_tasks: list[str] = field(default_factory=list)
    #: A shared status poller that did not poll within :data:`~tests.campaign.vclock.LATE_POLL` poll
    #: intervals after a good poll while its jobs ran (recorded by the campaign clock, not the server).
    late_polls: list[str] = field(default_factory=list)
    expected_failures: int = 0
    #: Jobs left running because the task's last try ended in a worker death: nothing of the task runs
    #: after that (Airflow runs no ``on_kill`` for a lost worker), so no lifecycle can stop them.
    unstoppable: list[str] = field(default_factory=list)
    #: Tries that failed with an exception in a transient scenario (retried; not a finding by itself).
    failed_tries: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        findings = ("duplicates", "wrong_results", "late_timeouts", "orphans", "wrongful_stops", "failed_tasks")
        return not any(getattr(self, name) for name in (*findings, "late_polls"))


def server_kind(kind: str) -> str:
    """The local SageMaker's job kind (key of ``sm.jobs()``) of a campaign kind."""
    return SERVER_KINDS.get(kind, kind)


def running_statuses(kind: str) -> tuple[str, ...]:
    """Statuses in which a job of ``kind`` counts as running."""
    if kind == "endpoint":
        return ("Creating", "Updating")
    if kind == "evaluation":
        return ("Executing", "Stopping")
    return ("Importing",) if kind == "hub_content" else RUNNING


def job_key(kind: str, job: dict[str, Any]) -> str:
    """How a job of ``sm.jobs()`` is told apart: its name, name and version for hub content, an execution's ARN."""
    if kind == "evaluation":
        return execution_key(job)
    return f"{job['name']}/{job['version']}" if kind == "hub_content" else str(job["name"])


def _ours(name: str | None, prefix: str) -> bool:
    return bool(name) and str(name).startswith(prefix + "-")


def _mine(ev: Evidence, name: str | None) -> bool:
    """Whether a request's name is one of the scenario's jobs (an evaluation's: its pipeline or ARN)."""
    return in_scenario(name, ev.prefix) if ev.kind == "evaluation" else _ours(name, ev.prefix)


def check(ev: Evidence) -> Verdict:
    """Judge one scenario."""
    verdict = Verdict()
    if ev.kind in ("hub_content", "endpoint"):
        (_check_hub_content if ev.kind == "hub_content" else _check_endpoint)(ev, verdict)
        _check_tasks(ev, verdict)
        return verdict
    owner, created_at = evaluation_owners(ev, verdict) if ev.kind == "evaluation" else _owners(ev, verdict)
    final = {
        job_key(ev.kind, j): j for j in ev.jobs.get(server_kind(ev.kind), []) if _ours(j["name"], ev.prefix)
    }
    for name in final:
        if name not in owner:
            verdict.duplicates.append(f"{name}: a job no Create request of this scenario made")
    _check_overlaps(ev, owner, verdict)
    _check_results(ev, owner, created_at, final, verdict)
    _check_orphans(ev, owner, final, verdict)
    _check_stops(ev, owner, created_at, verdict)
    _check_tasks(ev, verdict)
    return verdict


def _owners(ev: Evidence, verdict: Verdict) -> tuple[dict[str, TaskRecord], dict[str, float]]:
    """Each job's owner: the task instance whose key signed the ``Create*`` that made it; and when."""
    by_key = {r.access_key: r for r in ev.records}
    owner: dict[str, TaskRecord] = {}
    created_at: dict[str, float] = {}
    for req in ev.requests:
        if (
            req["operation"] == CREATE[ev.kind]
            and req.get("status_code") == 200
            and _ours(req.get("name"), ev.prefix)
        ):
            record = by_key.get(req.get("access_key_id") or "")
            if record is None:
                verdict.duplicates.append(f"{req['name']}: created with a key of no task instance")
                continue
            owner.setdefault(req["name"], record)
            created_at.setdefault(req["name"], req["time"])
    return owner, created_at


def _check_tasks(ev: Evidence, verdict: Verdict) -> None:
    """Deadlines, and how each task instance ended."""
    _check_deadlines(ev, verdict)
    for record in ev.records:
        if not ev.expected_failure:
            verdict.failed_tries += [f"{record.deployment}: {error}" for error in record.try_errors]
        if record.state != "failed":
            continue
        if ev.expected_failure:
            verdict.expected_failures += 1
        else:
            verdict.failed_tasks.append(f"{record.deployment}: failed; " + " | ".join(record.try_errors[-3:]))


def _check_hub_content(ev: Evidence, verdict: Verdict) -> None:
    """The registry's invariants: one version per content, results Available, nothing deleted."""
    keys = {r.access_key for r in ev.records}
    for req in ev.requests:
        if not _ours(req.get("name"), ev.prefix):
            continue
        if req["operation"] == CREATE[ev.kind] and req.get("status_code") == 200:
            if req.get("access_key_id") not in keys:
                verdict.duplicates.append(f"{req['name']}: imported with a key of no task instance")
        if req["operation"] in HUB_DELETES:
            verdict.wrongful_stops.append(
                f"{req['operation']} {req['name']} by {req.get('access_key_id')}: an import is never undone"
            )
    versions = [j for j in ev.jobs.get(ev.kind, []) if _ours(j["name"], ev.prefix)]
    by_content: dict[tuple[str, str], list[str]] = defaultdict(list)
    for job in versions:
        if not str(job["status"]).endswith("Failed"):
            by_content[(job["hub"], job["name"])].append(job["version"])
    for (hub, name), numbers in by_content.items():
        if len(numbers) > 1:
            verdict.duplicates.append(f"{hub}/{name}: {len(numbers)} versions of one content: {sorted(numbers)}")
    by_arn = {job["arn"]: job for job in versions}
    for record in ev.records:
        for epoch, arn in record.results:
            found = by_arn.get(arn)
            if found is None or found["status"] != "Available":
                verdict.wrong_results.append(
                    f"{record.deployment} epoch {epoch}: returned {arn}, which is {found and found['status']}"
                )


def _check_endpoint(ev: Evidence, verdict: Verdict) -> None:
    """
    A deployment's invariants: one endpoint, one config per task instance, nothing deleted, results InService.

    Scenarios run one deployment and no outcome rules, so no generation fails: a task instance that
    created a second endpoint config (or a config signed by no task instance) is a duplicate.
    """
    keys = {r.access_key for r in ev.records}
    configs: dict[str | None, set[str]] = defaultdict(set)
    endpoints = 0
    for req in ev.requests:
        if not _ours(req.get("name"), ev.prefix) or req.get("status_code") != 200:
            continue
        if req["operation"] == "CreateEndpointConfig":
            configs[req.get("access_key_id")].add(str(req["name"]))
        endpoints += req["operation"] == "CreateEndpoint"
        if req["operation"] in ENDPOINT_DELETES:
            verdict.wrongful_stops.append(f"{req['operation']} {req['name']}: a deployment is never undone")
    for key, names in configs.items():
        if key not in keys or len(names) > 1:
            verdict.duplicates.append(f"endpoint configs {sorted(names)} created by {key}")
    if endpoints > 1:
        verdict.duplicates.append(f"{endpoints} successful CreateEndpoint calls for one endpoint")
    final = {j["name"]: j for j in ev.jobs.get(ev.kind, []) if _ours(j["name"], ev.prefix)}
    created = {name for names in configs.values() for name in names}
    for record in ev.records:
        for epoch, name in record.results:
            found = final.get(name)
            if found is None or found["status"] != "InService" or found["config"] not in created:
                verdict.wrong_results.append(f"{record.deployment} epoch {epoch}: returned {name}, which is {found}")


def _check_overlaps(ev: Evidence, owner: dict[str, TaskRecord], verdict: Verdict) -> None:
    seen: set[tuple[str, ...]] = set()
    for virtual, running in ev.samples:
        groups: dict[str, list[str]] = defaultdict(list)
        for name in running:
            groups[owner[name].deployment if name in owner else "?"].append(name)
        for deployment, names in groups.items():
            key = tuple(sorted(names))
            if len(names) > 1 and key not in seen:
                seen.add(key)
                verdict.duplicates.append(
                    f"{deployment}: {len(names)} jobs running at once at +{virtual:.0f}s: {key}"
                )


def _epoch_at(record: TaskRecord, wall: float) -> int:
    epoch = 1
    for note in record.notes:
        if note.wall > wall:
            break
        epoch = note.epoch
    return epoch


def _check_results(
    ev: Evidence,
    owner: dict[str, TaskRecord],
    created_at: dict[str, float],
    final: dict[str, dict[str, Any]],
    verdict: Verdict,
) -> None:
    done = COMPLETED.get(ev.kind, "Completed")
    completed: dict[tuple[str, int], list[str]] = defaultdict(list)
    for name, job in final.items():
        if job["status"] == done and name in owner:
            record = owner[name]
            completed[(record.deployment, _epoch_at(record, created_at[name]))].append(name)
    for (deployment, epoch), names in completed.items():
        if len(names) > 1:
            verdict.duplicates.append(
                f"{deployment}: {len(names)} jobs completed in clear epoch {epoch}: {names}"
            )
    for record in ev.records:
        for epoch, name in record.results:
            found = final.get(name)
            if owner.get(name) is not record:
                verdict.wrong_results.append(
                    f"{record.deployment} epoch {epoch}: returned {name}, not its own job"
                )
            elif found is None or found["status"] != done:
                verdict.wrong_results.append(
                    f"{record.deployment} epoch {epoch}: returned {name}, which is {found and found['status']}"
                )


def _check_orphans(
    ev: Evidence, owner: dict[str, TaskRecord], final: dict[str, dict[str, Any]], verdict: Verdict
) -> None:
    running = IN_PROGRESS.get(ev.kind, "InProgress")
    for name, job in final.items():
        record = owner.get(name)
        if record is None or job["status"] != running:
            continue
        if record.state == "failed" and _last_try_died(record):
            verdict.unstoppable.append(f"{record.deployment}: {name} (the last try's worker died)")
        elif record.state == "success" or (record.state == "failed" and ev.stop_job_on_kill):
            verdict.orphans.append(
                f"{record.deployment}: {name} still {running} after the task {record.state}"
            )
    if ev.kind == "tuning":
        for child in ev.jobs.get("training", []):
            parent = final.get(child.get("tuning_job") or "")
            if parent is not None and child["status"] == "InProgress" and parent["status"] not in RUNNING:
                verdict.orphans.append(
                    f"{child['name']}: child still InProgress after {parent['name']} ended"
                )


def _last_try_died(record: TaskRecord) -> bool:
    last_try = max((i for i, n in enumerate(record.notes) if n.what == "try"), default=-1)
    return any(n.what == "died" for n in record.notes[last_try + 1 :])


def _check_stops(
    ev: Evidence, owner: dict[str, TaskRecord], created_at: dict[str, float], verdict: Verdict
) -> None:
    for req in ev.requests:
        if req["operation"] != STOP[ev.kind] or not _mine(ev, req.get("name")):
            continue
        name, wall = req["name"], req["time"]
        record = owner.get(name)
        why = _why_stopped(ev, record, req, created_at.get(name, 0.0)) if record is not None else None
        if why is None:
            who = record.deployment if record else "nobody"
            verdict.wrongful_stops.append(
                f"{req['operation']} {name} (owner {who}, fault {req.get('fault')}) at "
                f"+{ev.virtual_at(wall) - ev.virtual_at(0):.0f}s: no kill, clear, timeout or final failure explains it"
            )


def _why_stopped(ev: Evidence, record: TaskRecord, req: dict[str, Any], created: float) -> str | None:
    """The reason that licenses this stop of one of ``record``'s jobs, or None."""
    wall = req["time"]
    if req.get("access_key_id") != record.access_key or not ev.stop_job_on_kill:
        return None
    for note in record.notes:
        if note.what in ("kill", "clear") and created < note.wall <= wall:
            return note.what if note.what == "clear" else f"kill ({note.detail})"
    if ev.timeout is not None:
        virtual = ev.virtual_at(wall)
        tries = [n for n in record.notes if n.what == "try" and n.wall <= wall]
        if tries and virtual >= tries[-1].virtual + ev.timeout - TIMEOUT_SLACK:
            return "timeout"
    tries = [n for n in record.notes if n.what == "try"]
    if record.state == "failed" and tries and wall >= tries[-1].wall:
        return "final failure"
    return None


def _check_deadlines(ev: Evidence, verdict: Verdict) -> None:
    """Within one try the lifecycle's deadline never moves later (a resume must not restart ``max_wait``)."""
    for record in ev.records:
        first: dict[int, float] = {}
        for note in record.notes:
            if note.what != "deadline":
                continue
            deadline = float(note.detail)
            start = first.setdefault(note.try_number, deadline)
            if deadline > start + TIMEOUT_SLACK:
                verdict.late_timeouts.append(
                    f"{record.deployment} try {note.try_number}: waits until +{deadline - ev.virtual_at(0):.0f}s, "
                    f"its deadline was +{start - ev.virtual_at(0):.0f}s"
                )

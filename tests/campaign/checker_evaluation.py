"""Who owns each pipeline execution of an ``evaluation`` scenario, judged from the server's records.

An evaluation runs in the pipeline of its task-instance generation (the SDK's prefix, then the display
name, which starts with the scenario's prefix). The execution belongs to the task instance whose key
signed the first successful ``StartPipelineExecution`` of its pipeline; then the invariants of every job
kind apply (:func:`tests.campaign.checker.check`), keyed by execution ARN. Besides:

* duplicate: a second execution in one pipeline (a repeated ``StartPipelineExecution`` that created a
  new execution instead of returning the one its token started), a pipeline created or started with a
  key of no task instance, an execution in a pipeline nobody of this scenario started;
* wrongful stop: any ``DeletePipeline`` (a task never deletes the pipeline its execution ran in).
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.campaign.checker import Evidence, Verdict
    from tests.campaign.driver import TaskRecord

#: The pipeline requests an evaluation task makes, and one it must never make.
PIPELINE_CREATES = ("CreatePipeline", "StartPipelineExecution")
PIPELINE_DELETE = "DeletePipeline"


def in_scenario(name: str | None, prefix: str) -> bool:
    """
    Whether a pipeline name or execution ARN is one of the scenario's (its display names start with ``prefix-``).

    :param name: a pipeline name, pipeline execution ARN or display name.
    :param prefix: the scenario's name prefix.
    """
    text = str(name or "")
    return text.startswith(prefix + "-") or f"-{prefix}-" in text


def evaluation_owners(
    ev: Evidence, verdict: Verdict
) -> tuple[dict[str, TaskRecord], dict[str, float]]:
    """
    The owner and creation time (wall, of the start request) of each execution ARN of the scenario.

    :param ev: the scenario's evidence.
    :param verdict: receives duplicates and wrongful stops found on the way.
    """
    by_key = {r.access_key: r for r in ev.records}
    pipeline_owner: dict[str, TaskRecord] = {}
    started_at: dict[str, float] = {}
    for req in ev.requests:
        name = req.get("name")
        if not in_scenario(name, ev.prefix):
            continue
        if req["operation"] == PIPELINE_DELETE:
            verdict.wrongful_stops.append(f"DeletePipeline {name}: a task never deletes its pipeline")
        if req["operation"] not in PIPELINE_CREATES or req.get("status_code") != 200:
            continue
        record = by_key.get(req.get("access_key_id") or "")
        if record is None:
            verdict.duplicates.append(f"{req['operation']} {name}: signed with a key of no task instance")
        elif req["operation"] == "StartPipelineExecution":
            pipeline_owner.setdefault(str(name), record)
            started_at.setdefault(str(name), req["time"])
    executions = [j for j in ev.jobs.get("pipeline_execution", []) if in_scenario(j["name"], ev.prefix)]
    per_pipeline: dict[str, list[str]] = defaultdict(list)
    owner: dict[str, TaskRecord] = {}
    created_at: dict[str, float] = {}
    for job in executions:
        pipeline, arn = str(job["pipeline_name"]), str(job["arn"])
        per_pipeline[pipeline].append(arn)
        if pipeline in pipeline_owner:
            owner[arn], created_at[arn] = pipeline_owner[pipeline], started_at[pipeline]
    for pipeline, arns in per_pipeline.items():
        if len(arns) > 1:
            verdict.duplicates.append(f"{pipeline}: {len(arns)} executions of one generation: {sorted(arns)}")
    return owner, created_at


def execution_key(job: dict[str, Any]) -> str:
    """How an execution of ``sm.jobs()`` is told apart: its ARN (display names repeat in a duplicate)."""
    return str(job["arn"])

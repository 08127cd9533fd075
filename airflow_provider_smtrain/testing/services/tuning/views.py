"""What tuning jobs report about their children: summaries, the best job, the sorted listing."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from airflow_provider_smtrain.testing.services.tuning.model import TuningSim

if TYPE_CHECKING:
    from airflow_provider_smtrain.testing.services.training.lifecycle import TrainingService


def child_summary(sim: TuningSim, child_name: str, training: TrainingService) -> dict[str, Any]:
    """
    HyperParameterTrainingJobSummary of one child.

    :param sim: The tuning job.
    :param child_name: Child training job name.
    :param training: The training service holding the child.
    """
    child = training.jobs[(sim.account_id, sim.region, child_name)]
    job = child.job
    definition = sim.definition(sim.children.index(child_name))
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
        summary["FinalHyperParameterTuningJobObjectiveMetric"] = {
            "Type": objective.get("Type", "Maximize"),
            "MetricName": objective["MetricName"],
            "Value": child.metrics().get(objective["MetricName"]),
        }
        summary["ObjectiveStatus"] = "Succeeded"
    elif status in ("InProgress", "Stopping"):
        summary["ObjectiveStatus"] = "Pending"
    else:
        summary["ObjectiveStatus"] = "Failed"
    return summary


def best_child(sim: TuningSim, training: TrainingService) -> dict[str, Any] | None:
    """
    BestTrainingJob of a tuning job (``None`` until a child completed with an objective value).

    :param sim: The tuning job.
    :param training: The training service holding the children.
    """
    best: dict[str, Any] | None = None
    for name in sim.children:
        summary = child_summary(sim, name, training)
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
    sim: TuningSim,
    training: TrainingService,
    *,
    status_equals: str | None = None,
    sort_by: str | None = None,
    sort_order: str | None = None,
) -> list[dict[str, Any]]:
    """
    Summaries of a tuning job's children (for ListTrainingJobsForHyperParameterTuningJob).

    :param sim: The tuning job.
    :param training: The training service holding the children.
    :param status_equals: Only children in this TrainingJobStatus.
    :param sort_by: ``Name`` (default), ``CreationTime``, ``Status`` or ``FinalObjectiveMetricValue``.
    :param sort_order: ``Ascending`` (default) or ``Descending``.
    """
    summaries = [child_summary(sim, name, training) for name in sim.children]
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

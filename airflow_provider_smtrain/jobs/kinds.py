"""What each kind of remote SageMaker job looks like to the provider: how to read, judge and stop it.

This module is pure data and pure functions (no AWS, no SDK). Operators in blocking mode, triggers and
sensors all judge a job through :func:`outcome_of`, so the three paths can never disagree. Which kinds
exist, and what results, triggers, links and sensors go with each, is listed in one place only:
:mod:`airflow_provider_smtrain.jobs.catalog`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

from airflow_provider_smtrain.jobs.console import console_domain, console_url, log_console_url

__all__ = [
    "TRAINING",
    "TUNING",
    "JobKind",
    "JobNotStoppable",
    "ListShape",
    "Outcome",
    "console_domain",
    "console_url",
    "failure_message",
    "get_kind",
    "log_console_url",
    "outcome_of",
]

#: How a job is identified: by a name the provider chooses, or by the ARN SageMaker returns.
Identity = Literal["name", "arn"]


class Outcome(StrEnum):
    """How a job stands, reduced to what a task needs to decide."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    STOPPED = "stopped"


class JobNotStoppable(ValueError):
    """A kind of job SageMaker cannot stop (an endpoint, a hub import) was asked to stop."""


@dataclass(frozen=True)
class ListShape:
    """
    How the List* call of a kind reports many jobs at once (for coalesced status reads in the triggerer).

    :param method: snake_case client method that lists jobs of the kind (``list_training_jobs``).
    :param summaries_key: response key of the list of job summaries.
    :param name_key: summary key of the job's name (what triggers wait on).
    :param status_key: summary key of the job status.
    :param secondary_status_key: summary key of the secondary status, if summaries carry one.
    :param modified_key: summary key of the time SageMaker last changed the job.
    :param modified_after_param: request parameter that keeps only jobs changed after a time.
    :param sort_by: ``SortBy`` value whose order never changes while a listing is paged (creation time).
    :param max_results: largest page size the call accepts.
    """

    method: str
    summaries_key: str
    name_key: str
    status_key: str
    secondary_status_key: str | None = None
    modified_key: str = "LastModifiedTime"
    modified_after_param: str = "LastModifiedTimeAfter"
    sort_by: str = "CreationTime"
    max_results: int = 100


@dataclass(frozen=True)
class JobKind:
    """
    The shape of one kind of SageMaker job as seen through the boto3/aiobotocore ``sagemaker`` client.

    :param name: short identifier used in trigger payloads and state (``training``, ``tuning``).
    :param label: human readable name used in messages.
    :param describe_method: snake_case client method that reads one job.
    :param name_param: request parameter that identifies the job in describe and stop calls: its name
        (``identity="name"``) or its ARN (``identity="arn"``).
    :param status_key: response key of the job status.
    :param secondary_status_key: response key of the secondary status, if the kind has one.
    :param succeeded: statuses that mean success.
    :param failed: statuses that mean failure.
    :param stopped: statuses that mean the job was stopped.
    :param stopping: statuses of a job on its way to being stopped (running, but not re-attachable).
    :param console_fragment: console URL fragment, formatted with ``name`` (and any further fields
        :func:`~airflow_provider_smtrain.jobs.console.console_url` is given).
    :param max_name_length: longest job name SageMaker accepts for this kind (for ``identity="arn"``,
        of the deterministic handle the provider derives, e.g. a display name or a request token).
    :param stop: snake_case client method that stops one job, or None when the kind cannot be stopped.
    :param identity: ``"name"`` when the provider chooses the job's name and finds the job by it;
        ``"arn"`` when SageMaker assigns an ARN (pipeline executions) and the provider finds the job by
        a deterministic token or display name.
    :param arn_key: response key of the job's ARN.
    :param failure_key: response key of the reason a job failed.
    :param token_param: request parameter of the idempotency token a start (and stop) call takes,
        if any (``ClientRequestToken`` for pipeline executions).
    :param listing: how a List* call reports jobs of this kind; None when the kind has none (its
        triggers then describe their jobs one by one).
    """

    name: str
    label: str
    describe_method: str
    name_param: str
    status_key: str
    secondary_status_key: str | None
    succeeded: frozenset[str]
    failed: frozenset[str]
    stopped: frozenset[str]
    stopping: frozenset[str]
    console_fragment: str
    max_name_length: int
    stop: str | None
    identity: Identity = "name"
    arn_key: str | None = None
    failure_key: str = "FailureReason"
    token_param: str | None = None
    listing: ListShape | None = None

    @property
    def stoppable(self) -> bool:
        """Whether SageMaker can stop jobs of this kind."""
        return self.stop is not None

    @property
    def stop_method(self) -> str:
        """The snake_case client method that stops one job; :class:`JobNotStoppable` if there is none."""
        if self.stop is None:
            raise JobNotStoppable(f"A SageMaker {self.label} cannot be stopped")
        return self.stop

    def failure_reason(self, describe: dict[str, Any]) -> str | None:
        """
        The reason a job ended without success, as its describe response gives it.

        :param describe: the describe response.
        """
        reason = describe.get(self.failure_key)
        return str(reason) if reason not in (None, "") else None


TRAINING = JobKind(
    name="training",
    label="training job",
    describe_method="describe_training_job",
    name_param="TrainingJobName",
    status_key="TrainingJobStatus",
    secondary_status_key="SecondaryStatus",
    succeeded=frozenset({"Completed"}),
    failed=frozenset({"Failed", "Deleting", "Deleted"}),
    stopped=frozenset({"Stopped"}),
    stopping=frozenset({"Stopping"}),
    console_fragment="jobs/{name}",
    max_name_length=63,
    stop="stop_training_job",
    arn_key="TrainingJobArn",
    listing=ListShape(
        method="list_training_jobs",
        summaries_key="TrainingJobSummaries",
        name_key="TrainingJobName",
        status_key="TrainingJobStatus",
        secondary_status_key="SecondaryStatus",
    ),
)

TUNING = JobKind(
    name="tuning",
    label="hyperparameter tuning job",
    describe_method="describe_hyper_parameter_tuning_job",
    name_param="HyperParameterTuningJobName",
    status_key="HyperParameterTuningJobStatus",
    secondary_status_key=None,
    succeeded=frozenset({"Completed"}),
    failed=frozenset({"Failed", "DeleteFailed", "Deleting", "Deleted"}),
    stopped=frozenset({"Stopped"}),
    stopping=frozenset({"Stopping"}),
    console_fragment="hyper-tuning-jobs/{name}",
    max_name_length=32,
    stop="stop_hyper_parameter_tuning_job",
    arn_key="HyperParameterTuningJobArn",
    listing=ListShape(
        method="list_hyper_parameter_tuning_jobs",
        summaries_key="HyperParameterTuningJobSummaries",
        name_key="HyperParameterTuningJobName",
        status_key="HyperParameterTuningJobStatus",
    ),
)


def get_kind(name: str) -> JobKind:
    """
    Return the :class:`JobKind` called ``name``, as listed in :mod:`~airflow_provider_smtrain.jobs.catalog`.

    :param name: a kind name (``training``, ``tuning``).
    """
    from airflow_provider_smtrain.jobs.catalog import entry

    return entry(name).kind


def outcome_of(kind: JobKind, status: str | None) -> Outcome:
    """
    Judge a job status string.

    ``Stopping``, ``InProgress`` and any status SageMaker adds later count as running, so a new
    non-terminal status never fails a task.

    :param kind: the job kind.
    :param status: the raw status from the describe call.
    """
    if status in kind.succeeded:
        return Outcome.SUCCEEDED
    if status in kind.failed:
        return Outcome.FAILED
    if status in kind.stopped:
        return Outcome.STOPPED
    return Outcome.RUNNING


def failure_message(kind: JobKind, job_name: str | None, status: str | None, reason: str | None) -> str:
    """
    The one sentence that explains a job that ended without success, wherever that is noticed.

    ``SageMaker {label} {job_name} ended {status}: {reason}``.

    :param kind: the job kind.
    :param job_name: the job's name (or ARN).
    :param status: its final status.
    :param reason: SageMaker's failure reason (or another explanation); None when none was given.
    """
    return f"SageMaker {kind.label} {job_name} ended {status}: {reason or 'no failure reason given'}"

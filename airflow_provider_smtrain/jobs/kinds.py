"""What each kind of remote SageMaker job looks like to the provider: how to read, judge and stop it.

This module is pure data and pure functions (no AWS, no SDK). Operators in blocking mode, triggers and
sensors all judge a job through :func:`outcome_of`, so the three paths can never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Outcome(StrEnum):
    """How a job stands, reduced to what a task needs to decide."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    STOPPED = "stopped"


@dataclass(frozen=True)
class JobKind:
    """
    The shape of one kind of SageMaker job as seen through the boto3/aiobotocore ``sagemaker`` client.

    :param name: short identifier used in trigger payloads and state (``training``, ``tuning``).
    :param describe_method: snake_case client method that reads one job.
    :param stop_method: snake_case client method that stops one job.
    :param name_param: request parameter that carries the job name.
    :param status_key: response key of the job status.
    :param secondary_status_key: response key of the secondary status, if the kind has one.
    :param succeeded: statuses that mean success.
    :param failed: statuses that mean failure.
    :param stopped: statuses that mean the job was stopped.
    :param stopping: statuses of a job on its way to being stopped (running, but not re-attachable).
    :param console_fragment: console URL fragment, formatted with ``name``.
    :param max_name_length: longest job name SageMaker accepts for this kind.
    :param label: human readable name used in messages.
    """

    name: str
    describe_method: str
    stop_method: str
    name_param: str
    status_key: str
    secondary_status_key: str | None
    succeeded: frozenset[str]
    failed: frozenset[str]
    stopped: frozenset[str]
    stopping: frozenset[str]
    console_fragment: str
    max_name_length: int
    label: str


TRAINING = JobKind(
    name="training",
    describe_method="describe_training_job",
    stop_method="stop_training_job",
    name_param="TrainingJobName",
    status_key="TrainingJobStatus",
    secondary_status_key="SecondaryStatus",
    succeeded=frozenset({"Completed"}),
    failed=frozenset({"Failed", "Deleting", "Deleted"}),
    stopped=frozenset({"Stopped"}),
    stopping=frozenset({"Stopping"}),
    console_fragment="jobs/{name}",
    max_name_length=63,
    label="training job",
)

TUNING = JobKind(
    name="tuning",
    describe_method="describe_hyper_parameter_tuning_job",
    stop_method="stop_hyper_parameter_tuning_job",
    name_param="HyperParameterTuningJobName",
    status_key="HyperParameterTuningJobStatus",
    secondary_status_key=None,
    succeeded=frozenset({"Completed"}),
    failed=frozenset({"Failed", "DeleteFailed", "Deleting", "Deleted"}),
    stopped=frozenset({"Stopped"}),
    stopping=frozenset({"Stopping"}),
    console_fragment="hyper-tuning-jobs/{name}",
    max_name_length=32,
    label="hyperparameter tuning job",
)

KINDS: dict[str, JobKind] = {kind.name: kind for kind in (TRAINING, TUNING)}


def get_kind(name: str) -> JobKind:
    """
    Return the :class:`JobKind` called ``name``.

    :param name: one of the keys of :data:`KINDS`.
    """
    try:
        return KINDS[name]
    except KeyError:
        raise ValueError(f"Unknown job kind {name!r}; accepted: {sorted(KINDS)}") from None


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


def console_domain(region: str) -> str:
    """
    The AWS console host for a region's partition.

    :param region: the AWS region.
    """
    if region.startswith("cn-"):
        return f"{region}.console.amazonaws.cn"
    if region.startswith("us-gov-"):
        return f"{region}.console.amazonaws-us-gov.com"
    return f"{region}.console.aws.amazon.com"


def console_url(kind: JobKind, name: str, region: str) -> str:
    """
    Console page of a job.

    :param kind: the job kind.
    :param name: the job name.
    :param region: the AWS region of the job.
    """
    fragment = kind.console_fragment.format(name=name)
    return f"https://{console_domain(region)}/sagemaker/home?region={region}#/{fragment}"


def log_console_url(job_name: str, region: str) -> str:
    """
    CloudWatch console page of a training job's log streams.

    :param job_name: the training job name.
    :param region: the AWS region of the job.
    """
    return (
        f"https://{console_domain(region)}/cloudwatch/home?region={region}"
        f"#logStream:group=/aws/sagemaker/TrainingJobs;prefix={job_name};streamFilter=typeLogStreamPrefix"
    )

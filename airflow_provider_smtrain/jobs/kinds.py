"""What each kind of remote SageMaker job looks like to the provider: how to read, judge and stop it.

This module is pure data and pure functions (no AWS, no SDK). Operators in blocking mode, triggers and
sensors all judge a job through :func:`outcome_of`, so the three paths can never disagree. Which kinds
exist, and what results, triggers, links and sensors go with each, is listed in one place only:
:mod:`airflow_provider_smtrain.jobs.catalog`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

from airflow_provider_smtrain.jobs.console import console_domain, console_url, log_console_url
from airflow_provider_smtrain.jobs.hub_content import hub_content_params
from airflow_provider_smtrain.jobs.list_shapes import ListShape, SearchShape
from airflow_provider_smtrain.jobs.pipeline_arns import pipeline_execution_parts, pipeline_of

__all__ = [
    "AGENT_RFT",
    "ENDPOINT",
    "HUB_CONTENT",
    "TRAINING",
    "TUNING",
    "JobKind",
    "JobNotStoppable",
    "PIPELINE_EXECUTION",
    "ListShape",
    "SearchShape",
    "Outcome",
    "console_domain",
    "console_url",
    "failure_message",
    "get_kind",
    "log_console_url",
    "outcome_of",
    "sagemaker_resource",
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
    :param fixed_params: further request parameters, the same for every job of the kind, that describe
        and stop calls need (``JobCategory`` for the ``CreateJob`` family).
    :param handle_params: for kinds whose describe call takes several parameters (hub content: hub,
        type, name, version), turns the job's handle (its ARN) into them; None sends
        ``{name_param: handle}``.
    :param listing: how a List* call reports jobs of this kind; None when the kind has none (its
        triggers then describe their jobs one by one).
    :param console_fields: for kinds whose console fragment needs more than the name (a pipeline
        execution: pipeline and execution id), derives those fields from the job's handle.
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
    fixed_params: tuple[tuple[str, str], ...] = ()
    handle_params: Callable[[str], dict[str, str]] | None = None
    listing: ListShape | None = None
    console_fields: Callable[[str], dict[str, str]] | None = None

    def request_params(self, job_name: str) -> dict[str, str]:
        """
        The parameters of a describe or stop call for one job.

        :param job_name: the job's name (or ARN, for ``identity="arn"``; for kinds with
            ``handle_params``, the handle they turn into several parameters).
        """
        named = self.handle_params(job_name) if self.handle_params is not None else {self.name_param: job_name}
        return {**named, **dict(self.fixed_params)}

    def stop_params(self, job_name: str) -> dict[str, str]:
        """
        The parameters of a stop call: those of :meth:`request_params`, plus a deterministic idempotency
        token for kinds whose stop takes one (the same job always gets the same token, so a retried
        stop is one request to SageMaker).

        :param job_name: the job's name or ARN.
        """
        params = self.request_params(job_name)
        if self.token_param:
            import hashlib

            params[self.token_param] = hashlib.sha256(f"stop\x1f{job_name}".encode()).hexdigest()[:32]
        return params

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


def sagemaker_resource(
    noun: str,
    *,
    name: str,
    label: str,
    succeeded: frozenset[str],
    failed: frozenset[str],
    console_fragment: str,
    max_name_length: int,
    stoppable: bool = True,
    identity: Identity = "name",
    secondary_status_key: str | None = None,
    listed: bool = False,
    listing: ListShape | None = None,
    **more: Any,
) -> JobKind:
    """
    The :class:`JobKind` of a SageMaker resource whose API follows the service's naming: ``Describe<Noun>``
    and ``Stop<Noun>`` calls, ``<Noun>Name`` (or ``<Noun>Arn``) to identify one, ``<Noun>Status`` and
    ``<Noun>Arn`` in its describe response, ``Stopping``/``Stopped`` when it is stopped, and (if
    ``listed``) ``List<Noun>s`` returning ``<Noun>Summaries``.

    :param noun: the API noun (``TrainingJob``, ``HyperParameterTuningJob``, ``Endpoint``).
    :param name: the kind's short identifier.
    :param label: human readable name used in messages.
    :param succeeded: statuses that mean success.
    :param failed: statuses that mean failure.
    :param console_fragment: console URL fragment (see :class:`JobKind`).
    :param max_name_length: longest job name (or handle) SageMaker accepts.
    :param stoppable: whether SageMaker can stop one (``Stop<Noun>``).
    :param identity: ``"name"`` (``<Noun>Name``) or ``"arn"`` (``<Noun>Arn``) identifies one.
    :param secondary_status_key: response (and summary) key of the secondary status, if any.
    :param listed: whether triggers read many at once through ``List<Noun>s`` (the default shape).
    :param listing: a List* shape that differs from the default one (implies ``listed``).
    :param more: further :class:`JobKind` fields.
    """
    snake = re.sub(r"(?<!^)(?=[A-Z])", "_", noun).lower()
    if listed and listing is None:
        listing = ListShape(
            method=f"list_{snake}s",
            summaries_key=f"{noun}Summaries",
            name_key=f"{noun}Name",
            status_key=f"{noun}Status",
            secondary_status_key=secondary_status_key,
        )
    return JobKind(
        name=name,
        label=label,
        describe_method=f"describe_{snake}",
        name_param=f"{noun}Name" if identity == "name" else f"{noun}Arn",
        status_key=f"{noun}Status",
        secondary_status_key=secondary_status_key,
        succeeded=succeeded,
        failed=failed,
        stopped=frozenset({"Stopped"}) if stoppable else frozenset(),
        stopping=frozenset({"Stopping"}) if stoppable else frozenset(),
        console_fragment=console_fragment,
        max_name_length=max_name_length,
        stop=f"stop_{snake}" if stoppable else None,
        identity=identity,
        arn_key=f"{noun}Arn",
        listing=listing,
        **more,
    )


TRAINING = sagemaker_resource(
    "TrainingJob",
    name="training",
    label="training job",
    succeeded=frozenset({"Completed"}),
    failed=frozenset({"Failed", "Deleting", "Deleted"}),
    console_fragment="jobs/{name}",
    max_name_length=63,
    secondary_status_key="SecondaryStatus",
    listed=True,
)

TUNING = sagemaker_resource(
    "HyperParameterTuningJob",
    name="tuning",
    label="hyperparameter tuning job",
    succeeded=frozenset({"Completed"}),
    failed=frozenset({"Failed", "DeleteFailed", "Deleting", "Deleted"}),
    console_fragment="hyper-tuning-jobs/{name}",
    max_name_length=32,
    listed=True,
)

#: An AI Registry import (``ImportHubContent``): identified by its hub content ARN, cannot be stopped.
HUB_CONTENT = sagemaker_resource(
    "HubContent",
    name="hub_content",
    label="AI Registry hub content",
    succeeded=frozenset({"Available"}),
    failed=frozenset({"ImportFailed", "Deleting", "DeleteFailed", "PendingDelete"}),
    console_fragment="hubs",
    max_name_length=63,
    stoppable=False,
    identity="arn",
    handle_params=hub_content_params,
)

#: A job of the ``CreateJob`` family (``JobCategory=AgentRFT``).
AGENT_RFT = sagemaker_resource(
    "Job",
    name="agent_rft",
    label="AgentRFT job",
    succeeded=frozenset({"Completed"}),
    failed=frozenset({"Failed", "Deleting", "DeleteFailed"}),
    console_fragment="jobs/agent-rft/{name}",
    max_name_length=63,
    secondary_status_key="SecondaryStatus",
    fixed_params=(("JobCategory", "AgentRFT"),),
)


#: A SageMaker Pipelines execution (the serverless evaluators): identified by the ARN SageMaker returns;
#: the provider finds it through its own pipeline (one per task instance and generation) and starts it
#: with a deterministic ``ClientRequestToken``. ``Search`` (``Resource="PipelineExecution"``) reads the
#: executions of every pipeline changed since a time; where it is refused, ``ListPipelineExecutions`` lists
#: one pipeline's executions (``PipelineName``, parsed from the ARN), filtered by creation time only
#: (``CreatedAfter``).
PIPELINE_EXECUTION = sagemaker_resource(
    "PipelineExecution",
    name="pipeline_execution",
    label="pipeline execution",
    succeeded=frozenset({"Succeeded"}),
    failed=frozenset({"Failed", "CompletedWithFailures"}),
    console_fragment="pipelines/{pipeline}/executions/{execution}",
    max_name_length=82,
    identity="arn",
    token_param="ClientRequestToken",
    console_fields=pipeline_execution_parts,
    listing=ListShape(
        method="list_pipeline_executions",
        summaries_key="PipelineExecutionSummaries",
        name_key="PipelineExecutionArn",
        status_key="PipelineExecutionStatus",
        created_after_param="CreatedAfter",
        scope_param="PipelineName",
        scope=pipeline_of,
        search=SearchShape(
            resource="PipelineExecution",
            record_key="PipelineExecution",
            name_key="PipelineExecutionArn",
            status_key="PipelineExecutionStatus",
        ),
    ),
)


#: A real-time endpoint being created or updated (``CreateEndpoint``/``UpdateEndpoint``): waited for until
#: ``InService``; it cannot be stopped (a deployment is undone by another update or a delete).
ENDPOINT = sagemaker_resource(
    "Endpoint",
    name="endpoint",
    label="endpoint",
    succeeded=frozenset({"InService"}),
    failed=frozenset({"Failed", "UpdateRollbackFailed", "OutOfService", "Deleting"}),
    console_fragment="endpoints/{name}",
    max_name_length=63,
    stoppable=False,
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

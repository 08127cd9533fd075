"""
The AgentRFT job operations added to moto's SageMaker (server process only; idempotent).

``CreateJob``, ``DescribeJob``, ``StopJob`` and ``ListJobs`` are new ``SageMakerResponse`` actions backed by
:class:`~.service.AgentRFTService`; errors are SageMaker's (``ValidationException``, ``ResourceInUse``,
``ResourceNotFound``).
"""

from __future__ import annotations

from typing import Any, cast

from moto.core.responses import ActionResult, EmptyResult
from moto.sagemaker.exceptions import AWSValidationException, ResourceInUseException, ResourceNotFound
from moto.sagemaker.responses import SageMakerResponse

from airflow_provider_smtrain.testing import moto_support
from airflow_provider_smtrain.testing.engine.simulator import active
from airflow_provider_smtrain.testing.services.agent_rft.service import AgentRFTService, JobInUse, JobNotFound
from airflow_provider_smtrain.testing.services.listing import as_datetime as _as_datetime
from airflow_provider_smtrain.testing.services.listing import enum_error as _enum_error
from airflow_provider_smtrain.testing.services.paging import page
from airflow_provider_smtrain.testing.services.responses import where

SORT_BY = ("Name", "CreationTime", "Status")
SORT_ORDER = ("Ascending", "Descending")
STATUSES = ("InProgress", "Completed", "Failed", "Stopping", "Stopped", "Deleting", "DeleteFailed")
_CREATE_PARAMS = ("JobName", "RoleArn", "JobCategory", "JobConfigSchemaVersion", "JobConfigDocument", "Tags")
_TIME_BOUNDS = {
    "CreationTimeAfter": ("CreationTime", lambda value, bound: value > bound),
    "CreationTimeBefore": ("CreationTime", lambda value, bound: value < bound),
    "LastModifiedTimeAfter": ("LastModifiedTime", lambda value, bound: value > bound),
    "LastModifiedTimeBefore": ("LastModifiedTime", lambda value, bound: value < bound),
}


def agent_rft() -> AgentRFTService:
    """The active simulator's AgentRFT service."""
    return cast(AgentRFTService, active().service("agent_rft"))


def install() -> None:
    """Add the four operations to moto's SageMaker (once per process)."""
    moto_support.patch_once(SageMakerResponse, "create_job", lambda _: create_job)
    moto_support.patch_once(SageMakerResponse, "describe_job", lambda _: describe_job)
    moto_support.patch_once(SageMakerResponse, "stop_job", lambda _: stop_job)
    moto_support.patch_once(SageMakerResponse, "list_jobs", lambda _: list_jobs)


def create_job(self: SageMakerResponse) -> ActionResult:
    """
    CreateJob.

    :param self: moto's SageMaker response handler.
    """
    params = {name: self._get_param(name) for name in _CREATE_PARAMS}
    try:
        sim = agent_rft().create(*where(self), params)
    except JobInUse as err:
        raise ResourceInUseException(message=str(err)) from None
    except ValueError as err:
        raise AWSValidationException(str(err)) from None
    return ActionResult({"JobArn": sim.arn})


def describe_job(self: SageMakerResponse) -> ActionResult:
    """
    DescribeJob.

    :param self: moto's SageMaker response handler.
    """
    service = agent_rft()
    sim = _get(self, service)
    return ActionResult(sim.describe(service.simulator.clock.now()))


def stop_job(self: SageMakerResponse) -> EmptyResult:
    """
    StopJob.

    :param self: moto's SageMaker response handler.
    """
    service = agent_rft()
    try:
        service.stop(_get(self, service))
    except ValueError as err:
        raise AWSValidationException(str(err)) from None
    return EmptyResult()


def list_jobs(self: SageMakerResponse) -> ActionResult:
    """
    ListJobs: filter, sort (default ``CreationTime``, ``Descending``), then page.

    :param self: moto's SageMaker response handler.
    """
    params = {
        name: self._get_param(name)
        for name in ("JobCategory", "NameContains", "StatusEquals", "SortBy", "SortOrder", "MaxResults", "NextToken")
        + tuple(_TIME_BOUNDS)
    }
    sort_by = params["SortBy"] or "CreationTime"
    sort_order = params["SortOrder"] or "Descending"
    errors = [
        _enum_error(str(value), member, allowed)
        for value, member, allowed in (
            (sort_by, "sortBy", SORT_BY),
            (sort_order, "sortOrder", SORT_ORDER),
            (params["StatusEquals"] or STATUSES[0], "statusEquals", STATUSES),
        )
        if value not in allowed
    ]
    if errors:
        noun = "error" if len(errors) == 1 else "errors"
        raise AWSValidationException(f"{len(errors)} validation {noun} detected: " + "; ".join(errors))
    service = agent_rft()
    try:
        sims = service.listed(*where(self), service._category(params))
    except ValueError as err:
        raise AWSValidationException(str(err)) from None
    now = service.simulator.clock.now()
    items = [sim.summary(now) for sim in sims if not params["NameContains"] or params["NameContains"] in sim.name]
    for param, (member, keep) in _TIME_BOUNDS.items():
        if params[param] is not None:
            bound = _as_datetime(params[param])
            items = [item for item in items if keep(item[member], bound)]
    if params["StatusEquals"]:
        items = [item for item in items if item["JobStatus"] == params["StatusEquals"]]
    order: dict[str, Any] = {
        "Name": lambda item: item["JobName"],
        "Status": lambda item: (item["JobStatus"], item["JobName"]),
        "CreationTime": lambda item: (item["CreationTime"], item["JobName"]),
    }
    items.sort(key=order[sort_by], reverse=sort_order == "Descending")
    try:
        return ActionResult(page(items, "JobSummaries", params["MaxResults"], params["NextToken"]))
    except ValueError as err:
        raise AWSValidationException(str(err)) from None


def _get(response: SageMakerResponse, service: AgentRFTService) -> Any:
    params = {"JobName": response._get_param("JobName"), "JobCategory": response._get_param("JobCategory")}
    try:
        return service.get(*where(response), params)
    except JobNotFound as err:
        raise ResourceNotFound(message=str(err)) from None
    except ValueError as err:
        raise AWSValidationException(str(err)) from None

"""
The pipeline operations of moto's SageMaker, made faithful (server process only; idempotent).

moto keeps pipelines (CreatePipeline, UpdatePipeline, DescribePipeline, ListTags, AddTags): they get the
simulation clock's times, a version that UpdatePipeline bumps, and ``ResourceNotFound`` for an unknown
name. ListPipelines is replaced (moto pages before it filters and matches the prefix anywhere). Every
execution operation is replaced by :class:`~.service.PipelineExecutions`: StartPipelineExecution
(``ClientRequestToken`` idempotency), DescribePipelineExecution, ListPipelineExecutions,
ListPipelineExecutionSteps, StopPipelineExecution, DescribePipelineDefinitionForExecution, and ``Search``
of ``Resource="PipelineExecution"`` (:mod:`.search`; other resources keep moto's).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, cast

from moto.core.responses import ActionResult
from moto.sagemaker.exceptions import AWSValidationException, ConflictException, ResourceNotFound
from moto.sagemaker.responses import SageMakerResponse

from airflow_provider_smtrain.testing import moto_support
from airflow_provider_smtrain.testing.engine.simulator import active
from airflow_provider_smtrain.testing.engine.timeline import to_datetime
from airflow_provider_smtrain.testing.services.listing import as_datetime, enum_error
from airflow_provider_smtrain.testing.services.paging import page
from airflow_provider_smtrain.testing.services.pipelines import search as search_module
from airflow_provider_smtrain.testing.services.pipelines.definition import DefinitionError
from airflow_provider_smtrain.testing.services.pipelines.service import (
    ExecutionNotFound,
    PipelineExecutions,
    TokenConflict,
)

SORT_BY = ("Name", "CreationTime")
EXECUTION_SORT_BY = ("CreationTime", "PipelineExecutionArn")
SORT_ORDER = ("Ascending", "Descending")


def executions() -> PipelineExecutions:
    """The active simulator's pipeline executions."""
    return cast(PipelineExecutions, active().service("pipeline_execution"))


def install() -> None:
    """Install the pipeline patches (once per process)."""
    moto_support.patch_once(SageMakerResponse, "create_pipeline", _created)
    moto_support.patch_once(SageMakerResponse, "update_pipeline", _updated)
    moto_support.patch_once(SageMakerResponse, "describe_pipeline", _known_pipeline)
    moto_support.patch_once(SageMakerResponse, "list_pipelines", lambda _: list_pipelines)
    moto_support.patch_once(SageMakerResponse, "search", _search)
    handlers: tuple[tuple[str, Callable[[SageMakerResponse], ActionResult]], ...] = (
        ("start_pipeline_execution", start_pipeline_execution),
        ("describe_pipeline_execution", describe_pipeline_execution),
        ("list_pipeline_executions", list_pipeline_executions),
        ("list_pipeline_execution_steps", list_pipeline_execution_steps),
        ("stop_pipeline_execution", stop_pipeline_execution),
        ("describe_pipeline_definition_for_execution", describe_pipeline_definition_for_execution),
    )
    for name, handler in handlers:
        moto_support.patch_once(SageMakerResponse, name, _constant(handler))


def _constant(handler: Callable[[SageMakerResponse], ActionResult]) -> Callable[[Any], Any]:
    return lambda _original: handler


def _now() -> Any:
    return to_datetime(active().clock.now())


def _pipeline(response: SageMakerResponse, name: str | None = None) -> Any:
    name = str(name or response._get_param("PipelineName") or "")
    pipelines = response.sagemaker_backend.pipelines
    pipeline = pipelines.get(name) or pipelines.get(name.rsplit("/", 1)[-1])
    if pipeline is None:
        backend = response.sagemaker_backend
        arn = f"arn:aws:sagemaker:{backend.region_name}:{backend.account_id}:pipeline/{name}"
        raise ResourceNotFound(message=f"Pipeline '{arn}' does not exist.")
    return pipeline


def _created(original: Callable[[SageMakerResponse], Any]) -> Callable[[SageMakerResponse], Any]:
    @functools.wraps(original)
    def create_pipeline(self: SageMakerResponse) -> Any:
        result = original(self)
        pipeline: Any = self.sagemaker_backend.pipelines[self._get_param("PipelineName")]
        pipeline.creation_time = pipeline.last_modified_time = _now()
        pipeline.local_version = 1
        return result

    return create_pipeline


def _updated(original: Callable[[SageMakerResponse], Any]) -> Callable[[SageMakerResponse], Any]:
    @functools.wraps(original)
    def update_pipeline(self: SageMakerResponse) -> Any:
        pipeline = _pipeline(self)
        result = original(self)
        pipeline.last_modified_time = _now()
        pipeline.local_version = getattr(pipeline, "local_version", 1) + 1
        return result

    return update_pipeline


def _known_pipeline(original: Callable[[SageMakerResponse], Any]) -> Callable[[SageMakerResponse], Any]:
    @functools.wraps(original)
    def describe_pipeline(self: SageMakerResponse) -> Any:
        _pipeline(self)
        return original(self)

    return describe_pipeline


def _backend_where(response: SageMakerResponse) -> tuple[str, str]:
    backend = response.sagemaker_backend
    return backend.account_id, backend.region_name


def _validate(sort_by: str, sort_order: str, allowed: tuple[str, ...]) -> None:
    errors = [enum_error(sort_by, "sortBy", allowed)] if sort_by not in allowed else []
    if sort_order not in SORT_ORDER:
        errors.append(enum_error(sort_order, "sortOrder", SORT_ORDER))
    if errors:
        noun = "error" if len(errors) == 1 else "errors"
        raise AWSValidationException(f"{len(errors)} validation {noun} detected: " + "; ".join(errors))


def _page(
    items: list[Any], key: str, response: SageMakerResponse, view: Callable[[list[Any]], list[Any]] | None = None
) -> ActionResult:
    """One page of ``items``; ``view`` turns the page's items into response entries (only theirs)."""
    try:
        result = page(items, key, response._get_param("MaxResults"), response._get_param("NextToken"))
    except ValueError as err:
        raise AWSValidationException(str(err)) from None
    if view is not None:
        result[key] = view(result[key])
    return ActionResult(result)


def list_pipelines(self: SageMakerResponse) -> ActionResult:
    """
    ListPipelines: ``PipelineNamePrefix`` (a prefix), creation bounds, sort (default ``CreationTime``
    ``Descending``), then pages.

    :param self: moto's SageMaker response handler.
    """
    sort_by = self._get_param("SortBy") or "CreationTime"
    sort_order = self._get_param("SortOrder") or "Descending"
    _validate(sort_by, sort_order, SORT_BY)
    pipelines = list(self.sagemaker_backend.pipelines.values())
    prefix = self._get_param("PipelineNamePrefix")
    if prefix:
        pipelines = [p for p in pipelines if p.pipeline_name.startswith(prefix)]
    for param, keep in (("CreatedAfter", lambda v, b: v > b), ("CreatedBefore", lambda v, b: v < b)):
        if self._get_param(param) is not None:
            bound = as_datetime(self._get_param(param))
            pipelines = [p for p in pipelines if keep(p.creation_time, bound)]
    key: Callable[[Any], Any] = (
        (lambda p: p.pipeline_name) if sort_by == "Name" else (lambda p: (p.creation_time, p.pipeline_name))
    )
    pipelines.sort(key=key, reverse=sort_order == "Descending")
    summaries = []
    for p in pipelines:
        item = {
            "PipelineArn": p.arn,
            "PipelineName": p.pipeline_name,
            "PipelineDisplayName": p.pipeline_display_name,
            "PipelineDescription": p.pipeline_description,
            "RoleArn": p.role_arn,
            "CreationTime": p.creation_time,
            "LastModifiedTime": p.last_modified_time,
            "LastExecutionTime": p.last_execution_time,
        }
        summaries.append({k: v for k, v in item.items() if v is not None})
    return _page(summaries, "PipelineSummaries", self)


def start_pipeline_execution(self: SageMakerResponse) -> ActionResult:
    """
    StartPipelineExecution.

    :param self: moto's SageMaker response handler.
    """
    pipeline = _pipeline(self)
    params = {
        name: self._get_param(name)
        for name in (
            "PipelineExecutionDisplayName",
            "PipelineParameters",
            "PipelineExecutionDescription",
            "ClientRequestToken",
        )
    }
    if not params["ClientRequestToken"]:
        raise AWSValidationException(
            "1 validation error detected: Value null at 'clientRequestToken' failed to satisfy constraint: "
            "Member must not be null"
        )
    try:
        execution = executions().start(pipeline, *_backend_where(self), params)
    except TokenConflict as err:
        raise ConflictException(str(err)) from None
    except DefinitionError as err:
        raise AWSValidationException(str(err)) from None
    return ActionResult({"PipelineExecutionArn": execution.arn})


def _execution(response: SageMakerResponse) -> Any:
    arn = str(response._get_param("PipelineExecutionArn") or "")
    try:
        execution = executions().get(arn)
    except ExecutionNotFound as err:
        raise ResourceNotFound(message=str(err)) from None
    if (execution.account_id, execution.region) != _backend_where(response):
        raise ResourceNotFound(message=f"Pipeline execution {arn} does not exist.")
    return execution


def describe_pipeline_execution(self: SageMakerResponse) -> ActionResult:
    """
    DescribePipelineExecution.

    :param self: moto's SageMaker response handler.
    """
    return ActionResult(_execution(self).describe())


def describe_pipeline_definition_for_execution(self: SageMakerResponse) -> ActionResult:
    """
    DescribePipelineDefinitionForExecution: the definition as it was when the execution started.

    :param self: moto's SageMaker response handler.
    """
    execution = _execution(self)
    return ActionResult(
        {"PipelineDefinition": execution.definition_text, "CreationTime": to_datetime(execution.created)}
    )


def list_pipeline_execution_steps(self: SageMakerResponse) -> ActionResult:
    """
    ListPipelineExecutionSteps: started steps, newest first unless ``SortOrder`` is ``Ascending``.

    :param self: moto's SageMaker response handler.
    """
    execution = _execution(self)
    sort_order = self._get_param("SortOrder") or "Descending"
    if sort_order not in SORT_ORDER:
        raise AWSValidationException("1 validation error detected: " + enum_error(sort_order, "sortOrder", SORT_ORDER))
    steps = sorted(
        execution.steps.values(),
        key=lambda s: (s.start, list(execution.steps).index(s.spec.name)),
        reverse=sort_order == "Descending",
    )
    return _page([s.view() for s in steps], "PipelineExecutionSteps", self)


def list_pipeline_executions(self: SageMakerResponse) -> ActionResult:
    """
    ListPipelineExecutions: creation bounds, sort (default ``CreationTime`` ``Descending``), pages.

    :param self: moto's SageMaker response handler.
    """
    pipeline = _pipeline(self)
    sort_by = self._get_param("SortBy") or "CreationTime"
    sort_order = self._get_param("SortOrder") or "Descending"
    _validate(sort_by, sort_order, EXECUTION_SORT_BY)
    # filters and order use what never changes: only the page's executions are brought up to date
    found = executions().listed(*_backend_where(self), pipeline.pipeline_name, up_to_date=False)
    for param, keep in (("CreatedAfter", lambda v, b: v > b), ("CreatedBefore", lambda v, b: v < b)):
        if self._get_param(param) is not None:
            bound = as_datetime(self._get_param(param))
            found = [e for e in found if keep(to_datetime(e.created), bound)]
    key: Callable[[Any], Any] = (
        (lambda e: e.arn) if sort_by == "PipelineExecutionArn" else (lambda e: (e.created, e.arn))
    )
    found.sort(key=key, reverse=sort_order == "Descending")
    return _page(found, "PipelineExecutionSummaries", self, executions().summaries)


def stop_pipeline_execution(self: SageMakerResponse) -> ActionResult:
    """
    StopPipelineExecution.

    :param self: moto's SageMaker response handler.
    """
    execution = _execution(self)
    try:
        executions().stop(execution)
    except ValueError as err:
        raise ConflictException(str(err)) from None
    return ActionResult({"PipelineExecutionArn": execution.arn})


def _search(original: Callable[[SageMakerResponse], Any]) -> Callable[[SageMakerResponse], Any]:
    def search(self: SageMakerResponse) -> Any:
        """Search: pipeline executions from the simulation (:mod:`.search`), other resources as moto has them."""
        if self._get_param("Resource") != search_module.RESOURCE:
            return original(self)
        params = {k: self._get_param(k) for k in ("SearchExpression", "SortBy", "SortOrder", "MaxResults", "NextToken")}
        return ActionResult(search_module.search(executions(), _backend_where(self), params))

    return search

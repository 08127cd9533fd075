"""
The moto patches of the tuning service (server process only; idempotent).

``HyperParameterTuningJob.__init__``
    Hand the job to :meth:`TuningService.on_created` (InProgress, children planned over time).
``SageMakerModelBackend.create_hyper_parameter_tuning_job``
    SageMaker's name rules (ValidationException).
``SageMakerResponse.describe_hyper_parameter_tuning_job``
    Brings that job and its children up to the simulated time first.
``SageMakerResponse.stop_hyper_parameter_tuning_job`` / ``list_training_jobs_for_hyper_parameter_tuning_job``
    New.
``SageMakerResponse.list_hyper_parameter_tuning_jobs``
    Replaced: brings the jobs up to date, filters (moto compares request epochs to datetimes and
    fails), sorts, then pages (:mod:`.listing`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, cast

from moto.core.responses import ActionResult, EmptyResult
from moto.sagemaker import models as sm_models
from moto.sagemaker.exceptions import AWSValidationException, ResourceNotFound, ValidationError
from moto.sagemaker.responses import SageMakerResponse

from airflow_provider_smtrain.testing import moto_support
from airflow_provider_smtrain.testing.engine.simulator import active
from airflow_provider_smtrain.testing.services.listing import LIST_PARAMS
from airflow_provider_smtrain.testing.services.names import TUNING_JOB_NAME
from airflow_provider_smtrain.testing.services.paging import page
from airflow_provider_smtrain.testing.services.tuning.lifecycle import TuningService
from airflow_provider_smtrain.testing.services.tuning.listing import list_tuning_jobs
from airflow_provider_smtrain.testing.services.tuning.views import list_children


def tuning() -> TuningService:
    """The active simulator's tuning service."""
    return cast(TuningService, active().service("tuning"))


def install() -> None:
    """Install the tuning patches (once per process)."""
    moto_support.patch_once(sm_models.HyperParameterTuningJob, "__init__", _job_init)
    moto_support.patch_once(sm_models.SageMakerModelBackend, "create_hyper_parameter_tuning_job", _create)
    moto_support.patch_once(SageMakerResponse, "describe_hyper_parameter_tuning_job", _describe)
    moto_support.patch_once(SageMakerResponse, "stop_hyper_parameter_tuning_job", lambda _: _stop)
    moto_support.patch_once(
        SageMakerResponse, "list_training_jobs_for_hyper_parameter_tuning_job", lambda _: _list_children
    )
    moto_support.patch_once(SageMakerResponse, "list_hyper_parameter_tuning_jobs", lambda _: _list)


def _job_init(original: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(original)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        tuning().on_created(self, kwargs["account_id"], kwargs["region_name"])

    return __init__


def _create(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def create_hyper_parameter_tuning_job(
        self: Any, hyper_parameter_tuning_job_name: str, *args: Any, **kwargs: Any
    ) -> Any:
        violation = TUNING_JOB_NAME.violation(hyper_parameter_tuning_job_name)
        if violation is not None:
            raise AWSValidationException(violation)
        return original(self, hyper_parameter_tuning_job_name, *args, **kwargs)

    return create_hyper_parameter_tuning_job


def _key(response: SageMakerResponse) -> tuple[str, str, str]:
    backend = response.sagemaker_backend
    return (backend.account_id, backend.region_name, response._get_param("HyperParameterTuningJobName"))


def _describe(original: Callable[[SageMakerResponse], Any]) -> Callable[[SageMakerResponse], Any]:
    @functools.wraps(original)
    def describe_hyper_parameter_tuning_job(self: SageMakerResponse) -> Any:
        tuning().touch(_key(self))
        return original(self)

    return describe_hyper_parameter_tuning_job


def _stop(self: SageMakerResponse) -> EmptyResult:
    key = _key(self)
    try:
        tuning().stop(key)
    except LookupError:
        raise ResourceNotFound(message=f"Could not find hyper parameter tuning job '{key[2]}'.") from None
    except ValueError as err:
        raise ValidationError(message=str(err)) from None
    return EmptyResult()


def _list_children(self: SageMakerResponse) -> ActionResult:
    key = _key(self)
    service = tuning()
    sim = service.touch(key)
    if sim is None:
        raise ResourceNotFound(message=f"Could not find hyper parameter tuning job '{key[2]}'.")
    summaries = list_children(
        sim,
        service.training,
        status_equals=self._get_param("StatusEquals"),
        sort_by=self._get_param("SortBy"),
        sort_order=self._get_param("SortOrder"),
    )
    try:
        result = page(
            summaries, "TrainingJobSummaries", self._get_param("MaxResults"), self._get_param("NextToken")
        )
    except ValueError as err:
        raise ValidationError(message=str(err)) from None
    return ActionResult(result)


def _list(self: SageMakerResponse) -> ActionResult:
    backend = self.sagemaker_backend
    try:
        params = {name: self._get_param(name) for name in LIST_PARAMS}
        result = list_tuning_jobs(tuning(), backend.account_id, backend.region_name, params)
    except ValueError as err:
        raise AWSValidationException(str(err)) from None
    return ActionResult(result)

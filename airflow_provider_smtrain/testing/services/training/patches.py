"""
The moto patches of the training service (server process only; idempotent).

``FakeTrainingJob.__init__``
    Tolerate a missing ``AlgorithmSpecification`` / ``OutputDataConfig`` (serverless jobs crash moto),
    keep the caller's ``MetricDefinitions`` (moto overwrites them), then hand the job to
    :meth:`TrainingService.on_created`, which plans its lifecycle.
``SageMakerModelBackend.create_training_job``
    SageMaker's name rules (ValidationException) and ``ResourceInUse`` for a taken name.
``SageMakerResponse.create_training_job``
    Hands ``ServerlessJobConfig`` / ``MlflowConfig`` / ``ModelPackageConfig`` (which moto ignores) to the
    training service for the job being created (:mod:`.serverless`).
``SageMakerResponse.describe_training_job``
    Brings that one job up to the simulated time first.
``SageMakerResponse.list_training_jobs``
    Replaced: filters, sorts, then pages (:mod:`.listing`).
``SageMakerResponse.stop_training_job``
    New.
``LogsResponse.get_log_events`` / ``filter_log_events`` / ``describe_log_streams``
    Bring the jobs whose streams are read up to date first, so their log lines are there.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, cast

from moto.core.responses import ActionResult, EmptyResult
from moto.logs.responses import LogsResponse
from moto.sagemaker import models as sm_models
from moto.sagemaker.exceptions import (
    AWSValidationException,
    ResourceInUseException,
    ResourceNotFound,
    ValidationError,
)
from moto.sagemaker.responses import SageMakerResponse

from airflow_provider_smtrain.jobs.console import TRAINING_LOG_GROUP
from airflow_provider_smtrain.testing import moto_support
from airflow_provider_smtrain.testing.engine.simulator import active
from airflow_provider_smtrain.testing.services.names import TRAINING_JOB_NAME
from airflow_provider_smtrain.testing.services.training import serverless
from airflow_provider_smtrain.testing.services.training.lifecycle import TrainingService
from airflow_provider_smtrain.testing.services.training.listing import LIST_PARAMS, list_training_jobs
from airflow_provider_smtrain.testing.services.tuning.lifecycle import TuningService

#: ``StoppingCondition.MaxRuntimeInSeconds`` SageMaker applies when a request sets none (one day).
DEFAULT_MAX_RUNTIME = 86400


def training() -> TrainingService:
    """The active simulator's training service."""
    return cast(TrainingService, active().service("training"))


def install() -> None:
    """Install the training patches (once per process)."""
    moto_support.patch_once(sm_models.FakeTrainingJob, "__init__", _job_init)
    moto_support.patch_once(sm_models.SageMakerModelBackend, "create_training_job", _create)
    moto_support.patch_once(SageMakerResponse, "create_training_job", _create_request)
    moto_support.patch_once(SageMakerResponse, "describe_training_job", _describe)
    moto_support.patch_once(SageMakerResponse, "list_training_jobs", lambda _: _list)
    moto_support.patch_once(SageMakerResponse, "stop_training_job", lambda _: _stop)
    for name in ("get_log_events", "filter_log_events", "describe_log_streams"):
        moto_support.patch_once(LogsResponse, name, _touching_log_readers)


def _job_init(original: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(original)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        spec = kwargs.get("algorithm_specification")
        without_spec = spec is None and training().pending_serverless is not None
        if spec is None:
            spec = kwargs["algorithm_specification"] = {}
        if not kwargs.get("output_data_config"):
            kwargs["output_data_config"] = {"S3OutputPath": ""}
        if not kwargs.get("stopping_condition"):
            kwargs["stopping_condition"] = {"MaxRuntimeInSeconds": DEFAULT_MAX_RUNTIME}
        metric_definitions = spec.get("MetricDefinitions")
        original(self, *args, **kwargs)
        self.algorithm_specification.setdefault("TrainingInputMode", "File")  # the API's default; required
        if metric_definitions is None:
            self.algorithm_specification.pop("MetricDefinitions", None)
        else:
            self.algorithm_specification["MetricDefinitions"] = metric_definitions
        if without_spec:  # a serverless job: SageMaker picks the algorithm, the describe has none
            self.algorithm_specification = None
        training().on_created(self, kwargs["account_id"], kwargs["region_name"])

    return __init__


def _create_request(original: Callable[[SageMakerResponse], Any]) -> Callable[[SageMakerResponse], Any]:
    @functools.wraps(original)
    def create_training_job(self: SageMakerResponse) -> Any:
        config = self._get_param("ServerlessJobConfig")
        if not config:
            return original(self)
        request = serverless.ServerlessRequest(
            serverless_job_config=config,
            mlflow_config=self._get_param("MlflowConfig") or None,
            model_package_config=self._get_param("ModelPackageConfig") or None,
        )
        problem = serverless.check_request(self.sagemaker_backend, request)
        if problem is not None:
            raise AWSValidationException(problem)
        service = training()
        service.pending_serverless = request
        try:
            return original(self)
        finally:
            service.pending_serverless = None

    return create_training_job


def _create(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def create_training_job(self: Any, training_job_name: str, *args: Any, **kwargs: Any) -> Any:
        violation = TRAINING_JOB_NAME.violation(training_job_name)
        if violation is not None:
            raise AWSValidationException(violation)
        if training_job_name in self.training_jobs:
            arn = sm_models.FakeTrainingJob.arn_formatter(
                training_job_name, self.account_id, self.region_name
            )
            raise ResourceInUseException(
                message="Training job names must be unique within an AWS account and region, "
                f"and a training job with this name already exists ({arn})"
            )
        return original(self, training_job_name, *args, **kwargs)

    return create_training_job


def _describe(original: Callable[[SageMakerResponse], Any]) -> Callable[[SageMakerResponse], Any]:
    @functools.wraps(original)
    def describe_training_job(self: SageMakerResponse) -> Any:
        backend = self.sagemaker_backend
        training().touch((backend.account_id, backend.region_name, self._get_param("TrainingJobName")))
        return original(self)

    return describe_training_job


def _list(self: SageMakerResponse) -> ActionResult:
    backend = self.sagemaker_backend
    service = training()
    tuning = cast(TuningService, service.simulator.service("tuning"))
    try:
        params = {name: self._get_param(name) for name in LIST_PARAMS}
        result = list_training_jobs(service, tuning, backend.account_id, backend.region_name, params)
    except ValueError as err:
        raise AWSValidationException(str(err)) from None
    return ActionResult(result)


def _stop(self: SageMakerResponse) -> EmptyResult:
    backend = self.sagemaker_backend
    try:
        training().stop((backend.account_id, backend.region_name, self._get_param("TrainingJobName")))
    except LookupError:
        raise ResourceNotFound(message="Requested resource not found.") from None
    except ValueError as err:
        raise ValidationError(message=str(err)) from None
    return EmptyResult()


def _touching_log_readers(original: Callable[[LogsResponse], Any]) -> Callable[[LogsResponse], Any]:
    @functools.wraps(original)
    def read(self: LogsResponse) -> Any:
        if self._get_param("logGroupName") == TRAINING_LOG_GROUP:
            streams = list(self._get_param("logStreamNames") or [])
            streams += [
                self._get_param(p) for p in ("logStreamName", "logStreamNamePrefix") if self._get_param(p)
            ]
            service = training()
            names = {stream.split("/", 1)[0] for stream in streams}
            if not names:  # the whole group: every job of this account and region
                names = {key[2] for key in service.jobs if key[:2] == (self.current_account, self.region)}
            for name in names:
                service.touch((self.current_account, self.region, name))
        return original(self)

    return read

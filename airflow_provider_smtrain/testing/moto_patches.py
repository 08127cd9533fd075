"""
Every monkeypatch applied to moto 5.2.x inside the LocalSageMaker server process, in one place.

Call :func:`apply_patches` once, before the server handles requests. Patches (all idempotent):

``moto.sagemaker.models.FakeTrainingJob.__init__``
    Wrapped: tolerate a missing ``AlgorithmSpecification`` / ``OutputDataConfig`` (serverless jobs crash
    moto otherwise), keep the caller's ``MetricDefinitions`` (moto overwrites them with ``test:dcg``), then
    hand the job to :meth:`Simulator.on_training_created`, which makes it ``InProgress`` and plans its
    lifecycle.
``moto.sagemaker.models.SageMakerModelBackend.create_training_job``
    Wrapped: duplicate names raise ``ResourceInUse`` like AWS (moto silently overwrote the job).
``moto.sagemaker.models.HyperParameterTuningJob.__init__``
    Wrapped: hand the job to :meth:`Simulator.on_tuning_created` (InProgress, children spawned over time).
``moto.sagemaker.responses.SageMakerResponse``
    New operations: ``StopTrainingJob``, ``StopHyperParameterTuningJob``,
    ``ListTrainingJobsForHyperParameterTuningJob``.
``moto.iam.responses.IamResponse``
    New operations: ``SimulatePrincipalPolicy`` and ``SimulateCustomPolicy`` (every action ``allowed``).

State changes over time are applied by :meth:`Simulator.tick`, which the WSGI middleware runs before
forwarding each request to moto.
"""

from __future__ import annotations

import functools
from typing import Any

from moto.core.responses import ActionResult, EmptyResult
from moto.iam.responses import IamResponse
from moto.sagemaker import models as sm_models
from moto.sagemaker.exceptions import ResourceInUseException, ResourceNotFound, ValidationError
from moto.sagemaker.responses import SageMakerResponse

from airflow_provider_smtrain.testing.simulation import Simulator

_PATCH_MARK = "__local_sagemaker_patched__"
_simulator: Simulator | None = None


def _sim() -> Simulator:
    if _simulator is None:
        raise RuntimeError("moto_patches.apply_patches() was not called")
    return _simulator


def apply_patches(simulator: Simulator) -> None:
    """
    Install the patches (once per process) and route them to ``simulator``.

    :param simulator: The simulator that owns job lifecycles.
    """
    global _simulator
    _simulator = simulator
    if getattr(sm_models.FakeTrainingJob, _PATCH_MARK, False):
        return
    _patch_training_job()
    _patch_tuning_job()
    _patch_create_training_job()
    _add_sagemaker_operations()
    _add_iam_operations()
    setattr(sm_models.FakeTrainingJob, _PATCH_MARK, True)


def _patch_training_job() -> None:
    original = sm_models.FakeTrainingJob.__init__

    @functools.wraps(original)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        spec = kwargs.get("algorithm_specification")
        if spec is None:
            spec = kwargs["algorithm_specification"] = {}
        if not kwargs.get("output_data_config"):
            kwargs["output_data_config"] = {"S3OutputPath": ""}
        metric_definitions = spec.get("MetricDefinitions")
        original(self, *args, **kwargs)
        if metric_definitions is None:
            self.algorithm_specification.pop("MetricDefinitions", None)
        else:
            self.algorithm_specification["MetricDefinitions"] = metric_definitions
        _sim().on_training_created(self, kwargs["account_id"], kwargs["region_name"])

    sm_models.FakeTrainingJob.__init__ = __init__  # type: ignore[method-assign]


def _patch_tuning_job() -> None:
    original = sm_models.HyperParameterTuningJob.__init__

    @functools.wraps(original)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        _sim().on_tuning_created(self, kwargs["account_id"], kwargs["region_name"])

    sm_models.HyperParameterTuningJob.__init__ = __init__  # type: ignore[method-assign]


def _patch_create_training_job() -> None:
    original = sm_models.SageMakerModelBackend.create_training_job

    @functools.wraps(original)
    def create_training_job(self: Any, training_job_name: str, *args: Any, **kwargs: Any) -> Any:
        if training_job_name in self.training_jobs:
            arn = sm_models.FakeTrainingJob.arn_formatter(training_job_name, self.account_id, self.region_name)
            raise ResourceInUseException(
                message="Training job names must be unique within an AWS account and region, "
                f"and a training job with this name already exists ({arn})"
            )
        return original(self, training_job_name, *args, **kwargs)

    sm_models.SageMakerModelBackend.create_training_job = create_training_job  # type: ignore[method-assign]


def _add_sagemaker_operations() -> None:
    def stop_training_job(self: SageMakerResponse) -> EmptyResult:
        name = self._get_param("TrainingJobName")
        backend = self.sagemaker_backend
        try:
            _sim().stop_training(backend.account_id, backend.region_name, name)
        except LookupError:
            raise ResourceNotFound(message="Requested resource not found.") from None
        except ValueError as err:
            raise ValidationError(message=str(err)) from None
        return EmptyResult()

    def stop_hyper_parameter_tuning_job(self: SageMakerResponse) -> EmptyResult:
        name = self._get_param("HyperParameterTuningJobName")
        backend = self.sagemaker_backend
        try:
            _sim().stop_tuning(backend.account_id, backend.region_name, name)
        except LookupError:
            raise ResourceNotFound(message=f"Could not find hyper parameter tuning job '{name}'.") from None
        except ValueError as err:
            raise ValidationError(message=str(err)) from None
        return EmptyResult()

    def list_training_jobs_for_hyper_parameter_tuning_job(self: SageMakerResponse) -> ActionResult:
        name = self._get_param("HyperParameterTuningJobName")
        backend = self.sagemaker_backend
        sim = _sim().tuning.get((backend.account_id, backend.region_name, name))
        if sim is None:
            raise ResourceNotFound(message=f"Could not find hyper parameter tuning job '{name}'.")
        max_results = int(self._get_param("MaxResults") or 10)
        if not 1 <= max_results <= 100:
            raise ValidationError(message="MaxResults must be between 1 and 100.")
        token = self._get_param("NextToken")
        try:
            start = int(token) if token else 0
        except ValueError:
            raise ValidationError(message="Invalid pagination token.") from None
        summaries = _sim().list_children(
            sim,
            status_equals=self._get_param("StatusEquals"),
            sort_by=self._get_param("SortBy"),
            sort_order=self._get_param("SortOrder"),
        )
        page = summaries[start : start + max_results]
        result: dict[str, Any] = {"TrainingJobSummaries": page}
        if start + max_results < len(summaries):
            result["NextToken"] = str(start + max_results)
        return ActionResult(result)

    SageMakerResponse.stop_training_job = stop_training_job  # type: ignore[attr-defined]
    SageMakerResponse.stop_hyper_parameter_tuning_job = stop_hyper_parameter_tuning_job  # type: ignore[attr-defined]
    SageMakerResponse.list_training_jobs_for_hyper_parameter_tuning_job = (  # type: ignore[attr-defined]
        list_training_jobs_for_hyper_parameter_tuning_job
    )


def _add_iam_operations() -> None:
    def simulate_principal_policy(self: IamResponse) -> ActionResult:
        actions = self._get_param("ActionNames", []) or []
        resources = self._get_param("ResourceArns", []) or ["*"]
        results = [
            {
                "EvalActionName": action,
                "EvalResourceName": resource,
                "EvalDecision": "allowed",
                "MatchedStatements": [],
                "MissingContextValues": [],
            }
            for action in actions
            for resource in resources
        ]
        return ActionResult({"EvaluationResults": results, "IsTruncated": False})

    IamResponse.simulate_principal_policy = simulate_principal_policy  # type: ignore[attr-defined]
    IamResponse.simulate_custom_policy = simulate_principal_policy  # type: ignore[attr-defined]

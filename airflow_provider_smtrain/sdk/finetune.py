"""Build and start the SDK's fine-tuning trainers (``SFTTrainer``, ``DPOTrainer``, ``RLAIFTrainer``,
``RLVRTrainer``) from a validated spec, with the SDK's hazards neutralised.

Everything runs inside :meth:`SageMakerTrainHook.sdk_scope`, so every client the SDK creates (including
its direct ``boto3.client("lambda")`` / ``boto3.client("sagemaker")`` calls) is signed by the task's
connection. On top of that:

* **No MLflow app unless asked.** Without ``mlflow_resource_arn`` the SDK would list the account's MLflow
  apps and, finding none, create one and poll it for up to 10 minutes. The resolver is replaced for the
  call, so no MLflow request is made at all; ``mlflow_resource_arn="default"`` keeps the SDK's behaviour.
* **RLVR's Lambda reward function.** Given a Lambda ARN, the SDK registers it as an evaluator with a
  fresh name on every run, without the task's role, blocking until it is available. Here it is
  registered once under a name derived from the Lambda ARN, with the task's role, and reused by later
  runs; the SDK then receives the evaluator ARN.
* **The job name** is the one the operator chose (persisted before submission), so a retry finds it.
* **Recipe checks** (:mod:`~airflow_provider_smtrain.sdk.finetune_checks`) run after the SDK loaded the
  recipe and before it submits anything.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from airflow_provider_smtrain.exceptions import SageMakerSubmitError
from airflow_provider_smtrain.jobs.clock import clock
from airflow_provider_smtrain.sdk.finetune_checks import (
    check_dpo_records,
    check_region,
    check_reward_model,
    construction_error,
    recipe_override_errors,
    submission_error,
)
from airflow_provider_smtrain.sdk.interrupts import sdk_call
from airflow_provider_smtrain.sdk.naming import fixed_unique_name
from airflow_provider_smtrain.specs.errors import SpecValidationError
from airflow_provider_smtrain.specs.finetune import MLFLOW_DEFAULT

if TYPE_CHECKING:
    from airflow_provider_smtrain.specs.finetune import _FineTuneSpec

log = logging.getLogger(__name__)

#: technique -> (SDK module, trainer class).
TRAINERS: dict[str, tuple[str, str]] = {
    "SFT": ("sagemaker.train.sft_trainer", "SFTTrainer"),
    "DPO": ("sagemaker.train.dpo_trainer", "DPOTrainer"),
    "RLAIF": ("sagemaker.train.rlaif_trainer", "RLAIFTrainer"),
    "RLVR": ("sagemaker.train.rlvr_trainer", "RLVRTrainer"),
}
#: How long a reward function evaluator may take to become available, and how often it is read.
EVALUATOR_TIMEOUT = 900.0
EVALUATOR_POLL = 5.0


@contextlib.contextmanager
def mlflow_only_if_asked(spec: _FineTuneSpec) -> Iterator[None]:
    """
    Without ``mlflow_resource_arn``, make the SDK's MLflow resolver answer "no MLflow" without a request.

    :param spec: the validated spec.
    """
    if spec.mlflow_resource_arn is not None:
        yield
        return
    from sagemaker.train.common_utils import finetune_utils

    original = finetune_utils._resolve_mlflow_resource_arn

    def _no_mlflow(*args: Any, **kwargs: Any) -> None:
        return None

    finetune_utils._resolve_mlflow_resource_arn = _no_mlflow
    try:
        yield
    finally:
        finetune_utils._resolve_mlflow_resource_arn = original


@contextlib.contextmanager
def telemetry_reuses(session: Any) -> Iterator[None]:
    """
    Make the SDK's telemetry decorator read its opt-out from ``session`` instead of a fresh ``Session()``.

    Every AI Registry call without a session argument otherwise builds a new SDK session (about a second
    of botocore model loading, no AWS call) only to find telemetry switched off.

    :param session: the SDK session of the scope.
    """
    import sagemaker.core.telemetry.telemetry_logging as telemetry

    original = telemetry._get_default_sagemaker_session
    telemetry._get_default_sagemaker_session = lambda: session
    try:
        yield
    finally:
        telemetry._get_default_sagemaker_session = original


def _registry_arn(kind: str, name: str, session: Any) -> str:
    """The ARN of the latest version of an AI Registry dataset or evaluator called ``name``."""
    if kind == "DataSet":
        from sagemaker.ai_registry.dataset import DataSet

        return str(DataSet.get(name, sagemaker_session=session).arn)
    from sagemaker.ai_registry.evaluator import Evaluator

    return str(Evaluator.get(name, sagemaker_session=session).arn)


def resolve_registry_name(owner: str, field: str, kind: str, value: str | None, session: Any) -> str | None:
    """
    An S3 URI or ARN as given; a registry name resolved to its ARN (an unknown name is bad input).

    :param owner: the operator class name.
    :param field: the argument, for the error.
    :param kind: ``DataSet`` or ``JsonDoc`` (evaluators).
    :param value: the argument's value.
    :param session: the SDK session of the scope.
    """
    if value is None or value.startswith(("s3://", "arn:")):
        return value
    try:
        return _registry_arn(kind, value, session)
    except Exception as err:
        if "ResourceNotFound" in type(err).__name__ or "not found" in str(err).lower() or "ResourceNotFound" in str(err):
            label = "dataset" if kind == "DataSet" else "evaluator"
            raise SpecValidationError(
                owner, [{"field": field, "message": f"no AI Registry {label} called {value!r}"}]
            ) from None
        raise


def evaluator_name_for(lambda_arn: str) -> str:
    """
    The registry name under which a Lambda reward function is registered (stable per Lambda ARN).

    :param lambda_arn: the Lambda function ARN.
    """
    function = lambda_arn.split(":function:", 1)[-1]
    readable = re.sub(r"[^A-Za-z0-9]+", "-", function).strip("-")[:40] or "fn"
    digest = hashlib.sha256(lambda_arn.encode()).hexdigest()[:8]
    return f"reward-{readable}-{digest}"


def _wait_available(evaluator: Any, name: str) -> None:
    deadline = clock().now() + EVALUATOR_TIMEOUT
    while True:
        evaluator.refresh()
        status = str(getattr(evaluator, "status", ""))
        if status.endswith("Available"):
            return
        if status.endswith("ImportFailed") or clock().now() >= deadline:
            raise SageMakerSubmitError(f"reward function evaluator {name} is {status}, not Available")
        clock().sleep(EVALUATOR_POLL)


def register_reward_lambda(session: Any, lambda_arn: str, role: str) -> str:
    """
    The ARN of an evaluator for ``lambda_arn``: the registered one if it exists, else a new one.

    :param session: the SDK session of the scope.
    :param lambda_arn: the reward function's Lambda ARN.
    :param role: the task's role (the SDK would re-derive one from the caller identity).
    """
    from sagemaker.ai_registry.evaluator import Evaluator

    name = evaluator_name_for(lambda_arn)
    try:
        existing = Evaluator.get(name, sagemaker_session=session)
    except Exception as err:
        if "ResourceNotFound" not in f"{type(err).__name__} {err}" and "not found" not in str(err).lower():
            raise
        existing = None
    if existing is not None and existing.reference == lambda_arn and not str(existing.status).endswith("Failed"):
        log.info("Reusing reward function evaluator %s (%s) for %s", name, existing.arn, lambda_arn)
        evaluator = existing
    else:
        log.info("Registering reward function %s as evaluator %s", lambda_arn, name)
        evaluator = Evaluator.create(
            name=name,
            type="RewardFunction",
            source=lambda_arn,
            wait=False,
            role=role,
            sagemaker_session=session,
        )
    evaluator.sagemaker_session = session
    _wait_available(evaluator, name)
    return str(evaluator.arn)


def _vpc(spec: _FineTuneSpec) -> Any:
    from sagemaker.core.shapes import VpcConfig

    assert spec.networking is not None
    return VpcConfig(subnets=list(spec.networking.subnets), security_group_ids=list(spec.networking.security_group_ids))


def trainer_arguments(spec: _FineTuneSpec, session: Any, job_name: str, datasets: dict[str, str | None]) -> dict[str, Any]:
    """
    The SDK trainer's constructor arguments (without hyperparameters: they are checked, then set).

    :param spec: the validated spec.
    :param session: the SDK session of the scope.
    :param job_name: the job name (also the SDK's base job name).
    :param datasets: ``training_dataset`` / ``validation_dataset`` with registry names resolved.
    """
    from sagemaker.core.shapes import StoppingCondition
    from sagemaker.core.training.configs import Compute
    from sagemaker.train.common import TrainingType

    kwargs: dict[str, Any] = {
        "model": spec.model,
        "training_type": TrainingType[spec.training_type],
        "model_package_group": spec.model_package_group,
        "training_dataset": datasets["training_dataset"],
        "validation_dataset": datasets["validation_dataset"],
        "s3_output_path": spec.s3_output_path,
        "kms_key_id": spec.kms_key_id,
        "accept_eula": spec.accept_eula,
        "sequence_length": spec.sequence_length,
        "sagemaker_session": session,
        "role": spec.role,
        "base_job_name": job_name,
        "tags": [{"key": key, "value": value} for key, value in spec.tags.items()] or None,
    }
    if spec.mlflow_resource_arn not in (None, MLFLOW_DEFAULT):
        kwargs["mlflow_resource_arn"] = spec.mlflow_resource_arn
    kwargs["mlflow_experiment_name"] = spec.mlflow_experiment_name
    kwargs["mlflow_run_name"] = spec.mlflow_run_name
    if spec.networking is not None:
        kwargs["networking"] = _vpc(spec)
    if spec.stopping_condition is not None:
        kwargs["stopping_condition"] = StoppingCondition(
            max_runtime_in_seconds=spec.stopping_condition.max_runtime_in_seconds
        )
    compute = getattr(spec, "compute", None)
    if compute is not None:
        kwargs["compute"] = Compute(**compute.model_dump(exclude_none=True))
    return kwargs


def build_trainer(owner: str, spec: _FineTuneSpec, session: Any, job_name: str, region: str) -> Any:
    """
    The SDK trainer for ``spec``, its recipe checks passed (raises :class:`SpecValidationError` otherwise).

    :param owner: the operator class name (named in errors).
    :param spec: the validated spec.
    :param session: the SDK session of the scope.
    :param job_name: the job name the operator chose.
    :param region: the task's region.
    """
    import importlib

    module_name, class_name = TRAINERS[spec.technique]
    trainer_class = getattr(importlib.import_module(module_name), class_name)
    datasets = {
        field: resolve_registry_name(owner, field, "DataSet", getattr(spec, field), session)
        for field in ("training_dataset", "validation_dataset")
    }
    kwargs = trainer_arguments(spec, session, job_name, datasets)
    kwargs.update(_technique_arguments(owner, spec, session, region))
    if spec.technique == "DPO" and str(datasets["training_dataset"]).startswith("s3://"):
        check_dpo_records(owner, session.boto_session.client("s3"), str(datasets["training_dataset"]))
    try:
        trainer = trainer_class(**kwargs)
    except (ValueError, AttributeError) as err:
        translated = construction_error(owner, err)
        if translated is None:
            raise
        raise translated from None
    apply_overrides(owner, spec, trainer)
    return trainer


def preflight(owner: str, spec: _FineTuneSpec, region: str) -> None:
    """
    The checks that need the region but no AWS call: the model's regions, RLAIF's reward model.

    :param owner: the operator class name.
    :param spec: the validated spec.
    :param region: the task's region.
    """
    check_region(owner, spec.model, region)
    if spec.technique == "RLAIF":
        check_reward_model(owner, spec.reward_model_id, region)  # type: ignore[attr-defined]


def _technique_arguments(owner: str, spec: Any, session: Any, region: str) -> dict[str, Any]:
    if spec.technique == "RLAIF":
        return {"reward_model_id": spec.reward_model_id, "reward_prompt": spec.reward_prompt}
    if spec.technique != "RLVR":
        return {}
    reward = spec.custom_reward_function
    if reward is not None and spec.reward_is_lambda:
        if spec.serverless:
            reward = register_reward_lambda(session, reward, spec.role)
    else:
        reward = resolve_registry_name(owner, "custom_reward_function", "JsonDoc", reward, session)
    skip = spec.skip_reward_validation
    if not skip and not str(spec.training_dataset).startswith("s3://"):
        log.warning("Reward function check skipped: it reads samples from an S3 training_dataset only")
        skip = True
    return {"custom_reward_function": reward, "skip_reward_validation": skip}


def apply_overrides(owner: str, spec: _FineTuneSpec, trainer: Any) -> None:
    """
    Check the hyperparameter overrides against the recipe the SDK loaded, then set them on the trainer.

    :param owner: the operator class name.
    :param spec: the validated spec.
    :param trainer: the SDK trainer (its ``hyperparameters`` hold the recipe's override spec).
    """
    options = trainer.hyperparameters
    specs = getattr(options, "_specs", None)
    if not spec.hyperparameters:
        return
    if not isinstance(specs, dict):
        raise SageMakerSubmitError("the SDK trainer exposes no recipe override spec to check hyperparameters against")
    converted, errors = recipe_override_errors(spec.hyperparameters, specs, spec.model)
    if errors:
        raise SpecValidationError(owner, errors)
    for name, value in converted.items():
        try:
            setattr(options, name, value)
        except (ValueError, AttributeError) as err:
            raise SpecValidationError(owner, [{"field": f"hyperparameters.{name}", "message": str(err)}]) from None


def start_finetune_job(owner: str, session: Any, spec: _FineTuneSpec, job_name: str, region: str) -> dict[str, str]:
    """
    Start the fine-tuning job called ``job_name``; do not wait. Call inside ``hook.sdk_scope()``.

    :param owner: the operator class name (named in errors).
    :param session: the SDK session from :meth:`SageMakerTrainHook.sdk_scope`.
    :param spec: the validated spec.
    :param job_name: the deterministic job name the operator chose.
    :param region: the task's region.
    :return: ``{"job_name", "job_arn"}``.
    """
    import importlib

    import sagemaker.train.model_trainer as model_trainer_module

    trainer_module = importlib.import_module(TRAINERS[spec.technique][0])
    with sdk_call(), mlflow_only_if_asked(spec), telemetry_reuses(session):
        trainer = build_trainer(owner, spec, session, job_name, region)
        with fixed_unique_name(trainer_module, job_name), fixed_unique_name(model_trainer_module, job_name):
            try:
                job = trainer.train(wait=False)
            except Exception as err:
                translated = submission_error(owner, err)
                if translated is None:
                    raise
                raise translated from None
    job = getattr(trainer, "_latest_training_job", None) or job
    found = getattr(job, "training_job_name", None)
    if found != job_name:
        raise SageMakerSubmitError(
            f"{type(trainer).__name__}.train() did not start training job {job_name!r} (SDK reported "
            f"{found!r}); the installed sagemaker-train may be outside the supported range"
        )
    return {"job_name": job_name, "job_arn": str(job.training_job_arn)}

"""Build and start the SDK's ``MultiTurnRLTrainer`` (an Agent RFT ``CreateJob``) from a validated spec.

What the SDK would do on its own, and what happens here instead (``SDK_MAP`` §1.3, §2.2, §3):

* Its constructor calls AWS (hub lookups, S3 prefix creation, model package group get-or-create, a
  ``GetAgentRuntime`` with a fresh ``boto3.Session()``). It is only built here, inside the hook's
  credentials scope, when the operator submits a new job: never at parse time, never on re-attach.
* A bare agent runtime id is resolved to its ARN with ``GetAgentRuntime`` on the connection's own
  session before the trainer sees it.
* Without an MLflow app ARN the SDK lists the account's MLflow apps and **creates one** (then polls it
  for up to 10 minutes). That resolver is switched off unless the task sets ``mlflow_app_arn="default"``.
* Model package groups: named groups are only described (they must exist). Only a group the task does
  not name is get-or-created by the SDK under its deterministic name (``<model>-mtrl-mpg``,
  ``<model>-mtrl-checkpoint-mpg``), so repeated submissions reuse it.
* Recipe templates the SDK downloads to temporary files (``delete=False``) land in a private temporary
  directory removed afterwards; nothing is written to the worker's working directory.
* The job name is the operator's, not the SDK's timestamped one, so a retry finds the job.
"""

from __future__ import annotations

import contextlib
import re
import tempfile
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from airflow_provider_smtrain.exceptions import SageMakerSubmitError
from airflow_provider_smtrain.sdk.finetune import resolve_registry_name
from airflow_provider_smtrain.sdk.finetune_checks import construction_error, recipe_override_errors
from airflow_provider_smtrain.sdk.interrupts import sdk_call
from airflow_provider_smtrain.sdk.naming import fixed_unique_name
from airflow_provider_smtrain.specs.errors import SpecValidationError
from airflow_provider_smtrain.specs.multi_turn_rl import AGENT_RUNTIME_ID, MLFLOW_DEFAULT, group_name

if TYPE_CHECKING:
    from airflow_provider_smtrain.specs.multi_turn_rl import MultiTurnRLTrainerSpec

OWNER = "MultiTurnRLTrainerOperator"


@contextlib.contextmanager
def patched(module: Any, name: str, value: Any) -> Iterator[None]:
    """
    Replace ``module.name`` with ``value`` for the duration of the block.

    :param module: the module (or class) to patch.
    :param name: the attribute name.
    :param value: the temporary value.
    """
    original = getattr(module, name)
    setattr(module, name, value)
    try:
        yield
    finally:
        setattr(module, name, original)


@contextlib.contextmanager
def private_tempdir() -> Iterator[str]:
    """Send the SDK's temporary files (recipe templates it never deletes) to a directory removed afterwards."""
    previous = tempfile.tempdir
    with tempfile.TemporaryDirectory(prefix="smtrain-mtrl-") as path:
        tempfile.tempdir = path
        try:
            yield path
        finally:
            tempfile.tempdir = previous


def _no_default_mlflow_app(*args: Any, **kwargs: Any) -> None:
    """Stand-in for the SDK's MLflow resolver: no MLflow (and no MLflow call) unless the task asks."""
    return None


def resolve_agent_env(boto_session: Any, agent_env: str) -> str:
    """
    The agent environment as the SDK puts it in the job: a bare runtime id becomes its runtime ARN.

    ``GetAgentRuntime`` is called on the connection's session (the SDK would use a fresh
    ``boto3.Session()``).

    :param boto_session: the hook's boto3 session.
    :param agent_env: the validated ``agent_env``.
    """
    if agent_env.startswith("arn:") or not re.fullmatch(AGENT_RUNTIME_ID, agent_env):
        return agent_env
    from sagemaker.train.multi_turn_rl_trainer import _resolve_agent_runtime_arn

    return str(_resolve_agent_runtime_arn(agent_env, session=boto_session))


def apply_hyperparameters(trainer: Any, overrides: dict[str, Any], model: str) -> None:
    """
    Check the recipe overrides against the override spec the SDK loaded, then set them on the trainer.

    Every bad override is reported by name (``hyperparameters.<name>``), and the sequence-length sum is
    checked once all are set, before anything is submitted.

    :param trainer: the ``MultiTurnRLTrainer`` (its ``hyperparameters`` hold the MTRL recipe's spec).
    :param overrides: the validated ``hyperparameters``.
    :param model: the model, for the messages.
    """
    if not overrides:
        return
    options = trainer.hyperparameters
    specs = getattr(options, "_specs", None)
    if not isinstance(specs, dict):
        raise SageMakerSubmitError(
            "the SDK trainer exposes no recipe override spec to check hyperparameters against"
        )
    converted, errors = recipe_override_errors(overrides, specs, model)
    for name, value in converted.items():
        try:
            setattr(options, name, value)
        except (AttributeError, TypeError, ValueError) as err:
            errors.append({"field": f"hyperparameters.{name}", "message": str(err)})
    if not errors and hasattr(options, "validate_length_constraints"):
        try:
            options.validate_length_constraints()
        except ValueError as err:
            errors.append({"field": "hyperparameters", "message": str(err)})
    if errors:
        raise SpecValidationError(OWNER, errors)


_MISSING_GROUP = re.compile(r"ModelPackageGroup (?:arn:\S+:model-package-group/)?(?P<name>[^\s/]+) does not exist")


def missing_group_error(spec: MultiTurnRLTrainerSpec, err: Exception) -> SpecValidationError | None:
    """
    The SDK's "group does not exist" (a named group is only described, never created) naming the argument.

    :param spec: the validated spec.
    :param err: what building the SDK trainer raised.
    """
    match = _MISSING_GROUP.search(str(err))
    if match is None:
        return None
    fields = {
        "output_model_package_group": spec.output_group,
        "intermediate_checkpoint_model_package_group": spec.intermediate_checkpoint_model_package_group,
    }
    for field, given in fields.items():
        if given is not None and group_name(given) == match["name"]:
            message = (
                f"no model package group called {match['name']!r} in this account and region: create it "
                "first, or leave the argument unset to let the SDK get-or-create its default group"
            )
            return SpecValidationError(OWNER, [{"field": field, "message": message}])
    return None


def build_trainer(session: Any, spec: MultiTurnRLTrainerSpec) -> Any:
    """
    A ``MultiTurnRLTrainer`` configured from ``spec`` (makes the SDK's construction-time AWS calls).

    Call inside :meth:`SageMakerTrainHook.sdk_scope` and :func:`private_tempdir`.

    :param session: the SDK ``Session`` from :meth:`SageMakerTrainHook.sdk_scope`.
    :param spec: the validated spec.
    """
    from sagemaker.core.shapes import VpcConfig
    from sagemaker.train.multi_turn_rl_trainer import MultiTurnRLTrainer

    kwargs: dict[str, Any] = {
        "model": spec.model,
        "agent_env": resolve_agent_env(session.boto_session, spec.agent_env),
        "training_dataset": resolve_registry_name(
            OWNER, "training_dataset", "DataSet", spec.training_dataset, session
        ),
        "validation_dataset": resolve_registry_name(
            OWNER, "validation_dataset", "DataSet", spec.validation_dataset, session
        ),
        "mlflow_app_arn": None if spec.mlflow_app_arn == MLFLOW_DEFAULT else spec.mlflow_app_arn,
        "s3_output_path": spec.s3_output_path,
        "output_model_package_group": spec.output_group,
        "intermediate_checkpoint_model_package_group": spec.intermediate_checkpoint_model_package_group,
        "bedrock_agentcore_qualifier": spec.bedrock_agentcore_qualifier,
        "mlflow_experiment_name": spec.mlflow_experiment_name,
        "mlflow_run_name": spec.mlflow_run_name,
        "kms_key_arn": spec.kms_key_arn,
        "accept_eula": spec.accept_eula,
        "sagemaker_session": session,
        "role": spec.role,
        "base_job_name": spec.base_job_name,
        "tags": [{"key": key, "value": value} for key, value in spec.tags.items()],
    }
    if spec.networking is not None:
        kwargs["networking"] = VpcConfig(
            security_group_ids=list(spec.networking.security_group_ids), subnets=list(spec.networking.subnets)
        )
    try:
        trainer = MultiTurnRLTrainer(**kwargs)
    except Exception as err:
        translated = missing_group_error(spec, err)
        if translated is None and isinstance(err, ValueError | AttributeError):
            translated = construction_error(OWNER, err)
        if translated is None:
            raise
        raise translated from None
    apply_hyperparameters(trainer, dict(spec.hyperparameters), spec.model)
    return trainer


def start_agent_rft_job(session: Any, spec: MultiTurnRLTrainerSpec, job_name: str) -> dict[str, str]:
    """
    Start the Agent RFT job called ``job_name`` and return its name and ARN; do not wait.

    :param session: the SDK ``Session`` from :meth:`SageMakerTrainHook.sdk_scope`.
    :param spec: the validated spec.
    :param job_name: the deterministic job name chosen by the operator.
    """
    import sagemaker.train.multi_turn_rl_trainer as mtrl_module

    with sdk_call(), contextlib.ExitStack() as stack:
        stack.enter_context(private_tempdir())
        if spec.mlflow_app_arn is None:
            stack.enter_context(patched(mtrl_module, "_resolve_mlflow_resource_arn", _no_default_mlflow_app))
        trainer = build_trainer(session, spec)
        with fixed_unique_name(mtrl_module, job_name):
            job = trainer.train(wait=False)
    found = getattr(job, "job_name", None)
    if job is not None and found != job_name:
        with contextlib.suppress(Exception):  # a job nobody would come back for: do not leave it running
            job.stop()
    if job is None or found != job_name:
        raise SageMakerSubmitError(
            f"MultiTurnRLTrainer.train() did not start Agent RFT job {job_name!r} (SDK reported {found!r}); "
            "the installed sagemaker-train may be outside the supported range"
        )
    return {"job_name": job_name, "job_arn": str(job.job_arn)}

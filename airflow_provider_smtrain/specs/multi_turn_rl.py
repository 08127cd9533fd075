"""``MultiTurnRLTrainerSpec``: validated arguments for the SDK's ``MultiTurnRLTrainer`` (Agent RFT jobs).

Field names mirror ``sagemaker.train.multi_turn_rl_trainer.MultiTurnRLTrainer``. Everything the SDK
would only reject after AWS calls (an agent environment, a dataset or an MLflow app ARN of the wrong
shape, a VPC config missing its subnets, the same group for checkpoints and output) is rejected here,
before anything is created. The checks that need a lookup (the model's region list and its recipe's
hyperparameter specs) run in ``execute()`` before the job is submitted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar

from pydantic import BeforeValidator, Field, JsonValue, model_validator

from airflow_provider_smtrain.specs.base import Loose, Problems, SpecModel, check, loosen, matches
from airflow_provider_smtrain.specs.common import HyperparameterName, IamRoleArn, JobName, S3Uri, Tags
from airflow_provider_smtrain.specs.finetune import (
    MLFLOW_DEFAULT,
    DatasetSource,
    MlflowName,
    ModelPackageGroup,
    ModelReference,
    VpcConfigSpec,
)

__all__ = ["MultiTurnRLTrainerSpec"]

#: Patterns of the SDK (``multi_turn_rl_trainer.py``), kept identical so that what passes here passes there.
AGENT_RUNTIME_ARN = r"arn:aws[a-z-]*:bedrock-agentcore:[a-z0-9-]+:[0-9]{12}:runtime/[a-zA-Z0-9_-]+"
AGENT_RUNTIME_ID = r"[a-zA-Z][a-zA-Z0-9_]{0,99}-[a-zA-Z0-9]{10}"
LAMBDA_ARN = (
    r"arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[a-zA-Z0-9-_.]+(:\$LATEST|:[a-zA-Z0-9-_]+)?"
)
#: The SDK accepts MLflow *apps* only here (not tracking servers, unlike the other trainers).
MLFLOW_APP_ARN = r"arn:[a-z0-9-.]+:sagemaker:[^:]+:[^:]+:mlflow-app/.+"
KMS_KEY = r"[a-zA-Z0-9:/_+=,.@-]{1,2048}"
#: The SDK's limit on hyperparameter overrides of an Agent RFT job.
MAX_HYPERPARAMETERS = 50

AGENT_ACCEPTED = (
    "a Bedrock AgentCore runtime ARN (arn:aws:bedrock-agentcore:<region>:<account>:runtime/<id>), "
    "an agent runtime id like myRuntime-aBcDeFgHiJ, a Lambda function ARN, or {'lambda_arn': ...}"
)


def _agent_reference(value: Any) -> Any:
    """An SDK ``CustomAgentLambda`` (or ``{"lambda_arn": ...}``) gives its Lambda ARN."""
    value = loosen(value)
    if isinstance(value, Mapping):
        arn = value.get("lambda_arn", value.get("LambdaArn"))
        if not isinstance(arn, str) or set(value) - {"lambda_arn", "LambdaArn"}:
            raise ValueError("must be " + AGENT_ACCEPTED)
        return arn
    return value.strip() if isinstance(value, str) else value


def _dataset_reference(value: Any) -> Any:
    """An SDK ``DataSet`` (or a registry operator's result) gives its ARN."""
    value = loosen(value)
    if isinstance(value, Mapping) and isinstance(value.get("arn"), str):
        return value["arn"]
    return value


def _is_scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool)


AgentEnvironment = Annotated[
    str,
    BeforeValidator(_agent_reference),
    matches(f"({AGENT_RUNTIME_ARN})|({LAMBDA_ARN})|({AGENT_RUNTIME_ID})", AGENT_ACCEPTED),
]
Dataset = Annotated[DatasetSource, BeforeValidator(_dataset_reference)]
MlflowApp = Annotated[
    str,
    matches(
        rf"{MLFLOW_APP_ARN}|{MLFLOW_DEFAULT}",
        "an MLflow app ARN (arn:aws:sagemaker:<region>:<account>:mlflow-app/<id>), or "
        f"{MLFLOW_DEFAULT!r} to let the SDK find or create the account's default MLflow app",
    ),
]
Scalar = Annotated[JsonValue, check(_is_scalar, "must be a string, number or boolean")]


def group_name(group: str) -> str:
    """
    The name of a model package group given by name or ARN.

    :param group: a group name or ARN.
    """
    return group.rsplit("/", 1)[-1] if group.startswith("arn:") else group


class MultiTurnRLTrainerSpec(SpecModel):
    """
    Arguments of a multi-turn RL (Agent RFT) job, as the SDK's ``MultiTurnRLTrainer`` takes them.

    :param model: the base model: a SageMaker hub model id (e.g. ``huggingface-reasoning-qwen3-32b``,
        Bedrock-style aliases accepted), a model package ARN, or an earlier trainer task's result
        (its ``model_package_arn`` is used).
    :param agent_env: the agent environment: a Bedrock AgentCore runtime ARN
        (``arn:aws:bedrock-agentcore:<region>:<account>:runtime/<id>``), a bare runtime id
        (``myRuntime-aBcDeFgHiJ``, resolved with ``GetAgentRuntime`` through the connection), a Lambda
        function ARN, or ``{"lambda_arn": ...}`` (an SDK ``CustomAgentLambda`` is accepted too).
    :param role: IAM role ARN the job runs as.
    :param training_dataset: the training prompts: an S3 URI, an AI Registry dataset ARN, or the name of
        a dataset registered in the AI Registry (resolved to its latest version).
    :param validation_dataset: the validation prompts, in the same forms as ``training_dataset``.
    :param s3_output_path: S3 URI ``s3://bucket[/prefix]`` for the job's output; default: the SDK's
        ``s3://sagemaker-<region>-<account>/output`` (the SDK creates the bucket and prefix if missing).
    :param output_model_package_group: model package group (name or ARN) that receives the fine-tuned
        model; it must exist. Default: the group of ``model`` when it is a model package, else the SDK's
        ``<model>-mtrl-mpg`` (created if missing).
    :param intermediate_checkpoint_model_package_group: model package group (name or ARN) for the
        intermediate checkpoints; it must exist and differ from ``output_model_package_group``.
        Default: the SDK's ``<model>-mtrl-checkpoint-mpg`` (created if missing).
    :param bedrock_agentcore_qualifier: AgentCore endpoint qualifier (default ``DEFAULT``).
    :param mlflow_app_arn: MLflow app ARN (``arn:aws:sagemaker:<region>:<account>:mlflow-app/<id>``)
        the job reports to, or ``"default"`` to let the SDK pick the account's default MLflow app (it
        **creates one**, and waits up to 10 minutes, when there is none). Unset: no MLflow tracking and
        no MLflow call at all.
    :param mlflow_experiment_name: MLflow experiment name, 1..256 characters; needs ``mlflow_app_arn``.
    :param mlflow_run_name: MLflow run name, 1..256 characters; needs ``mlflow_app_arn``.
    :param networking: the VPC of the job (``VpcConfigSpec``; SDK ``VpcConfig`` accepted).
    :param kms_key_arn: KMS key id or ARN that encrypts the output.
    :param accept_eula: accept the base model's EULA (required for gated models).
    :param tags: a mapping, or a list of ``{key, value}`` / ``{Key, Value}``; at most 50.
    :param hyperparameters: overrides of the model's MTRL recipe: names, types and ranges are checked
        against the recipe's override spec before the job is submitted; at most 50. Values are never
        shown in errors.
    :param base_job_name: job name prefix (default: the task id): ``^[a-zA-Z0-9](-*[a-zA-Z0-9])*$``,
        at most 63 characters.
    """

    model: ModelReference
    agent_env: AgentEnvironment
    role: IamRoleArn
    training_dataset: Dataset
    validation_dataset: Dataset | None = None
    s3_output_path: S3Uri | None = None
    output_model_package_group: ModelPackageGroup | None = None
    intermediate_checkpoint_model_package_group: ModelPackageGroup | None = None
    bedrock_agentcore_qualifier: Annotated[
        str, matches(r"[a-zA-Z0-9_]{1,100}", "letters, digits and underscores, at most 100 (e.g. DEFAULT)")
    ] = "DEFAULT"
    mlflow_app_arn: MlflowApp | None = None
    mlflow_experiment_name: MlflowName | None = None
    mlflow_run_name: MlflowName | None = None
    networking: VpcConfigSpec | None = None
    kms_key_arn: Annotated[str, matches(KMS_KEY, "a KMS key id, alias or ARN")] | None = None
    accept_eula: bool = False
    tags: Tags = {}
    hyperparameters: Annotated[dict[HyperparameterName, Scalar], Loose, Field(max_length=MAX_HYPERPARAMETERS)] = {}
    base_job_name: JobName | None = None

    #: The SDK's customization technique (the fine-tune checks read it).
    technique: ClassVar[str] = "MTRL"

    @property
    def is_model_package(self) -> bool:
        """Whether the base model is a model package (else a hub model id)."""
        return self.model.startswith("arn:")

    @property
    def output_group(self) -> str | None:
        """The output group: the one given, else a model package's own group, else None (the SDK's default)."""
        if self.output_model_package_group is not None:
            return self.output_model_package_group
        if self.is_model_package:
            return self.model.split(":model-package/", 1)[1].split("/", 1)[0]
        return None

    @model_validator(mode="after")
    def _check_combination(self) -> MultiTurnRLTrainerSpec:
        problems = Problems()
        output, checkpoints = self.output_group, self.intermediate_checkpoint_model_package_group
        if output and checkpoints and group_name(output) == group_name(checkpoints):
            problems.add(
                "intermediate_checkpoint_model_package_group",
                "must differ from the output group (output_model_package_group, or the group of a model "
                "package model): the SDK refuses one group for both",
            )
        for name in ("mlflow_experiment_name", "mlflow_run_name"):
            if getattr(self, name) is not None and self.mlflow_app_arn is None:
                problems.add(name, f"needs mlflow_app_arn (an MLflow app ARN, or {MLFLOW_DEFAULT!r})")
        problems.raise_if_any()
        return self

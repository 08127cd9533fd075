"""Validated arguments of the fine-tuning trainers: ``SFTTrainer``, ``DPOTrainer``, ``RLAIFTrainer``, ``RLVRTrainer``.

Field names mirror the SDK's constructor arguments (``sagemaker.train.{sft,dpo,rlaif,rlvr}_trainer``).
What needs a lookup (the model exists in the hub, the region serves it, the hyperparameter overrides fit
the model's recipe, the reward model is offered in the region) is checked in ``execute()`` before any job
is created (:mod:`airflow_provider_smtrain.sdk.finetune`), and reported with the same
:class:`~airflow_provider_smtrain.specs.errors.SpecValidationError`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import AfterValidator, BeforeValidator, Field, JsonValue, model_validator

from airflow_provider_smtrain.specs.base import (
    Loose,
    Problems,
    SpecModel,
    loosen,
    matches,
    one_of,
)
from airflow_provider_smtrain.specs.cluster import ComputeSpec
from airflow_provider_smtrain.specs.common import (
    S3_URI_PATTERN,
    HyperparameterName,
    IamRoleArn,
    NonEmptyStr,
    S3Uri,
    Tags,
)
from airflow_provider_smtrain.specs.training import MAX_RUNTIME

__all__ = [
    "DPOTrainerSpec",
    "FineTuneStoppingSpec",
    "RLAIFTrainerSpec",
    "RLVRTrainerSpec",
    "SFTTrainerSpec",
    "VpcConfigSpec",
    "is_model_package_arn",
]

_ARN_HEAD = r"arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}"
MODEL_PACKAGE_ARN = rf"{_ARN_HEAD}:model-package/[A-Za-z0-9-]{{1,63}}/\d+"
MODEL_PACKAGE_GROUP_ARN = rf"{_ARN_HEAD}:model-package-group/[A-Za-z0-9-]{{1,63}}"
DATASET_ARN = rf"{_ARN_HEAD}:hub-content/[^/]+/DataSet/[^/]+/[\d.]+"
EVALUATOR_ARN = rf"{_ARN_HEAD}:hub-content/[^/]+/JsonDoc/[^/]+/[\d.]+"
MLFLOW_ARN = rf"{_ARN_HEAD}:(mlflow-app|mlflow-tracking-server)/[A-Za-z0-9-]+"
LAMBDA_ARN = r"arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9$_-]+)?"
#: Hub content, model package group and registry names: ``^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$``.
RESOURCE_NAME = r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}"
#: Hub model ids (``meta-textgeneration-llama-3-2-1b-instruct``, ``amazon.nova-micro-v1:0``...).
HUB_MODEL_ID = r"[A-Za-z0-9][A-Za-z0-9._:-]{0,254}"
TRAINING_TYPES = ("LORA", "FULL")
SEQUENCE_LENGTHS = ("1K", "2K", "4K", "8K", "16K", "32K", "64K", "128K")
#: ``mlflow_resource_arn`` value that lets the SDK find (or create) the account's default MLflow app.
MLFLOW_DEFAULT = "default"

_MODEL_ACCEPTED = (
    "a hub model id (e.g. meta-textgeneration-llama-3-2-1b-instruct), a model package ARN "
    "(arn:aws:sagemaker:<region>:<account>:model-package/<group>/<version>), or the output of an "
    "earlier trainer task (a dict with model_package_arn)"
)


def is_model_package_arn(value: str) -> bool:
    """
    Whether ``value`` is a versioned model package ARN.

    :param value: a ``model`` argument.
    """
    return re.fullmatch(MODEL_PACKAGE_ARN, value) is not None


def _model_reference(value: Any) -> Any:
    """A trainer task's output dict (or its rendered repr) becomes its model package ARN."""
    value = loosen(value)
    if isinstance(value, Mapping):
        arn = value.get("model_package_arn")
        if not isinstance(arn, str) or not arn:
            raise ValueError(
                "the given output has no model_package_arn (did the earlier task run with a "
                "model_package_group, and did its job complete?); accepted: " + _MODEL_ACCEPTED
            )
        return arn
    return value


def _registry_output(value: Any) -> Any:
    """The output of a registry task (``CreateDataSetOperator``, ``CreateEvaluatorOperator``) becomes its ARN."""
    value = loosen(value)
    if isinstance(value, Mapping):
        arn = value.get("arn")
        if not isinstance(arn, str) or not arn:
            raise ValueError("a mapping must be the output of an AI Registry task (a dict with arn)")
        return arn
    return value


RegistryOutput = BeforeValidator(_registry_output)


def model_check(accepted: str, *also: str, urls: str = "URLs are not accepted") -> Callable[[str], str]:
    """
    The check of a ``model`` argument: a versioned model package ARN, a value matching one of ``also``,
    or a hub model id; other ARNs and URLs are refused with a reason.

    :param accepted: what the argument accepts, for the error messages.
    :param also: further accepted patterns (e.g. an S3 checkpoint URI).
    :param urls: why a URL is refused.
    """

    def check(value: str) -> str:
        if is_model_package_arn(value) or any(re.fullmatch(pattern, value) for pattern in also):
            return value
        if value.startswith("arn:"):
            raise ValueError(f"must be {accepted}; this ARN is not a versioned model package ARN")
        if "://" in value:
            raise ValueError(f"must be {accepted}; {urls}")
        if not re.fullmatch(HUB_MODEL_ID, value):
            raise ValueError(f"must be {accepted}")
        return value

    return check


_check_model = model_check(_MODEL_ACCEPTED)


ModelReference = Annotated[str, BeforeValidator(_model_reference), Field(min_length=1), AfterValidator(_check_model)]


def _check_dataset(value: str) -> str:
    if value.startswith("s3://"):
        if not re.fullmatch(S3_URI_PATTERN, value):
            raise ValueError("must be an S3 URI like s3://bucket/prefix/train.jsonl")
        return value
    if value.startswith("arn:"):
        if not re.fullmatch(DATASET_ARN, value):
            raise ValueError(
                "must be an AI Registry dataset ARN like "
                "arn:aws:sagemaker:<region>:<account>:hub-content/<hub>/DataSet/<name>/<version>"
            )
        return value
    if not re.fullmatch(RESOURCE_NAME, value):
        raise ValueError(
            "must be an S3 URI (s3://bucket/key), an AI Registry dataset ARN, or a registered dataset "
            "name (letters, digits and hyphens, at most 63); other URL schemes and local paths are "
            "not accepted"
        )
    return value


DatasetSource = Annotated[str, RegistryOutput, Field(min_length=1), AfterValidator(_check_dataset)]
"""An S3 URI, an AI Registry dataset ARN, or a registered dataset name."""

ModelPackageGroup = Annotated[
    str,
    matches(
        rf"{RESOURCE_NAME}|{MODEL_PACKAGE_GROUP_ARN}",
        "a model package group name (letters, digits and hyphens, at most 63) or its ARN",
    ),
]

MlflowResource = Annotated[
    str,
    matches(
        rf"{MLFLOW_ARN}|{MLFLOW_DEFAULT}",
        "an MLflow app or tracking server ARN (arn:aws:sagemaker:<region>:<account>:mlflow-app/<id>), "
        f"or {MLFLOW_DEFAULT!r} to let the SDK find or create the account's default MLflow app",
    ),
]

MlflowName = Annotated[str, Field(min_length=1, max_length=256)]


class VpcConfigSpec(SpecModel):
    """
    The VPC a fine-tuning job runs in (SDK ``VpcConfig``).

    :param subnets: 1..16 subnet ids like ``subnet-0abc1234``.
    :param security_group_ids: 1..5 security group ids like ``sg-0abc1234``.
    """

    subnets: Annotated[
        list[Annotated[str, matches(r"subnet-[0-9a-z]+", "a subnet id like subnet-0abc1234")]],
        Loose,
        Field(min_length=1, max_length=16),
    ]
    security_group_ids: Annotated[
        list[Annotated[str, matches(r"sg-[0-9a-z]+", "a security group id like sg-0abc1234")]],
        Loose,
        Field(min_length=1, max_length=5),
    ]


class FineTuneStoppingSpec(SpecModel):
    """
    Time limit of a fine-tuning job (SDK ``StoppingCondition``); the service default is 24 hours.

    :param max_runtime_in_seconds: 1..2419200 (28 days).
    """

    max_runtime_in_seconds: Annotated[int, Field(ge=1, le=MAX_RUNTIME)]


_COMMON_DOC = """
    :param model: base model: {model}.
    :param role: IAM role ARN the job runs as (also the role of a reward function evaluator the
        operator registers), ``arn:aws[a-z-]*:iam::<12 digits>:role/<path/name>``.
    :param training_type: ``LORA`` (default) or ``FULL``, any casing (``LoRA`` too).
    :param model_package_group: name or ARN of the model package group the fine-tuned model is
        registered in; required on the serverless path unless ``model`` is a model package.
    :param training_dataset: S3 URI (``s3://bucket/key``), AI Registry dataset ARN, the name of a
        dataset registered in the AI Registry (resolved to its latest version), or the output of a
        ``CreateDataSetOperator`` task (its ``arn``).
    :param validation_dataset: same forms as ``training_dataset``.
    :param s3_output_path: S3 URI of the job's output; default ``s3://sagemaker-<region>-<account>/output``.
    :param hyperparameters: overrides of the model's recipe (e.g. ``{{"learning_rate": 1e-4}}``),
        checked against the recipe's override spec (names, types, ranges, enums) before the job is
        created; numbers rendered as strings are accepted. Values are never shown in errors.
    :param mlflow_resource_arn: MLflow app or tracking server ARN the job reports to, or
        ``"default"`` to let the SDK pick the account's default app (it creates one, and waits up to
        10 minutes, when there is none). Unset: no MLflow tracking and no MLflow call at all.
    :param mlflow_experiment_name: MLflow experiment name, 1..256 characters; needs ``mlflow_resource_arn``.
    :param mlflow_run_name: MLflow run name, 1..256 characters; needs ``mlflow_resource_arn``.
    :param accept_eula: accept the end-user license of a gated model (required for gated models).
    :param networking: ``{{"subnets": [...], "security_group_ids": [...]}}`` (``VpcConfigSpec``).
    :param kms_key_id: KMS key id or ARN that encrypts the output.
    :param tags: a mapping, or a list of ``{{key, value}}``; at most 50; keys must not start with ``aws:``.
    :param stopping_condition: ``{{"max_runtime_in_seconds": ...}}`` (``FineTuneStoppingSpec``).
    :param sequence_length: recipe sequence length: one of {lengths}."""

_COMPUTE_DOC = """
    :param compute: instances for the SDK's serverful path (``ComputeSpec``: ``instance_type``,
        ``instance_count``, ``volume_size_in_gb``...); unset runs serverless (the default)."""


def _doc(summary: str, *extra: str) -> str:
    common = _COMMON_DOC.format(model=_MODEL_ACCEPTED, lengths=", ".join(SEQUENCE_LENGTHS))
    return f"\n    {summary}\n" + common + "".join(extra) + "\n    "


class _FineTuneSpec(SpecModel):
    """Arguments every fine-tuning trainer takes."""

    model: ModelReference
    role: IamRoleArn
    training_type: Annotated[Literal["LORA", "FULL"], one_of(TRAINING_TYPES)] = "LORA"
    model_package_group: ModelPackageGroup | None = None
    training_dataset: DatasetSource
    validation_dataset: DatasetSource | None = None
    s3_output_path: S3Uri | None = None
    hyperparameters: Annotated[dict[HyperparameterName, JsonValue], Loose, Field(max_length=200)] = {}
    mlflow_resource_arn: MlflowResource | None = None
    mlflow_experiment_name: MlflowName | None = None
    mlflow_run_name: MlflowName | None = None
    accept_eula: bool = False
    networking: VpcConfigSpec | None = None
    kms_key_id: NonEmptyStr | None = None
    tags: Tags = {}
    stopping_condition: FineTuneStoppingSpec | None = None
    sequence_length: Annotated[Literal[SEQUENCE_LENGTHS], one_of(SEQUENCE_LENGTHS)] | None = None  # type: ignore[valid-type]

    #: The SDK's customization technique (``SFT``, ``DPO``, ...).
    technique: ClassVar[str] = ""

    @property
    def serverless(self) -> bool:
        """Whether the job runs on the serverless path (no ``compute``)."""
        return getattr(self, "compute", None) is None

    @property
    def model_is_package(self) -> bool:
        """Whether ``model`` is a model package ARN (an earlier fine-tuned model)."""
        return is_model_package_arn(self.model)

    @model_validator(mode="after")
    def _check_combination(self) -> Self:
        problems = self._common_problems()
        self._trainer_problems(problems)
        problems.raise_if_any()
        return self

    def _trainer_problems(self, problems: Problems) -> None:
        """Add the problems of the trainer's own fields to ``problems`` (none by default)."""

    def _common_problems(self) -> Problems:
        problems = Problems()
        if self.serverless and self.model_package_group is None and not self.model_is_package:
            problems.add(
                "model_package_group",
                "is required on the serverless path (no compute) unless model is a model package ARN: "
                "the fine-tuned model is registered in it",
            )
        if self.mlflow_resource_arn is None:
            for name in ("mlflow_experiment_name", "mlflow_run_name"):
                if getattr(self, name) is not None:
                    problems.add(name, "needs mlflow_resource_arn (an MLflow app ARN, or 'default')")
        if self.validation_dataset is not None and self.validation_dataset == self.training_dataset:
            problems.add("validation_dataset", "must differ from training_dataset")
        return problems


class _ServerfulFineTuneSpec(_FineTuneSpec):
    """A trainer that also runs on instances (``compute``), not only serverless."""

    compute: ComputeSpec | None = None


class SFTTrainerSpec(_ServerfulFineTuneSpec):
    __doc__ = _doc("Supervised fine-tuning (SDK ``SFTTrainer``).", _COMPUTE_DOC)

    technique = "SFT"


class DPOTrainerSpec(_ServerfulFineTuneSpec):
    __doc__ = _doc(
        "Direct preference optimization (SDK ``DPOTrainer``); the training records need ``prompt``, "
        "``chosen`` and ``rejected`` (checked on the first record of an S3 JSONL dataset).",
        _COMPUTE_DOC,
    )

    technique = "DPO"


class RLAIFTrainerSpec(_FineTuneSpec):
    __doc__ = _doc(
        "Reinforcement learning from AI feedback (SDK ``RLAIFTrainer``; serverless only).",
        """
    :param reward_model_id: the judge model, one of the SDK's reward model ids (e.g.
        ``openai.gpt-oss-120b-1:0``), offered in the task's region; required.
    :param reward_prompt: built-in judge prompt name (e.g. ``Builtin.Summarize``), the name or ARN
        of a reward prompt evaluator in the AI Registry, or the output of a ``CreateEvaluatorOperator``
        task; default: the recipe's.""",
    )

    technique = "RLAIF"
    reward_model_id: Annotated[str, matches(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}", "a reward model id")]
    reward_prompt: (
        Annotated[
            str,
            RegistryOutput,
            matches(
                rf"{EVALUATOR_ARN}|[A-Za-z0-9][A-Za-z0-9._-]{{0,127}}",
                "a built-in prompt name (e.g. Builtin.Summarize), an evaluator name or an evaluator ARN",
            ),
        ]
        | None
    ) = None


class RLVRTrainerSpec(_ServerfulFineTuneSpec):
    __doc__ = _doc(
        "Reinforcement learning from verifiable rewards (SDK ``RLVRTrainer``).",
        _COMPUTE_DOC,
        """
    :param custom_reward_function: a Lambda function ARN, the name or ARN of a reward function
        evaluator in the AI Registry, or the output of a ``CreateEvaluatorOperator`` task; required unless ``hyperparameters`` sets
        ``preset_reward_function``. A Lambda ARN is registered as an evaluator (with ``role``, through
        the task's connection) and reused by later runs.
    :param skip_reward_validation: do not invoke the reward function on a few training records
        before submitting (the SDK's check, which needs ``lambda:InvokeFunction``).""",
    )

    technique = "RLVR"
    custom_reward_function: (
        Annotated[
            str,
            RegistryOutput,
            matches(
                rf"{LAMBDA_ARN}|{EVALUATOR_ARN}|{RESOURCE_NAME}",
                "a Lambda function ARN (arn:aws:lambda:<region>:<account>:function:<name>), an evaluator "
                "ARN or an evaluator name",
            ),
        ]
        | None
    ) = None
    skip_reward_validation: bool = False

    @property
    def reward_is_lambda(self) -> bool:
        """Whether ``custom_reward_function`` is a Lambda function ARN."""
        return bool(self.custom_reward_function) and re.fullmatch(
            LAMBDA_ARN, self.custom_reward_function or ""
        ) is not None

    def _trainer_problems(self, problems: Problems) -> None:
        if self.custom_reward_function is None and "preset_reward_function" not in self.hyperparameters:
            problems.add(
                "custom_reward_function",
                "is required: a Lambda ARN, an evaluator name or ARN (or set the "
                "preset_reward_function hyperparameter)",
            )

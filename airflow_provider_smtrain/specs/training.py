"""``ModelTrainerSpec``: validated arguments for a SageMaker ``ModelTrainer`` training job.

Field names mirror ``sagemaker.core.training.configs`` / ``sagemaker.train.distributed`` wherever the two
overlap, so SDK config objects (``Compute``, ``SourceCode``, ``StoppingCondition``, ``CheckpointConfig``,
``Networking``, ``InputData``, ``Torchrun``, ``MPI``, ``SMP``, ``MetricDefinition``, ``Tag``) are accepted
wherever the matching sub-spec is expected.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, JsonValue, ValidationError, model_validator

from airflow_provider_smtrain.specs.base import (
    Loose,
    Problems,
    SpecModel,
    check,
    loosen,
    matches,
    one_of,
)
from airflow_provider_smtrain.specs.cluster import (
    ComputeSpec,
    Distributed,
    MpiSpec,
    NetworkingSpec,
    SmpSpec,
    TorchrunSpec,
)
from airflow_provider_smtrain.specs.common import (
    HyperparameterName,
    IamRoleArn,
    JobName,
    LocalOrS3Path,
    MetricDefinitions,
    NonEmptyStr,
    PositiveInt,
    S3Uri,
    Tags,
    check_unique,
)
from airflow_provider_smtrain.specs.errors import Issue, SpecIssues, translate_errors

__all__ = [
    "CheckpointSpec",
    "ComputeSpec",
    "InputChannelSpec",
    "ModelTrainerSpec",
    "MpiSpec",
    "NetworkingSpec",
    "SmpSpec",
    "SourceCodeSpec",
    "StoppingConditionSpec",
    "TorchrunSpec",
]

#: Channel names the SDK uses for itself (``sagemaker.train.constants.SM_CODE`` / ``SM_DRIVERS``).
RESERVED_CHANNELS = frozenset({"code", "sm_drivers"})
MAX_CHANNELS = 20
MAX_RUNTIME = 2_419_200  # 28 days
INPUT_MODES = ("File", "Pipe", "FastFile")

Seconds = Annotated[int, Field(ge=1, le=MAX_RUNTIME)]
AbsolutePath = Annotated[str, check(posixpath.isabs, "must be an absolute container path like /opt/ml/...")]


class SourceCodeSpec(SpecModel):
    """
    Training code to upload and run (SDK ``SourceCode``).

    :param source_dir: local directory or ``.tar.gz`` path, or an S3 URI (no other URL scheme); the
        operators resolve a relative path against the DAG file's folder; the SDK checks that it exists
        at run time.
    :param entry_script: script path inside ``source_dir``; needs ``source_dir``. When ``source_dir``
        is set, exactly one of ``entry_script`` and ``command`` is required.
    :param command: shell command run instead of ``entry_script``.
    :param args: strings or numbers appended to ``command``; only with ``command``.
    :param requirements: ``requirements.txt`` path inside ``source_dir``; needs ``source_dir``.
    :param ignore_patterns: glob patterns not uploaded from a local ``source_dir`` (the SDK's default
        when ``null``).
    """

    source_dir: LocalOrS3Path | None = None
    entry_script: NonEmptyStr | None = None
    command: NonEmptyStr | None = None
    args: (
        Annotated[
            list[
                Annotated[
                    Any, check(lambda v: isinstance(v, str | int | float), "must be a string or number")
                ]
            ],
            Loose,
        ]
        | None
    ) = None
    requirements: NonEmptyStr | None = None
    ignore_patterns: Annotated[list[str], Loose] | None = None

    @model_validator(mode="after")
    def _check_combination(self) -> SourceCodeSpec:
        problems = Problems()
        if self.source_dir is None:
            for name in ("entry_script", "requirements"):
                if getattr(self, name) is not None:
                    problems.add(name, "requires source_dir (a local directory or s3:// URI)")
        elif (self.entry_script is None) == (self.command is None):
            problems.add(
                "entry_script",
                "exactly one of entry_script or command must be set when source_dir is given"
                + (" (got both)" if self.command is not None else ""),
            )
        if self.args is not None and self.command is None:
            problems.add("args", "is only accepted together with command")
        problems.raise_if_any()
        return self


ChannelName = Annotated[
    str,
    Field(min_length=1, max_length=64),
    matches(r"[A-Za-z0-9.\-_]+", "a channel name of letters, digits, '.', '-' or '_' (at most 64)"),
    check(lambda n: n not in RESERVED_CHANNELS, "'code' and 'sm_drivers' are reserved channel names"),
]


class InputChannelSpec(SpecModel):
    """
    One input data channel (SDK ``InputData``), mounted at ``/opt/ml/input/data/<channel_name>``.

    :param channel_name: e.g. ``train``: 1..64 letters, digits, ``.``, ``-`` or ``_``; ``code`` and
        ``sm_drivers`` are reserved by the SDK.
    :param data_source: S3 URI or local path (uploaded by the SDK).
    :param content_type: MIME type passed to the algorithm, 1..256 characters, e.g. ``text/csv`` or
        ``text/csv;label_size=0``.
    """

    channel_name: ChannelName
    data_source: LocalOrS3Path
    content_type: Annotated[str, Field(min_length=1, max_length=256)] | None = None


def _channels_to_list(value: Any) -> Any:
    """Accept ``{channel: uri | {data_source, content_type}}`` and turn it into a list of channels."""
    value = loosen(value)
    if not isinstance(value, Mapping):
        return value
    problems: list[Issue] = []
    channels: list[InputChannelSpec] = []
    for name, source in value.items():
        source = loosen(source)
        nested = isinstance(source, Mapping)
        entry = {"channel_name": name, **source} if nested else {"channel_name": name, "data_source": source}
        try:
            channels.append(InputChannelSpec.model_validate(entry))
        except ValidationError as exc:
            for err in translate_errors(InputChannelSpec, exc):
                sub = (err["field"],) if nested and err["field"] != "channel_name" else ()
                problems.append(Issue((str(name), *sub), err["message"]))
    if problems:
        raise SpecIssues(problems)
    return channels


InputChannels = Annotated[list[InputChannelSpec], BeforeValidator(_channels_to_list)]


class StoppingConditionSpec(SpecModel):
    """
    Time limits of the job (SDK ``StoppingCondition``).

    :param max_runtime_in_seconds: 1..2419200 (28 days).
    :param max_wait_time_in_seconds: runtime plus time waiting for spot capacity, >=
        ``max_runtime_in_seconds``; spot only, and required with spot.
    :param max_pending_time_in_seconds: 7200..2419200; how long the job may wait for capacity.
    """

    max_runtime_in_seconds: Seconds = 86400
    max_wait_time_in_seconds: PositiveInt | None = None
    max_pending_time_in_seconds: Annotated[int, Field(ge=7200, le=MAX_RUNTIME)] | None = None

    @model_validator(mode="after")
    def _wait_covers_runtime(self) -> StoppingConditionSpec:
        wait = self.max_wait_time_in_seconds
        if wait is not None and wait < self.max_runtime_in_seconds:
            problems = Problems()
            problems.add(
                "max_wait_time_in_seconds",
                f"must be >= max_runtime_in_seconds ({self.max_runtime_in_seconds})",
                wait,
                show=True,
            )
            problems.raise_if_any()
        return self


class CheckpointSpec(SpecModel):
    """
    Checkpoint sync between the container and S3 (SDK ``CheckpointConfig``).

    :param s3_uri: S3 URI of the checkpoints.
    :param local_path: absolute container path synced with ``s3_uri``.
    """

    s3_uri: S3Uri
    local_path: AbsolutePath = "/opt/ml/checkpoints"


EnvName = Annotated[
    str,
    Field(max_length=512),
    matches(r"[a-zA-Z_][a-zA-Z0-9_]*", "an environment variable name ([a-zA-Z_][a-zA-Z0-9_]*)"),
]
EnvValue = Annotated[
    str,
    Field(max_length=512),
    BeforeValidator(lambda v: str(v) if isinstance(v, int | float) and not isinstance(v, bool) else v),
]


class ModelTrainerSpec(SpecModel):
    """
    Everything needed to build a ``ModelTrainer`` and start one training job.

    :param training_image: container image URI without whitespace; exactly one of this and
        ``algorithm_name``.
    :param algorithm_name: SageMaker algorithm name or ARN, 1..170 characters without whitespace;
        exactly one of this and ``training_image``.
    :param role: IAM role ARN the job runs as, ``arn:aws[a-z-]*:iam::<12 digits>:role/<path/name>``.
    :param compute: instances to train on (``ComputeSpec``).
    :param output_path: S3 URI ``s3://bucket[/prefix]`` for the model artifacts.
    :param source_code: code to upload and run (``SourceCodeSpec``).
    :param input_data: channels: ``{channel: "s3://..."}``, ``{channel: {"data_source": ...,
        "content_type": ...}}`` or ``[{channel_name, data_source, content_type}]``; always stored as a
        list of ``InputChannelSpec``; at most 20; names unique.
    :param hyperparameters: at most 100 entries, names 1..256 characters; values are any JSON (the SDK
        stringifies them). Values are never shown in errors.
    :param environment: at most 48 entries; names ``[a-zA-Z_][a-zA-Z0-9_]*``; values at most 512
        characters (numbers are converted to strings). Values are never shown in errors.
    :param stopping_condition: time limits (``StoppingConditionSpec``).
    :param checkpoint: checkpoint sync with S3 (``CheckpointSpec``).
    :param networking: VPC and isolation settings (``NetworkingSpec``).
    :param distributed: ``{"type": "torchrun", ...}`` (``TorchrunSpec``) or ``{"type": "mpi", ...}``
        (``MpiSpec``); requires ``source_code.entry_script``.
    :param tags: a mapping, or a list of ``{key, value}`` / ``{Key, Value}``; at most 50; keys 1..128
        and values at most 256 letters, digits, spaces or ``_ . : / = + - @``; keys must not start
        with ``aws:``.
    :param base_job_name: SDK base job name, also the default job name prefix:
        ``^[a-zA-Z0-9](-*[a-zA-Z0-9])*$``, at most 63 characters.
    :param training_input_mode: ``File``, ``Pipe`` or ``FastFile`` (any casing).
    :param tensorboard_output_path: S3 URI for TensorBoard output.
    :param metric_definitions: metrics scraped from the logs (``MetricDefinitionSpec``); at most 40,
        names unique.
    """

    training_image: Annotated[str, matches(r"\S+", "a container image URI without whitespace")] | None = None
    algorithm_name: (
        Annotated[str, matches(r"\S{1,170}", "an algorithm name or ARN without whitespace")] | None
    ) = None
    role: IamRoleArn
    compute: ComputeSpec = ComputeSpec()
    output_path: S3Uri
    source_code: SourceCodeSpec | None = None
    input_data: Annotated[InputChannels, Field(max_length=MAX_CHANNELS)] = []
    hyperparameters: Annotated[dict[HyperparameterName, JsonValue], Loose, Field(max_length=100)] = {}
    environment: Annotated[dict[EnvName, EnvValue], Loose, Field(max_length=48)] = {}
    stopping_condition: StoppingConditionSpec = StoppingConditionSpec()
    checkpoint: CheckpointSpec | None = None
    networking: NetworkingSpec | None = None
    distributed: Distributed | None = None
    tags: Tags = {}
    base_job_name: JobName | None = None
    training_input_mode: Annotated[Literal["File", "Pipe", "FastFile"], one_of(INPUT_MODES)] = "File"
    tensorboard_output_path: S3Uri | None = None
    metric_definitions: MetricDefinitions = []

    @model_validator(mode="after")
    def _check_combination(self) -> ModelTrainerSpec:
        problems = Problems()
        if (self.training_image is None) == (self.algorithm_name is None):
            problems.add(
                "training_image",
                "exactly one of training_image or algorithm_name must be set"
                + (" (got both)" if self.training_image else " (got neither)"),
            )
        spot = self.compute.enable_managed_spot_training
        wait = self.stopping_condition.max_wait_time_in_seconds
        if spot and wait is None:
            problems.add(
                ("stopping_condition", "max_wait_time_in_seconds"),
                "is required when compute.enable_managed_spot_training is true "
                "(must be >= max_runtime_in_seconds)",
            )
        if not spot and wait is not None:
            problems.add(
                ("stopping_condition", "max_wait_time_in_seconds"),
                "is only accepted when compute.enable_managed_spot_training is true",
            )
        if self.distributed is not None and (
            self.source_code is None or self.source_code.entry_script is None
        ):
            problems.add(
                ("source_code", "entry_script"),
                f"is required when distributed ({self.distributed.type}) is set",
            )
        check_unique(problems, "input_data", [c.channel_name for c in self.input_data], key="channel_name")
        check_unique(problems, "metric_definitions", [m.name for m in self.metric_definitions], key="name")
        problems.raise_if_any()
        return self

"""Argument helpers shared by the operators that build a ``ModelTrainer``."""

from __future__ import annotations

import ast
import json
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator

#: The ModelTrainer arguments, in the order the operators accept them (all templated).
TRAINER_FIELDS: tuple[str, ...] = (
    "role",
    "output_path",
    "training_image",
    "algorithm_name",
    "compute",
    "source_code",
    "input_data",
    "hyperparameters",
    "environment",
    "stopping_condition",
    "checkpoint",
    "networking",
    "distributed",
    "tags",
    "base_job_name",
    "metric_definitions",
    "training_input_mode",
    "tensorboard_output_path",
)


def s3_bucket(uri: str | None) -> str | None:
    """
    The bucket of an ``s3://bucket/key`` URI, or None.

    :param uri: an S3 URI.
    """
    if not uri or not uri.startswith("s3://"):
        return None
    return uri[5:].split("/", 1)[0] or None


def resolve_source_dir(source_code: Any, base_folder: str | None) -> Any:
    """
    Resolve a relative local ``source_dir`` against the DAG file's folder.

    :param source_code: the ``source_code`` argument (a dict, an SDK object, or a JSON string).
    :param base_folder: the folder of the DAG file, if known.
    """
    if isinstance(source_code, str):  # a rendered template: JSON or a Python dict repr
        try:
            source_code = json.loads(source_code)
        except ValueError:
            try:
                source_code = ast.literal_eval(source_code)
            except (ValueError, SyntaxError):
                return source_code
    if not isinstance(source_code, dict) or not base_folder:
        return source_code
    source_dir = source_code.get("source_dir")
    if not isinstance(source_dir, str) or source_dir.startswith("s3://") or os.path.isabs(source_dir):
        return source_code
    candidate = os.path.join(base_folder, source_dir)
    if os.path.isdir(candidate):
        return {**source_code, "source_dir": candidate}
    return source_code


def given_arguments(operator: BaseOperator, fields: Sequence[str]) -> dict[str, Any]:
    """
    The operator's (rendered) values of ``fields`` that are not None: what its spec is built from.

    :param operator: the operator.
    :param fields: the attribute names to read.
    """
    return {field: getattr(operator, field) for field in fields if getattr(operator, field) is not None}


def with_resolved_source_dir(trainer: dict[str, Any], base_folder: str | None) -> dict[str, Any]:
    """
    Trainer arguments whose relative local ``source_code.source_dir`` is resolved against ``base_folder``.

    :param trainer: ModelTrainer arguments (as the operators take them).
    :param base_folder: the folder of the DAG file, if known (``SageMakerSdkOperator.dag_folder()``).
    """
    if "source_code" not in trainer:
        return trainer
    return {**trainer, "source_code": resolve_source_dir(trainer["source_code"], base_folder)}


def mask_environment(environment: dict[str, str] | None) -> None:
    """
    Register the training container's environment values with Airflow's secrets masker.

    They are often tokens; once registered they are redacted from task logs and rendered fields.

    :param environment: the validated ``environment`` of a trainer spec.
    """
    from airflow.sdk.log import mask_secret

    for value in (environment or {}).values():
        if value:
            mask_secret(value)

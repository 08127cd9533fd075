"""Specs of the AI Registry operators: a dataset (``DataSet.create``) and an evaluator (``Evaluator.create``).

Validated before any AWS call: names against SageMaker's hub content name pattern, sources against what
the SDK accepts (an S3 URI, or a local file that exists; a Lambda ARN or a local ``.py`` for reward
functions), evaluator types against the SDK's two, search keywords against SageMaker's pattern. Local
paths arrive here already resolved against the DAG folder (the operator does that).
"""

from __future__ import annotations

import os
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from airflow_provider_smtrain.specs.base import Problems, SpecModel, matches, one_of, parse_container_string
from airflow_provider_smtrain.specs.common import S3_ACCEPTED, S3_URI_PATTERN, IamRoleArn

__all__ = [
    "DATASET_EXTENSIONS",
    "DataSetSpec",
    "EvaluatorSpec",
    "HubContentName",
    "LAMBDA_ARN_PATTERN",
    "is_lambda_arn",
]

#: File types ``DataSet.create`` accepts (``air_constants.DATASET_SUPPORTED_EXTENSIONS``).
DATASET_EXTENSIONS = (".jsonl", ".json", ".parquet", ".csv")
#: Largest dataset file ``DataSet.create`` accepts (``DATASET_MAX_FILE_SIZE_BYTES``).
DATASET_MAX_BYTES = 1024**3
#: Largest local reward prompt or reward function file the operators upload.
LOCAL_FILE_MAX_BYTES = 50 * 1024**2

LAMBDA_ARN_PATTERN = (
    r"arn:aws[a-z-]*:lambda:[a-z]{2}(-[a-z]+)+-\d:\d{12}:function:[A-Za-z0-9_-]{1,64}(:[A-Za-z0-9$_-]{1,128})?"
)
_LAMBDA_ARN = re.compile(LAMBDA_ARN_PATTERN)
_S3_URI = re.compile(S3_URI_PATTERN)

HubContentName = Annotated[
    str,
    Field(max_length=63),
    matches(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}", "letters, digits and hyphens, not starting or ending with '-'"
            " (at most 63 characters)"),
]
"""A hub content name: ``^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$``."""

_KEYWORD = re.compile(r"[^A-Z:]{1,100}")


def is_lambda_arn(value: str) -> bool:
    """
    Whether ``value`` is a Lambda function ARN (optionally with a version or alias).

    :param value: any string.
    """
    return _LAMBDA_ARN.fullmatch(value) is not None


def _keywords_to_dict(value: Any) -> Any:
    value = parse_container_string(value)
    if isinstance(value, list):
        pairs = [str(item).partition(":") for item in value]
        return {key: val for key, sep, val in pairs} if all(sep for _, sep, _ in pairs) else value
    return value


def _check_keywords(keywords: dict[str, str]) -> dict[str, str]:
    problems = Problems()
    for key, value in keywords.items():
        if not (_KEYWORD.fullmatch(key) and _KEYWORD.fullmatch(value)):
            problems.add((key,), "search keyword keys and values must be 1-100 characters without upper-case"
                         " letters or ':' (SageMaker stores them as 'key:value', lower case)")
        elif key.startswith("smtrain-") or key.startswith("@"):
            problems.add((key,), "keys starting with 'smtrain-' or '@' are reserved")
    problems.raise_if_any()
    return keywords


SearchKeywords = Annotated[dict[str, str], BeforeValidator(_keywords_to_dict), AfterValidator(_check_keywords)]
"""Extra search keywords ``{key: value}`` (or ``["key:value", ...]``), lower case."""


def _local_file_problem(path: str, *, max_bytes: int) -> str | None:
    """Why a local path cannot be uploaded, or None."""
    if "://" in path:
        return f"must be {S3_ACCEPTED} or a local file path (no other URL scheme)"
    if not os.path.isabs(path):
        return "must be an absolute path or a path relative to the DAG file's folder"
    if not os.path.isfile(path):
        return f"no such file: {path}"
    if os.path.getsize(path) > max_bytes:
        return f"the file is larger than {max_bytes // 1024**2} MiB"
    return None


class _RegistrySpec(SpecModel):
    """Fields both registry specs share."""

    name: HubContentName
    source: Annotated[str, Field(min_length=1)]
    role: IamRoleArn | None = None
    domain_id: Annotated[str, Field(min_length=1, max_length=63)] | None = None
    search_keywords: SearchKeywords | None = None

    @property
    def source_is_s3(self) -> bool:
        """Whether the source is an S3 URI (else a local file)."""
        return self.source.startswith("s3://")


class DataSetSpec(_RegistrySpec):
    """
    A dataset version in the AI Registry, as ``DataSet.create`` takes it.

    :param name: hub content name: letters, digits and hyphens, at most 63 characters.
    :param source: an S3 URI of the dataset file, or a local file (relative paths resolve against the
        DAG folder); a ``.jsonl``, ``.json``, ``.parquet`` or ``.csv`` file of at most 1 GiB.
    :param customization_technique: ``sft``, ``dpo`` or ``rlvr`` (any casing), recorded as a keyword.
    :param role: IAM role ARN recorded as the dataset's role (``DatasetRoleArn``).
    :param domain_id: SageMaker Studio domain id, so the dataset shows in that domain.
    :param search_keywords: extra ``{key: value}`` search keywords, lower case.
    """

    customization_technique: Annotated[Literal["sft", "dpo", "rlvr"], one_of(["sft", "dpo", "rlvr"])] | None = None

    @model_validator(mode="after")
    def _check_source(self) -> DataSetSpec:
        problems = Problems()
        extension = os.path.splitext(self.source.split("?")[0])[1].lower()
        if self.source_is_s3 and not _S3_URI.fullmatch(self.source):
            problems.add("source", f"must be {S3_ACCEPTED}")
        elif not self.source_is_s3:
            problem = _local_file_problem(self.source, max_bytes=DATASET_MAX_BYTES)
            if problem:
                problems.add("source", problem)
        if extension not in DATASET_EXTENSIONS:
            problems.add("source", f"must be a {', '.join(DATASET_EXTENSIONS)} file (got {extension or 'none'})")
        problems.raise_if_any()
        return self


EvaluatorType = Literal["RewardFunction", "RewardPrompt"]


class EvaluatorSpec(_RegistrySpec):
    """
    An evaluator version in the AI Registry, as ``Evaluator.create`` takes it.

    :param name: hub content name: letters, digits and hyphens, at most 63 characters.
    :param type: ``RewardFunction`` or ``RewardPrompt`` (any casing).
    :param source: RewardPrompt: an S3 URI or a local file of the prompt; RewardFunction: a Lambda
        function ARN, or a local ``.py`` file with ``lambda_handler`` (a Lambda is created from it,
        which needs ``role``).
    :param role: IAM role ARN the created Lambda runs as (required for a local ``.py``).
    :param domain_id: SageMaker Studio domain id, so the evaluator shows in that domain.
    :param search_keywords: extra ``{key: value}`` search keywords, lower case.
    """

    type: Annotated[EvaluatorType, one_of(["RewardFunction", "RewardPrompt"])]

    @property
    def creates_lambda(self) -> bool:
        """Whether the source is a local ``.py`` the operator turns into a Lambda function."""
        return self.type == "RewardFunction" and not is_lambda_arn(self.source)

    @model_validator(mode="after")
    def _check_source(self) -> EvaluatorSpec:
        problems = Problems()
        source = self.source
        if self.type == "RewardFunction":
            if source.startswith("arn:"):
                if not is_lambda_arn(source):
                    problems.add("source", "must be a Lambda function ARN like "
                                 "arn:aws:lambda:us-east-1:123456789012:function:my-reward")
            elif not source.endswith(".py"):
                problems.add("source", "a RewardFunction source must be a Lambda function ARN or a local .py file")
            else:
                problem = _local_file_problem(source, max_bytes=LOCAL_FILE_MAX_BYTES)
                if problem:
                    problems.add("source", problem)
                if self.role is None:
                    problems.add("role", "is required to create a Lambda function from a local .py file "
                                 "(the role the function runs as)")
        elif self.source_is_s3:
            if not _S3_URI.fullmatch(source):
                problems.add("source", f"must be {S3_ACCEPTED}")
        else:
            problem = _local_file_problem(source, max_bytes=LOCAL_FILE_MAX_BYTES)
            if problem:
                problems.add("source", problem)
        problems.raise_if_any()
        return self

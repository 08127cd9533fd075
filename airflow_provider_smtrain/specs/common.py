"""Constrained value types shared by the training and tuning specs."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BeforeValidator, Field

from airflow_provider_smtrain.specs.base import (
    Loose,
    Problems,
    SpecModel,
    check,
    loosen,
    matches,
    parse_container_string,
)

__all__ = [
    "HyperparameterName",
    "IamRoleArn",
    "JobName",
    "LocalOrS3Path",
    "MetricDefinitionSpec",
    "MetricDefinitions",
    "NonEmptyStr",
    "PositiveInt",
    "RandomSeed",
    "S3Uri",
    "Tags",
    "check_unique",
]

S3_URI_PATTERN = r"s3://[A-Za-z0-9][A-Za-z0-9._-]{1,61}[A-Za-z0-9](/\S*)?"
S3_ACCEPTED = "an S3 URI like s3://bucket/prefix"

NonEmptyStr = Annotated[str, Field(min_length=1)]
"""A string with at least one character."""

PositiveInt = Annotated[int, Field(ge=1)]
"""An integer >= 1."""

RandomSeed = Annotated[int, Field(ge=0, le=2_147_483_647)]
"""A seed in 0..2147483647."""

HyperparameterName = Annotated[str, Field(min_length=1, max_length=256)]
"""A hyperparameter name, 1..256 characters."""

S3Uri = Annotated[str, matches(S3_URI_PATTERN, S3_ACCEPTED)]
"""An ``s3://bucket[/key]`` URI."""

IamRoleArn = Annotated[
    str,
    matches(
        r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}",
        "an IAM role ARN like arn:aws:iam::123456789012:role/SageMakerRole",
    ),
]
"""An IAM role ARN."""

JobName = Annotated[
    str,
    Field(max_length=63),
    matches(r"[a-zA-Z0-9](-*[a-zA-Z0-9])*", "letters, digits and hyphens, not starting or ending with '-'"),
]
"""A SageMaker job name (or prefix): ``^[a-zA-Z0-9](-*[a-zA-Z0-9])*$``, at most 63 characters."""


def _is_s3_or_local(value: str) -> bool:
    if value.startswith("s3://"):
        return re.fullmatch(S3_URI_PATTERN, value) is not None
    return bool(value.strip()) and "://" not in value


LocalOrS3Path = Annotated[
    str,
    check(_is_s3_or_local, f"must be {S3_ACCEPTED} or a local path (no other URL scheme)"),
]
"""An ``s3://`` URI or a local filesystem path."""


def check_unique(problems: Problems, field: str, names: list[str], *, key: str | None = None) -> None:
    """
    Record a problem for every repeated name.

    :param problems: collector.
    :param field: list field name, e.g. ``"metric_definitions"``.
    :param names: the names in list order.
    :param key: attribute of each list entry that holds the name (``None`` when the list holds names).
    """
    seen: set[str] = set()
    for index, name in enumerate(names):
        if name in seen:
            loc: tuple[str | int, ...] = (field, index, key) if key else (field, index)
            problems.add(loc, f"duplicate name {name!r}; names must be unique")
        seen.add(name)


# --------------------------------------------------------------------------- tags

_TAG_KEY = re.compile(r"[\w\s.:/=+\-@]{1,128}")
_TAG_VALUE = re.compile(r"[\w\s.:/=+\-@]{0,256}")
_MAX_TAGS = 50


def _tags_to_dict(value: Any) -> Any:
    """Accept ``{key: value}``, ``[{key, value}]`` / ``[{Key, Value}]`` / SDK ``Tag`` objects; give a dict."""
    value = parse_container_string(value)
    if isinstance(value, list):
        problems = Problems()
        result: dict[str, Any] = {}
        for index, item in enumerate(value):
            item = loosen(item)
            if isinstance(item, dict):
                lowered = {str(k).lower(): v for k, v in item.items()}
                if set(lowered) == {"key", "value"}:
                    result[str(lowered["key"])] = lowered["value"]
                    continue
            problems.add(
                (index,), "each tag must be {'key': ..., 'value': ...} or {'Key': ..., 'Value': ...}"
            )
        problems.raise_if_any()
        return result
    return value


def _check_tags(tags: dict[str, str]) -> dict[str, str]:
    problems = Problems()
    if len(tags) > _MAX_TAGS:
        problems.add((), f"must have at most {_MAX_TAGS} tags (got {len(tags)})")
    for key, value in tags.items():
        if key.lower().startswith("aws:"):
            problems.add((key,), "tag keys must not start with the reserved prefix 'aws:'")
        elif not _TAG_KEY.fullmatch(key):
            problems.add((key,), "tag key must be 1-128 letters, digits, spaces or _ . : / = + - @")
        if not _TAG_VALUE.fullmatch(value):
            problems.add((key,), "tag value must be at most 256 letters, digits, spaces or _ . : / = + - @")
    problems.raise_if_any()
    return tags


Tags = Annotated[dict[str, str], BeforeValidator(_tags_to_dict), AfterValidator(_check_tags)]
"""Resource tags, given as a mapping or as a list of ``{key, value}`` / ``{Key, Value}``; stored as a dict."""


# --------------------------------------------------------------------------- metric definitions


def _compiles(pattern: str) -> bool:
    try:
        re.compile(pattern)
    except re.error:
        return False
    return True


class MetricDefinitionSpec(SpecModel):
    """
    How to extract one metric from the training logs (``MetricDefinition`` in the SDK).

    :param name: metric name, 1..255 characters, e.g. ``validation:accuracy`` (``Name`` also accepted).
    :param regex: regular expression, 1..500 characters, that compiles and whose first capture group is
        the numeric value (``Regex`` also accepted).
    """

    name: Annotated[str, Field(min_length=1, max_length=255)]
    regex: Annotated[
        str,
        Field(min_length=1, max_length=500),
        check(_compiles, "must be a valid regular expression"),
        check(lambda p: re.compile(p).groups >= 1, "must contain a capture group for the metric value"),
    ]

    _input_aliases: ClassVar[Mapping[str, str]] = {"Name": "name", "Regex": "regex"}


MetricDefinitions = Annotated[list[MetricDefinitionSpec], Loose, Field(max_length=40)]
"""Up to 40 metric definitions."""

"""
Check raw awsJson responses against botocore's output shapes (what real SageMaker and CloudWatch send).

botocore's parser silently drops members it does not know and accepts ``null``; these checks do not.
:func:`install` hooks a boto3 client so that every JSON response it receives is checked *before*
parsing; :data:`VIOLATIONS` collects what is wrong and :data:`CHECKED` counts checked operations.
"""

from __future__ import annotations

import collections
import json
from typing import Any

from botocore.model import OperationModel, Shape

#: ``"service:Operation: path: problem"`` for every response that does not match its shape.
VIOLATIONS: list[str] = []
#: ``(service, operation)`` -> number of responses checked.
CHECKED: collections.Counter[tuple[str, str]] = collections.Counter()

_INSTALLED = "_shape_checks_installed"


def violations(shape: Shape | None, value: Any, path: str = "$") -> list[str]:
    """
    Every mismatch between a decoded JSON value and a botocore shape.

    Checks unknown members, missing required members, ``null`` members, types, enum values and
    string/number bounds.

    :param shape: The botocore shape (``None``: the operation has no output; only ``{}`` matches).
    :param value: The decoded JSON value.
    :param path: Where ``value`` sits in the response (for messages).
    """
    if shape is None:
        return [] if value in (None, {}) else [f"{path}: operation has no output, got {value!r}"]
    if value is None:
        return [f"{path}: null (AWS omits absent members)"]
    kind = shape.type_name
    problems: list[str] = []
    if kind == "structure":
        if not isinstance(value, dict):
            return [f"{path}: expected an object for {shape.name}, got {type(value).__name__}"]
        members = shape.members
        problems += [f"{path}.{key}: unknown member of {shape.name}" for key in value if key not in members]
        problems += [
            f"{path}.{key}: required member of {shape.name} missing"
            for key in shape.required_members
            if key not in value
        ]
        for key, item in value.items():
            if key in members:
                problems += violations(members[key], item, f"{path}.{key}")
    elif kind == "list":
        if not isinstance(value, list):
            return [f"{path}: expected a list, got {type(value).__name__}"]
        for index, item in enumerate(value):
            problems += violations(shape.member, item, f"{path}[{index}]")  # type: ignore[attr-defined]
    elif kind == "map":
        if not isinstance(value, dict):
            return [f"{path}: expected a map, got {type(value).__name__}"]
        for key, item in value.items():
            problems += violations(shape.key, key, f"{path}<key {key!r}>")  # type: ignore[attr-defined]
            problems += violations(shape.value, item, f"{path}[{key!r}]")  # type: ignore[attr-defined]
    elif kind == "string":
        if not isinstance(value, str):
            return [f"{path}: expected a string, got {value!r}"]
        enum = shape.enum  # type: ignore[attr-defined]
        if enum and value not in enum:
            problems.append(f"{path}: {value!r} is not one of {shape.name}'s values {enum}")
        if len(value) > shape.metadata.get("max", len(value)):
            problems.append(f"{path}: longer than {shape.metadata['max']}")
    elif kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            problems.append(f"{path}: expected an integer, got {value!r}")
    elif kind in ("float", "double"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems.append(f"{path}: expected a number, got {value!r}")
    elif kind == "boolean":
        if not isinstance(value, bool):
            problems.append(f"{path}: expected a boolean, got {value!r}")
    elif kind == "timestamp":
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            problems.append(f"{path}: expected a timestamp, got {value!r}")
    elif kind == "blob" and not isinstance(value, str):
        problems.append(f"{path}: expected base64 text, got {value!r}")
    return problems


def check_response(operation_model: OperationModel, status_code: int, body: bytes) -> list[str]:
    """
    Check one raw awsJson response; record and return its violations.

    :param operation_model: botocore's model of the operation.
    :param status_code: HTTP status (only 2xx responses are checked).
    :param body: The raw response body.
    """
    if operation_model.metadata.get("protocol") != "json" or not 200 <= status_code < 300:
        return []
    service = operation_model.service_model.service_name
    try:
        value = json.loads(body) if body else {}
    except ValueError:
        problems = [f"$: not JSON: {body[:200]!r}"]
    else:
        problems = violations(operation_model.output_shape, value)
    CHECKED[(service, operation_model.name)] += 1
    found = [f"{service}:{operation_model.name}: {problem}" for problem in problems]
    VIOLATIONS.extend(found)
    return found


def install(client: Any) -> Any:
    """
    Make a boto3 client check every JSON response it receives (idempotent); return the client.

    :param client: A boto3 client.
    """
    if getattr(client, _INSTALLED, False):
        return client

    def before_parse(operation_model: OperationModel, response_dict: dict[str, Any], **_: Any) -> None:
        check_response(operation_model, response_dict["status_code"], response_dict["body"])

    client.meta.events.register("before-parse", before_parse)
    setattr(client, _INSTALLED, True)
    return client

"""Base model and input coercion shared by every spec.

Operator arguments arrive either as native Python values (from DAG code or ``render_template_as_native_obj``)
or as strings rendered by Jinja. These helpers make both work without ever importing the SageMaker SDK:

* numbers and booleans rendered as strings are handled by pydantic's lax mode (``"2"`` -> ``2``);
* a string holding a JSON (or Python literal) object/array is parsed where a mapping or list is expected;
* ``""``, ``"None"`` and ``"null"`` mean "not set" for optional fields;
* SageMaker SDK config objects (``Compute``, ``SourceCode``, ``Torchrun``, ``ContinuousParameter``...) are
  duck-typed into plain dicts (by module name, never by import).
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, model_validator

from airflow_provider_smtrain.specs.errors import Issue, SpecIssues

__all__ = [
    "Loose",
    "Problems",
    "TaggedInput",
    "SpecModel",
    "check",
    "loosen",
    "matches",
    "one_of",
    "parse_container_string",
    "sdk_to_dict",
]

_NOT_SET_STRINGS = frozenset({"", "none", "null"})

#: SDK classes whose kind is carried by the class rather than by a field: class name -> our ``type`` tag.
SDK_TYPE_TAGS: dict[str, str] = {
    "Torchrun": "torchrun",
    "MPI": "mpi",
    "ContinuousParameter": "continuous",
    "IntegerParameter": "integer",
    "CategoricalParameter": "categorical",
}


def is_sdk_object(value: Any) -> bool:
    """
    Whether ``value`` is an object from the SageMaker Python SDK (checked by module name, no import).

    :param value: any value.
    """
    module = type(value).__module__ or ""
    return module == "sagemaker" or module.startswith("sagemaker.")


def _strip_unassigned(value: Any) -> Any:
    """Drop sagemaker-core ``Unassigned()`` placeholders (and ``None``) from dumped SDK data."""
    if isinstance(value, dict):
        return {
            k: _strip_unassigned(v)
            for k, v in value.items()
            if v is not None and type(v).__name__ != "Unassigned"
        }
    if isinstance(value, list | tuple):
        return [_strip_unassigned(v) for v in value if type(v).__name__ != "Unassigned"]
    return value


def sdk_to_dict(value: Any) -> Any:
    """
    Convert a SageMaker SDK config object into the plain dict our specs validate; other values pass through.

    Pydantic-based SDK classes are dumped with ``model_dump(exclude_none=True)``; the classic parameter
    range classes are read from their attributes. Classes listed in :data:`SDK_TYPE_TAGS` get a ``type``.

    :param value: any value.
    """
    if not is_sdk_object(value):
        return value
    if hasattr(value, "model_dump"):
        data = value.model_dump(exclude_none=True, warnings=False)
    elif hasattr(value, "__dict__"):
        data = {k: v for k, v in vars(value).items() if not k.startswith("_")}
    else:
        return value
    data = _strip_unassigned(data)
    tag = SDK_TYPE_TAGS.get(type(value).__name__)
    if tag is not None:
        data["type"] = tag
    return data


def parse_container_string(value: Any) -> Any:
    """
    Parse a Jinja-rendered JSON or Python-literal object/array string; return anything else unchanged.

    ``'{"a": 1}'`` and ``"{'a': 1}"`` (what Jinja renders for a Python dict) both give ``{"a": 1}``.
    Unparseable strings are returned unchanged so that validation reports them.

    :param value: any value.
    """
    if not isinstance(value, str):
        return value
    text = value.strip()
    if not text or text[0] not in "[{(":
        return value
    try:
        parsed = json.loads(text)
    except ValueError:
        try:
            parsed = ast.literal_eval(text)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            return value
    if isinstance(parsed, tuple):
        parsed = list(parsed)
    return parsed if isinstance(parsed, dict | list) else value


def loosen(value: Any) -> Any:
    """
    Apply every input relaxation: SDK object -> dict, container string -> dict/list.

    :param value: any value.
    """
    return parse_container_string(sdk_to_dict(value))


#: ``Annotated`` marker for fields typed as list / dict / union of models.
Loose = BeforeValidator(loosen)


def _tagged_input(value: Any) -> Any:
    value = loosen(value)
    if isinstance(value, dict) and isinstance(value.get("type"), str):
        value = {**value, "type": value["type"].strip().lower()}
    return value


#: ``Annotated`` marker for unions discriminated on a lower-case ``type`` field (any casing accepted).
TaggedInput = BeforeValidator(_tagged_input)


def one_of(choices: Iterable[str]) -> BeforeValidator:
    """
    Accept any casing of ``choices`` and normalise to the canonical spelling.

    Use as ``Annotated[Literal["File", "Pipe"], one_of(["File", "Pipe"])]``; values that match no
    choice are passed on unchanged so that the ``Literal`` reports the accepted values.

    :param choices: the canonical spellings.
    """
    canonical = {c.lower(): c for c in choices}

    def _normalise(value: Any) -> Any:
        if isinstance(value, str):
            return canonical.get(value.strip().lower(), value)
        return value

    return BeforeValidator(_normalise)


def matches(pattern: str, accepted: str) -> AfterValidator:
    """
    Require a string to fully match ``pattern``; on failure say ``must be <accepted>``.

    :param pattern: regular expression (matched with ``re.fullmatch``).
    :param accepted: human description, e.g. ``"an S3 URI like s3://bucket/prefix"``.
    """
    regex = re.compile(pattern)

    def _check(value: str) -> str:
        if not regex.fullmatch(value):
            raise ValueError(f"must be {accepted}")
        return value

    return AfterValidator(_check)


def check(predicate: Callable[[Any], bool], message: str) -> AfterValidator:
    """
    Require ``predicate(value)``; on failure raise ``message``.

    :param predicate: test on the validated value.
    :param message: what is accepted, e.g. ``"must be an absolute path"``.
    """

    def _check(value: Any) -> Any:
        if not predicate(value):
            raise ValueError(message)
        return value

    return AfterValidator(_check)


class Problems:
    """Collects cross-field problems and raises them together as :class:`SpecIssues`."""

    def __init__(self) -> None:
        self.issues: list[Issue] = []

    def add(
        self, loc: str | tuple[str | int, ...], message: str, value: Any = None, *, show: bool = False
    ) -> None:
        """
        Record one problem.

        :param loc: field name, or path tuple, relative to the model being validated.
        :param message: what is accepted.
        :param value: offending value (shown only when ``show`` and safe).
        :param show: whether to render ``value``.
        """
        self.issues.append(Issue((loc,) if isinstance(loc, str) else loc, message, value, show))

    def raise_if_any(self) -> None:
        """Raise :class:`SpecIssues` when at least one problem was recorded."""
        if self.issues:
            raise SpecIssues(self.issues)


class SpecModel(BaseModel):
    """
    Base of every spec: immutable, JSON-native, rejects unknown fields, and relaxes Jinja/SDK input.

    Subclasses may override :meth:`_from_sdk` to rename fields of the SDK class they mirror.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: SDK field name -> our field name, applied to SDK objects only.
    _sdk_renames: ClassVar[Mapping[str, str]] = {}
    #: alternative spellings accepted in any mapping input (e.g. boto-style ``Name`` -> ``name``).
    _input_aliases: ClassVar[Mapping[str, str]] = {}

    @classmethod
    def _from_sdk(cls, data: dict[str, Any]) -> dict[str, Any]:
        """Adapt a dumped SDK object to this spec's field names."""
        return {cls._sdk_renames.get(k, k): v for k, v in data.items()}

    @model_validator(mode="before")
    @classmethod
    def _relax_input(cls, data: Any) -> Any:
        if is_sdk_object(data):
            data = sdk_to_dict(data)
            if isinstance(data, dict):
                data = cls._from_sdk(data)
        data = parse_container_string(data)
        if isinstance(data, Mapping):
            data = {
                cls._input_aliases.get(k, k) if cls._input_aliases.get(k, k) not in data else k: v
                for k, v in data.items()
            }
            data = {k: v for k, v in data.items() if not cls._is_unset_optional(k, v)}
        return data

    @classmethod
    def _is_unset_optional(cls, name: Any, value: Any) -> bool:
        """``""`` / ``"None"`` / ``"null"`` for a field whose default is ``None`` means "not set"."""
        field = cls.model_fields.get(name) if isinstance(name, str) else None
        return (
            field is not None
            and not field.is_required()
            and field.default is None
            and isinstance(value, str)
            and value.strip().lower() in _NOT_SET_STRINGS
        )

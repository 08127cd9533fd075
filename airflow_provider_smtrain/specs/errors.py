"""Turn pydantic validation failures into one readable, secret-safe error.

Every problem is reported as ``<field path>: <what is accepted> (got <value>)``. The path is written the
way a DAG author wrote the argument (``compute.instance_count``, ``input_data[1].channel_name``,
``hyperparameter_ranges.lr.min_value``); the offending value is only shown when it is a short scalar that
cannot be a credential.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

__all__ = ["Issue", "SpecIssues", "SpecValidationError", "parse_spec"]

ModelT = TypeVar("ModelT", bound=BaseModel)

#: Path components under which values are never shown (they may hold credentials).
SECRET_CONTAINERS = frozenset({"environment", "hyperparameters"})
_SECRET_NAME = re.compile(r"secret|passw|token|credential|api[_-]?key|access[_-]?key|private|auth", re.I)
_SECRET_VALUE = re.compile(r"\b(AKIA|ASIA)[A-Z0-9]{12,}\b|-----BEGIN")
_MAX_SHOWN = 60


class Issue(typing.NamedTuple):
    """
    One problem found by a cross-field check, relative to the model that raised it.

    :param loc: path below the model that raised it, e.g. ``("stopping_condition", "max_wait_time_in_seconds")``.
    :param message: what is accepted, e.g. ``"must be >= max_runtime_in_seconds (86400)"``.
    :param value: the offending value, shown only when it is safe to show.
    :param show_value: whether ``value`` should be rendered as ``(got ...)``.
    """

    loc: tuple[str | int, ...]
    message: str
    value: Any = None
    show_value: bool = False


class SpecIssues(ValueError):
    """
    Raised from inside validators to report problems at precise sub-paths.

    Pydantic keeps the raised exception in the error context; :func:`parse_spec` unpacks it and prefixes
    each issue's ``loc`` with the location of the validator that raised it.

    :param issues: the problems found.
    """

    def __init__(self, issues: Sequence[Issue]) -> None:
        self.issues = list(issues)
        super().__init__("; ".join(".".join(map(str, i.loc)) + ": " + i.message for i in self.issues))


class SpecValidationError(ValueError):
    """
    Bad operator arguments, listing every problem with its field path.

    :param owner: who received the arguments, e.g. ``"ModelTrainerOperator"``.
    :param errors: one ``{"field": ..., "message": ...}`` dict per problem.
    """

    def __init__(self, owner: str, errors: list[dict[str, str]]) -> None:
        self.owner = owner
        self.errors = errors
        lines = "\n".join(f"  - {e['field']}: {e['message']}" for e in errors)
        super().__init__(f"Invalid arguments for {owner}:\n{lines}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.owner, self.errors))


def parse_spec(model_cls: type[ModelT], data: Mapping[str, Any] | ModelT, *, owner: str) -> ModelT:
    """
    Build ``model_cls`` from operator arguments, or raise :class:`SpecValidationError`.

    :param model_cls: the spec class, e.g. ``ModelTrainerSpec``.
    :param data: the (possibly Jinja-rendered) arguments; an existing ``model_cls`` instance is returned as is.
    :param owner: name used in the message, e.g. the operator class name.
    :return: the validated spec.
    """
    if isinstance(data, model_cls):
        return data
    if not isinstance(data, Mapping):
        raise SpecValidationError(
            owner,
            [{"field": "<root>", "message": f"must be a mapping of arguments (got {type(data).__name__})"}],
        )
    try:
        return model_cls.model_validate(dict(data))
    except ValidationError as exc:
        raise SpecValidationError(owner, translate_errors(model_cls, exc)) from None


def translate_errors(model_cls: type[BaseModel], exc: ValidationError) -> list[dict[str, str]]:
    """
    Convert a pydantic ``ValidationError`` into ``[{"field", "message"}]`` entries.

    :param model_cls: the model that was validated (used to name paths and list accepted fields).
    :param exc: the pydantic error.
    :return: de-duplicated entries in pydantic's order.
    """
    out: list[dict[str, str]] = []
    for err in exc.errors():
        ctx_error = (err.get("ctx") or {}).get("error")
        if err["type"] == "value_error" and isinstance(ctx_error, SpecIssues):
            for issue in ctx_error.issues:
                loc = tuple(err["loc"]) + tuple(issue.loc)
                path, _, _ = describe_loc(model_cls, loc)
                msg = issue.message + (_got(loc, issue.value) if issue.show_value else "")
                out.append({"field": path, "message": msg})
            continue
        loc = tuple(err["loc"])
        path, parent, leaf = describe_loc(model_cls, loc)
        msg = _message(err, parent, leaf, loc)
        if err["type"] not in _NO_GOT:
            msg += _got(loc, err.get("input"))
        out.append({"field": path, "message": msg})
    unique: list[dict[str, str]] = []
    for entry in out:
        if entry not in unique:
            unique.append(entry)
    return unique


# --------------------------------------------------------------------------- paths


def _unwrap(tp: Any) -> Any:
    """Strip ``Annotated`` and ``Optional`` from a type."""
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
            continue
        if origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(members) == 1:
                tp = members[0]
                continue
        return tp


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _tagged_members(tp: Any) -> dict[str, Any]:
    """Members of a union of models keyed by their ``type`` literal (the discriminator tag)."""
    if typing.get_origin(tp) not in (typing.Union, types.UnionType):
        return {}
    members: dict[str, Any] = {}
    for arg in typing.get_args(tp):
        model = _unwrap(arg)
        if _is_model(model) and "type" in model.model_fields:
            members[str(model.model_fields["type"].default)] = model
    return members


def describe_loc(root: type[BaseModel], loc: Sequence[str | int]) -> tuple[str, type[BaseModel] | None, Any]:
    """
    Render a pydantic ``loc`` as a user-facing path.

    Discriminator tags and ``[key]`` markers are dropped, list indices are written ``[i]``.

    :param root: the validated model class.
    :param loc: pydantic's location tuple.
    :return: the path, the model class that owns the last component (``None`` when unknown) and the
        declared type at the path (``None`` when unknown).
    """
    parts: list[str] = []
    current: Any = root
    owner: type[BaseModel] | None = None
    for item in loc:
        current = _unwrap(current)
        owner = current if _is_model(current) else None
        if isinstance(item, int):
            parts.append(f"[{item}]")
            args = typing.get_args(current)
            current = args[0] if args else None
            continue
        if item == "[key]":
            continue
        if _is_model(current):
            field = current.model_fields.get(item)
            current = field.annotation if field is not None else None
            parts.append(item)
            continue
        tagged = _tagged_members(current)
        if item in tagged:
            current = tagged[item]
            continue
        parts.append(item)
        args = typing.get_args(current)
        current = args[-1] if typing.get_origin(current) in (dict, Mapping) and args else None
    path = ""
    for part in parts:
        path += part if part.startswith("[") or not path else f".{part}"
    return path or "<root>", owner, _unwrap(current)


# --------------------------------------------------------------------------- messages

_NO_GOT = frozenset({"missing", "extra_forbidden", "union_tag_not_found"})


def _expected_list(text: str) -> str:
    return text.replace(" or ", ", ")


def _message(err: Mapping[str, Any], parent: type[BaseModel] | None, leaf: Any, loc: tuple[Any, ...]) -> str:
    kind: str = err["type"]
    ctx: dict[str, Any] = dict(err.get("ctx") or {})
    if kind == "value_error":
        return str(ctx.get("error", err["msg"]))
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        if parent is None:
            return "is not an accepted field"
        accepted = list(parent.model_fields)
        hint = difflib.get_close_matches(str(loc[-1]), accepted, n=1)
        suggestion = f"; did you mean '{hint[0]}'?" if hint else ""
        return f"is not an accepted field (accepted: {', '.join(accepted)}){suggestion}"
    if kind in ("literal_error", "enum"):
        return f"must be one of {_expected_list(ctx.get('expected', ''))}"
    if kind == "union_tag_invalid":
        return f"'type' must be one of {_expected_list(ctx.get('expected_tags', ''))}"
    if kind == "union_tag_not_found":
        tags = ", ".join(repr(t) for t in _tagged_members(leaf))
        return f"must be an object with a 'type' field ({tags})" if tags else "must have a 'type' field"
    if kind in ("model_type", "model_attributes_type", "dataclass_type"):
        fields = f" with fields {', '.join(leaf.model_fields)}" if _is_model(leaf) else ""
        return f"must be an object{fields} (a mapping, a JSON object string or a SageMaker SDK config object)"
    bounds = {
        "greater_than_equal": ("must be >= {ge}"),
        "greater_than": ("must be > {gt}"),
        "less_than_equal": ("must be <= {le}"),
        "less_than": ("must be < {lt}"),
        "string_too_short": "must be at least {min_length} character(s) long",
        "string_too_long": "must be at most {max_length} characters long",
        "too_short": "must have at least {min_length} entr{ies}",
        "too_long": "must have at most {max_length} entr{ies}",
    }
    if kind in bounds:
        return bounds[kind].format(
            **ctx, ies="y" if ctx.get("min_length", ctx.get("max_length")) == 1 else "ies"
        )
    simple = {
        "int_parsing": "must be an integer",
        "int_type": "must be an integer",
        "int_from_float": "must be a whole number (integer)",
        "float_parsing": "must be a number",
        "float_type": "must be a number",
        "bool_parsing": "must be a boolean (true/false)",
        "bool_type": "must be a boolean (true/false)",
        "string_type": "must be a string",
        "dict_type": "must be a mapping (or a JSON object string)",
        "list_type": "must be a list (or a JSON array string)",
        "finite_number": "must be a finite number",
        "invalid-json-value": "must be a JSON value (string, number, boolean, null, list or object)",
    }
    if kind in simple:
        return simple[kind]
    if kind == "string_pattern_mismatch":
        return f"must match the pattern {ctx.get('pattern')}"
    return str(err["msg"])


def _got(loc: Sequence[Any], value: Any) -> str:
    """``" (got ...)"`` when the value is a short, non-secret scalar; empty otherwise."""
    if any(isinstance(p, str) and (p in SECRET_CONTAINERS or _SECRET_NAME.search(p)) for p in loc):
        return ""
    if value is None or not isinstance(value, str | int | float | bool):
        return ""
    text = repr(value)
    if _SECRET_VALUE.search(text):
        return ""
    if len(text) > _MAX_SHOWN:
        text = text[: _MAX_SHOWN - 4] + "...'"
    return f" (got {text})"

"""Regenerate the field tables of ``docs/specs.md`` from the pydantic spec models.

The prose of ``docs/specs.md`` is written by hand; every field table sits between two markers and is
generated from one model::

    <!-- generated: ModelTrainerSpec -->
    | Field | Type | Default | Accepted values |
    ...
    <!-- end generated -->

Field names, types and defaults come from ``model_fields``; the "Accepted values" column is the field's
``:param:`` text in the model's docstring. Every spec model the package exports must have a table, every
field must have a ``:param:`` text, and a marker for an unknown model is an error, so the page cannot
drift from the models. ``tests/specs/test_specs_doc.py`` fails when the committed page is not current.

Usage::

    .venv/bin/python scripts/gen_specs_doc.py           # rewrite docs/specs.md
    .venv/bin/python scripts/gen_specs_doc.py --check   # exit 1 if docs/specs.md is not current
"""

from __future__ import annotations

import argparse
import inspect
import re
import sys
import types
import typing
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, JsonValue
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

import airflow_provider_smtrain.specs as specs
from airflow_provider_smtrain.specs import SpecModel

DOC = Path(__file__).resolve().parents[1] / "docs" / "specs.md"
REGION = re.compile(r"(<!-- generated: (\w+) -->\n)(.*?)(<!-- end generated -->)", re.S)
HEADER = "| Field | Type | Default | Accepted values |\n|---|---|---|---|\n"
_PARAM = re.compile(r"^:param (\w+):[ \t]*(.*(?:\n(?![ \t]*(?::|$)).*)*)", re.M)
_SCALARS: dict[Any, str] = {str: "string", int: "int", float: "number", bool: "bool", Any: "any"}


class DocError(Exception):
    """The models and the page cannot be reconciled (a model without a table, a field without docs...)."""


def exported_models() -> list[type[SpecModel]]:
    """The spec models ``airflow_provider_smtrain.specs`` exports: each one needs a table."""
    found = (getattr(specs, name) for name in specs.__all__)
    return [m for m in found if inspect.isclass(m) and issubclass(m, SpecModel) and m is not SpecModel]


def markdown(text: str) -> str:
    """
    An RST docstring fragment as one line of a Markdown table cell.

    :param text: the ``:param:`` text.
    """
    text = re.sub(r"``(.+?)``", r"`\1`", " ".join(text.split()))
    return text.replace("|", "\\|")


def param_docs(model: type[BaseModel]) -> dict[str, str]:
    """
    The ``:param name: text`` entries of a model's docstring, as Markdown.

    :param model: the spec model.
    """
    return {name: markdown(text) for name, text in _PARAM.findall(inspect.getdoc(model) or "")}


def type_name(annotation: Any) -> str:
    """
    A short human name for a field's type.

    :param annotation: the field's annotation (pydantic strips the outer ``Annotated``).
    """
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return type_name(args[0])
    if origin in (Union, types.UnionType):
        names = [type_name(arg) for arg in args if arg is not type(None)]
        return " \\| ".join(dict.fromkeys(names))
    if origin is Literal:
        return "string" if all(isinstance(arg, str) for arg in args) else "value"
    if origin is list:
        return f"list of {type_name(args[0])}"
    if origin is dict:
        return f"mapping {type_name(args[0])} → {type_name(args[1])}"
    if annotation is JsonValue or getattr(annotation, "__name__", None) == "JsonValue":
        return "JSON value"
    if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
        return f"`{annotation.__name__}`"
    if annotation in _SCALARS:
        return _SCALARS[annotation]
    raise DocError(f"no documented name for the type {annotation!r}")


def default_text(field: FieldInfo) -> str:
    """
    The default of a field as the page shows it.

    :param field: the pydantic field.
    """
    if field.is_required():
        return "**required**"
    value = field.get_default(call_default_factory=True) if field.default is PydanticUndefined else field.default
    if value is None:
        return "`null`"
    if isinstance(value, BaseModel):
        return "all defaults"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, str):
        return f'`"{value}"`'
    return f"`{value!r}`"


def table(model: type[SpecModel]) -> str:
    """
    The generated Markdown table of one model's fields.

    :param model: the spec model.
    """
    docs = param_docs(model)
    hints = typing.get_type_hints(model)  # resolves forward references the way pydantic did
    missing = [name for name in model.model_fields if name not in docs]
    if missing:
        raise DocError(f"{model.__name__}: no ':param:' text in the docstring for {missing}")
    unknown = sorted(set(docs) - set(model.model_fields))
    if unknown:
        raise DocError(f"{model.__name__}: the docstring documents fields it does not have: {unknown}")
    rows = []
    for name, field in model.model_fields.items():
        annotation = field.annotation if field.annotation is not None else hints[name]
        rows.append(f"| `{name}` | {type_name(annotation)} | {default_text(field)} | {docs[name]} |\n")
    return HEADER + "".join(rows)


def render(page: str) -> str:
    """
    ``page`` with every generated region rewritten from its model.

    :param page: the current text of ``docs/specs.md``.
    """
    models = {model.__name__: model for model in exported_models()}
    named = [match.group(2) for match in REGION.finditer(page)]
    unknown = sorted(set(named) - set(models))
    if unknown:
        raise DocError(f"docs/specs.md has tables for models the specs package does not export: {unknown}")
    undocumented = sorted(set(models) - set(named))
    if undocumented:
        raise DocError(
            f"docs/specs.md has no table for {undocumented}: add '<!-- generated: Name -->' and "
            "'<!-- end generated -->' markers where each table belongs, then run this script"
        )
    return REGION.sub(lambda m: m.group(1) + table(models[m.group(2)]) + m.group(4), page)


def main(argv: list[str] | None = None) -> int:
    """
    Rewrite ``docs/specs.md``, or with ``--check`` only report whether it is current.

    :param argv: command line arguments (default: ``sys.argv[1:]``).
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/specs.md is not current")
    check = parser.parse_args(argv).check
    current = DOC.read_text()
    try:
        wanted = render(current)
    except DocError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if wanted == current:
        return 0
    if check:
        print("docs/specs.md is not current: run .venv/bin/python scripts/gen_specs_doc.py", file=sys.stderr)
        return 1
    DOC.write_text(wanted)
    print("rewrote docs/specs.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The fine-tuning and evaluator operators' constructors as a DAG author meets them, checked against the
user's reference (docs/specs.md).

Each operator takes exactly the arguments its spec's section lists, required as marked there; each is
documented once (its docstring or a provider base's), stored under its name, templated and rendered as
JSON; a missing required argument is named; an argument of a sibling operator is rejected by
``BaseOperator``; positional arguments are refused.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_smtrain.operators import evaluation, finetune

SPECS_DOC = Path(__file__).resolve().parents[2] / "docs" / "specs.md"


def reference_rows(operator_class: type[Any]) -> list[tuple[str, bool]]:
    """(argument, required) rows of the operator's spec section in docs/specs.md (``SFTTrainerSpec``...)."""
    section = operator_class.__name__.replace("Operator", "Spec")
    match = re.search(rf"^## `{section}`\n(.*?)(?=^#)", SPECS_DOC.read_text(), flags=re.M | re.S)
    assert match, f"docs/specs.md has no section {section}"
    rows = re.findall(r"^\| `(\w+)` \|[^|]*\| ([^|]*) \|", match.group(1), flags=re.M)
    assert len(rows) > 5, f"docs/specs.md {section}: no argument table found"
    return [(name, default.strip() == "**required**") for name, default in rows]


def arguments_of(operator_class: type[Any]) -> tuple[str, ...]:
    """The operator's arguments, in the reference's order."""
    return tuple(name for name, _ in reference_rows(operator_class))


def _own_classes(operator_class: type[Any]) -> list[type[Any]]:
    """The operator and its bases down to (not including) the generic job operator."""
    from airflow_provider_smtrain.operators.base import SageMakerJobOperator

    return list(operator_class.__mro__[: operator_class.__mro__.index(SageMakerJobOperator)])


def documented(operator_class: type[Any]) -> list[str]:
    """The ``:param:`` names of the docstrings of the operator and its provider bases."""
    return [
        name
        for cls in _own_classes(operator_class)
        for name in re.findall(r":param (\w+):", vars(cls).get("__doc__") or "")
    ]


def declared_parameters(operator_class: type[Any]) -> dict[str, bool]:
    """(name: required) of the keyword-only parameters its constructor chain declares."""
    declared: dict[str, bool] = {}
    for cls in _own_classes(operator_class):
        if "__init__" in vars(cls):
            for p in inspect.signature(vars(cls)["__init__"]).parameters.values():
                if p.kind is inspect.Parameter.KEYWORD_ONLY:
                    declared[p.name] = p.default is inspect.Parameter.empty
    return declared


def check_takes_exactly_its_documented_arguments(
    operator_class: type[Any], siblings: Iterable[type[Any]]
) -> None:
    """
    Every documented argument is accepted and stored; a sibling's argument is rejected by name.

    :param operator_class: the operator.
    :param siblings: operators of the same family (their arguments are not this one's unless listed).
    """
    arguments = arguments_of(operator_class)
    assert sorted(documented(operator_class)) == sorted(arguments)  # each documented once
    assert declared_parameters(operator_class) == dict(reference_rows(operator_class))
    values = {name: f"<{name}>" for name in arguments}
    op = operator_class(task_id="t", **values)
    assert {name: getattr(op, name) for name in values} == values
    others = {name for sibling in siblings for name in arguments_of(sibling)} - set(arguments)
    for other in sorted(others):
        with pytest.raises(
            TypeError, match=f"(?s)Invalid arguments were passed to {operator_class.__name__}.*{other}"
        ):
            operator_class(task_id="u", **{**values, other: "x"})


def check_required_arguments(operator_class: type[Any], always: set[str]) -> None:
    """
    A missing required argument is named; the optional ones default to None; positional ones are refused.

    :param operator_class: the operator.
    :param always: arguments every operator of the family requires (guards the reference parsing).
    """
    required = {name for name, is_required in reference_rows(operator_class) if is_required}
    assert always <= required
    given = {name: f"<{name}>" for name in required}
    for name in sorted(required):
        with pytest.raises(TypeError, match=f"'{name}'"):
            operator_class(task_id="t", **{k: v for k, v in given.items() if k != name})
    op = operator_class(task_id="t", **given)
    assert all(getattr(op, name) is None for name in set(arguments_of(operator_class)) - required)
    with pytest.raises(TypeError):
        operator_class("m", task_id="p", **given)  # keyword-only


def check_templated_as_json(operator_class: type[Any]) -> None:
    """
    Every argument is a template field (after the job operator's), rendered as JSON, and is rendered.

    :param operator_class: the operator.
    """
    arguments = arguments_of(operator_class)
    assert tuple(operator_class.template_fields[-len(arguments) :]) == arguments
    assert "job_name_prefix" in operator_class.template_fields  # the job operator's own stay templated
    assert {operator_class.template_fields_renderers.get(name) for name in arguments} == {"json"}
    op = operator_class(task_id="t", **{name: "{{ params.v }}-" + name for name in arguments})
    op.render_template_fields({"params": {"v": "x"}})  # type: ignore[arg-type]
    assert {name: getattr(op, name) for name in arguments} == {name: f"x-{name}" for name in arguments}


#: Each family of operators (a module's public operators: their siblings' arguments are not theirs) and
#: what all of them require.
FAMILIES: list[tuple[list[type[Any]], set[str]]] = [
    ([getattr(finetune, name) for name in finetune.__all__], {"model", "role", "training_dataset"}),
    ([getattr(evaluation, name) for name in evaluation.__all__], {"model", "role", "s3_output_path"}),
]
CASES = [(cls, family, always) for family, always in FAMILIES for cls in family]
IDS = [cls.__name__ for cls, _, _ in CASES]


@pytest.mark.parametrize(("operator_class", "family", "always"), CASES, ids=IDS)
def test_each_operator_takes_exactly_its_documented_arguments(
    operator_class: type[Any], family: list[type[Any]], always: set[str]
) -> None:
    check_takes_exactly_its_documented_arguments(operator_class, family)


@pytest.mark.parametrize(("operator_class", "family", "always"), CASES, ids=IDS)
def test_missing_required_argument_is_named_and_optional_ones_default_to_none(
    operator_class: type[Any], family: list[type[Any]], always: set[str]
) -> None:
    check_required_arguments(operator_class, always)


@pytest.mark.parametrize(("operator_class", "family", "always"), CASES, ids=IDS)
def test_every_argument_is_templated_and_rendered_as_json(
    operator_class: type[Any], family: list[type[Any]], always: set[str]
) -> None:
    check_templated_as_json(operator_class)

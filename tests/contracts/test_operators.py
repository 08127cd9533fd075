"""Every operator takes exactly its spec's fields: all templated, all documented, all passed to the spec."""

from __future__ import annotations

import inspect
import re
import typing
from pathlib import Path
from typing import Any

import pytest

import airflow_provider_smtrain.specs as specs
from airflow_provider_smtrain.specs import SpecModel
from tests.contracts.discovery import operator_classes, spec_operator_classes

PACKAGE = "airflow_provider_smtrain"
SPECS_DOC = Path(__file__).resolve().parents[2] / "docs" / "specs.md"

#: Constructor arguments that steer the task rather than describe the job, so they are not spec fields.
TASK_OPTIONS: dict[str, set[str]] = {"ModelTrainerOperator": {"print_log"}}

#: Operators whose arguments describe a job or call (validated into a spec by ``build_spec``).
OPERATORS = spec_operator_classes()
#: Operators that steer the DAG without a spec (gates): their contract is the docstring and templating.
PLAIN_OPERATORS = [cls for cls in operator_classes() if cls not in OPERATORS]


class _Captured(Exception):
    def __init__(self, arguments: dict[str, Any]) -> None:
        super().__init__("captured")
        self.arguments = arguments


def spec_of(operator_class: type[Any]) -> type[SpecModel]:
    """The spec class an operator's ``build_spec`` returns (from its annotation)."""
    exported = {name: getattr(specs, name) for name in specs.__all__}  # the package resolves them lazily
    hints = typing.get_type_hints(operator_class.build_spec, localns=exported)
    spec = hints.get("return")
    assert isinstance(spec, type) and issubclass(spec, SpecModel), (
        f"{operator_class.__name__}.build_spec must be annotated to return its SpecModel, got {spec!r}"
    )
    return spec


def argument_classes(operator_class: type[Any]) -> list[type[Any]]:
    """
    The classes whose constructor arguments the operator takes as its own: itself and its bases up to the
    provider's generic operators (whose arguments are task options: connection, waiting) or Airflow's.
    """
    from airflow_provider_smtrain.operators.base import SageMakerJobOperator
    from airflow_provider_smtrain.operators.sdk_operator import SageMakerSdkOperator

    classes = []
    for cls in operator_class.__mro__:
        if cls in (SageMakerJobOperator, SageMakerSdkOperator) or not cls.__module__.startswith(PACKAGE):
            break
        classes.append(cls)
    return classes


def own_arguments(operator_class: type[Any]) -> list[str]:
    """The keyword arguments the operator's constructors (its own and its provider bases') add to the task's."""
    names: list[str] = []
    for cls in argument_classes(operator_class):
        if "__init__" in vars(cls):
            parameters = inspect.signature(vars(cls)["__init__"]).parameters.values()
            names += [p.name for p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY and p.name not in names]
    return names


def documented_params(operator_class: type[Any]) -> set[str]:
    """The ``:param:`` names of the docstrings of the operator and of its provider bases (where each is documented)."""
    docs = "\n".join(inspect.cleandoc(vars(cls).get("__doc__") or "") for cls in argument_classes(operator_class))
    return set(re.findall(r":param (\w+):", docs))


def spec_doc_rows(spec: type[SpecModel]) -> set[str]:
    """Field names in the table of ``spec``'s section of docs/specs.md."""
    text = SPECS_DOC.read_text()
    match = re.search(rf"^## `{spec.__name__}`\n(.*?)(?=^#)", text, flags=re.M | re.S)
    assert match, f"docs/specs.md has no section '## `{spec.__name__}`'"
    return set(re.findall(r"^\| `(\w+)`", match.group(1), flags=re.M))


def build(operator_class: type[Any]) -> Any:
    """The operator with every own argument set to a distinct placeholder string."""
    return operator_class(task_id="contract", **{name: f"<{name}>" for name in own_arguments(operator_class)})


def test_every_operator_is_found() -> None:
    names = {cls.__name__ for cls in OPERATORS}
    assert {"ModelTrainerOperator", "HyperparameterTunerOperator", "ApproveModelPackageOperator"} <= names
    assert {"EvaluationGateOperator", "EvaluationGateBranchOperator"} <= {cls.__name__ for cls in PLAIN_OPERATORS}


@pytest.mark.parametrize("operator_class", PLAIN_OPERATORS, ids=lambda cls: cls.__name__)
def test_operators_without_a_spec_document_their_arguments_and_template_attributes(
    operator_class: type[Any],
) -> None:
    assert not hasattr(operator_class, "build_spec")
    assert sorted(set(own_arguments(operator_class)) - documented_params(operator_class)) == []
    assert sorted(documented_params(operator_class) - set(own_arguments(operator_class))) == []
    for name in operator_class.template_fields:
        assert name in own_arguments(operator_class), f"template field {name!r} is not an argument"


@pytest.mark.parametrize("operator_class", OPERATORS, ids=lambda cls: cls.__name__)
def test_constructor_arguments_are_exactly_the_spec_fields(operator_class: type[Any]) -> None:
    fields = set(spec_of(operator_class).model_fields)
    arguments = set(own_arguments(operator_class)) - TASK_OPTIONS.get(operator_class.__name__, set())
    assert sorted(fields - arguments) == [], "spec fields the operator does not accept"
    assert sorted(arguments - fields) == [], "operator arguments that are not spec fields (or TASK_OPTIONS)"


@pytest.mark.parametrize("operator_class", OPERATORS, ids=lambda cls: cls.__name__)
def test_every_spec_field_is_templated(operator_class: type[Any]) -> None:
    operator = build(operator_class)
    fields = set(spec_of(operator_class).model_fields)
    assert sorted(fields - set(operator.template_fields)) == []
    for name in operator.template_fields:
        assert hasattr(operator, name), f"template field {name!r} is not an attribute"


@pytest.mark.parametrize("operator_class", OPERATORS, ids=lambda cls: cls.__name__)
def test_every_argument_is_documented_in_the_docstring_and_docs(operator_class: type[Any]) -> None:
    assert sorted(set(own_arguments(operator_class)) - documented_params(operator_class)) == []
    spec = spec_of(operator_class)
    assert sorted(set(spec.model_fields) - spec_doc_rows(spec)) == [], "fields missing from docs/specs.md"
    assert sorted(spec_doc_rows(spec) - set(spec.model_fields)) == [], "docs/specs.md lists unknown fields"


@pytest.mark.parametrize("operator_class", OPERATORS, ids=lambda cls: cls.__name__)
def test_build_spec_receives_every_argument(operator_class: type[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    def capture(model: type[SpecModel], arguments: dict[str, Any], owner: str) -> Any:
        raise _Captured(dict(arguments))

    monkeypatch.setattr(specs, "parse_spec", capture)
    operator = build(operator_class)
    with pytest.raises(_Captured) as captured:
        operator.build_spec()
    fields = spec_of(operator_class).model_fields
    assert captured.value.arguments == {name: f"<{name}>" for name in fields}

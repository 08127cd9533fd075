"""The fine-tuning operators' constructors, as a DAG author meets them: each operator takes exactly the
arguments its reference (docs/specs.md) lists, required as marked there, each documented once in its
docstring or its base's, stores and templates them, names a missing required argument, rejects another
operator's argument, and works with ``default_args``, ``.partial()`` and a user subclass."""

from __future__ import annotations

import inspect
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk import DAG

from airflow_provider_smtrain.operators.finetune import (
    DPOTrainerOperator,
    RLAIFTrainerOperator,
    RLVRTrainerOperator,
    SFTTrainerOperator,
)

ROLE = "arn:aws:iam::123456789012:role/ft"
REQUIRED = {"model": "m", "role": ROLE, "training_dataset": "s3://b/train.jsonl"}
SPECS_DOC = Path(__file__).resolve().parents[2] / "docs" / "specs.md"
OPERATORS = [SFTTrainerOperator, DPOTrainerOperator, RLAIFTrainerOperator, RLVRTrainerOperator]


def reference_rows(operator_class: type[Any]) -> list[tuple[str, bool]]:
    """(argument, required) of the operator in the user's reference, docs/specs.md (``SFTTrainerSpec``...)."""
    section = operator_class.__name__.replace("Operator", "Spec")
    match = re.search(rf"^## `{section}`\n(.*?)(?=^#)", SPECS_DOC.read_text(), flags=re.M | re.S)
    assert match, f"docs/specs.md has no section {section}"
    rows = re.findall(r"^\| `(\w+)` \|[^|]*\| ([^|]*) \|", match.group(1), flags=re.M)
    assert len(rows) > 10, f"docs/specs.md {section}: no argument table found"
    return [(name, default.strip() == "**required**") for name, default in rows]


def arguments_of(operator_class: type[Any]) -> tuple[str, ...]:
    return tuple(name for name, _ in reference_rows(operator_class))


def required_of(operator_class: type[Any]) -> set[str]:
    return {name for name, required in reference_rows(operator_class) if required}


ALL_ARGUMENTS = {name for cls in OPERATORS for name in arguments_of(cls)}


def documented(operator_class: type[Any]) -> list[str]:
    """The ``:param:`` names of the operator's docstring and its bases' (the provider's fine-tuning bases)."""
    names: list[str] = []
    for cls in operator_class.__mro__:
        if cls.__module__.startswith("airflow_provider_smtrain.operators.finetune"):
            names += re.findall(r":param (\w+):", vars(cls).get("__doc__") or "")
    return names


def declared_parameters(operator_class: type[Any]) -> dict[str, bool]:
    """(name: required) of the keyword-only parameters its constructor chain declares, down to the job operator."""
    from airflow_provider_smtrain.operators.base import SageMakerJobOperator

    declared: dict[str, bool] = {}
    for cls in operator_class.__mro__[: operator_class.__mro__.index(SageMakerJobOperator)]:
        if "__init__" in vars(cls):
            for p in inspect.signature(vars(cls)["__init__"]).parameters.values():
                if p.kind is inspect.Parameter.KEYWORD_ONLY:
                    declared[p.name] = p.default is inspect.Parameter.empty
    return declared


@pytest.mark.parametrize("operator_class", OPERATORS, ids=lambda cls: cls.__name__)
def test_each_operator_takes_exactly_its_documented_arguments(operator_class: type[Any]) -> None:
    assert sorted(documented(operator_class)) == sorted(arguments_of(operator_class))  # each once
    assert declared_parameters(operator_class) == dict(reference_rows(operator_class))
    values = {name: f"<{name}>" for name in arguments_of(operator_class)}
    op = operator_class(task_id="t", **values)
    assert {name: getattr(op, name) for name in values} == values
    for other in sorted(ALL_ARGUMENTS - set(arguments_of(operator_class))):  # another trainer's argument
        with pytest.raises(
            TypeError, match=f"(?s)Invalid arguments were passed to {operator_class.__name__}.*{other}"
        ):
            operator_class(task_id="u", **{**values, other: "x"})


@pytest.mark.parametrize("operator_class", OPERATORS, ids=lambda cls: cls.__name__)
def test_missing_required_argument_is_named_and_optional_ones_default_to_none(
    operator_class: type[Any],
) -> None:
    required = required_of(operator_class)
    assert set(REQUIRED) <= required
    given = {name: f"<{name}>" for name in required}
    for name in sorted(required):
        with pytest.raises(TypeError, match=f"'{name}'"):
            operator_class(task_id="t", **{k: v for k, v in given.items() if k != name})
    op = operator_class(task_id="t", **given)
    assert all(getattr(op, name) is None for name in set(arguments_of(operator_class)) - required)
    with pytest.raises(TypeError):
        operator_class("m", task_id="p", **given)  # keyword-only


@pytest.mark.parametrize("operator_class", OPERATORS, ids=lambda cls: cls.__name__)
def test_every_argument_is_templated_and_rendered_as_json(operator_class: type[Any]) -> None:
    arguments = arguments_of(operator_class)
    assert tuple(operator_class.template_fields[-len(arguments) :]) == arguments
    assert "job_name_prefix" in operator_class.template_fields  # the job operator's own stay templated
    assert {operator_class.template_fields_renderers.get(name) for name in arguments} == {"json"}
    op = operator_class(task_id="t", **{name: "{{ params.v }}-" + name for name in arguments})
    op.render_template_fields({"params": {"v": "x"}})  # type: ignore[arg-type]
    assert {name: getattr(op, name) for name in arguments} == {name: f"x-{name}" for name in arguments}


def test_default_args_fill_trainer_arguments() -> None:
    with DAG(
        "d", schedule=None, start_date=datetime(2026, 1, 1), default_args={"role": ROLE, "tags": {"a": "b"}}
    ):
        op = SFTTrainerOperator(task_id="t", model="m", training_dataset="s3://b/t.jsonl")
        rl = RLAIFTrainerOperator(
            task_id="r", model="m", training_dataset="s3://b/t.jsonl", reward_model_id="j"
        )
    assert (op.role, op.tags) == (ROLE, {"a": "b"})
    assert (rl.role, rl.reward_model_id) == (ROLE, "j")


@pytest.mark.filterwarnings("ignore:Task .u. was never mapped")
def test_mapped_task_accepts_the_trainer_arguments() -> None:
    with DAG("d", schedule=None, start_date=datetime(2026, 1, 1)):
        mapped = RLVRTrainerOperator.partial(
            task_id="t", role=ROLE, model="m", compute={"instance_count": 1}
        ).expand(training_dataset=["s3://b/a.jsonl", "s3://b/b.jsonl"])
    assert mapped.partial_kwargs["role"] == ROLE
    assert mapped.partial_kwargs["compute"] == {"instance_count": 1}
    with (
        pytest.raises(TypeError, match="reward_model_id"),
        DAG("e", schedule=None, start_date=datetime(2026, 1, 1)),
    ):
        SFTTrainerOperator.partial(task_id="u", **REQUIRED).expand(reward_model_id=["a"])


def test_a_user_subclass_can_extend_a_trainer_operator() -> None:
    class MySFT(SFTTrainerOperator):
        template_fields = (*SFTTrainerOperator.template_fields, "team")

        def __init__(self, *, team: str, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.team = team

    compute = {"instance_type": "ml.g5.2xlarge"}
    op = MySFT(
        task_id="t", team="nlp", compute=compute, **{**REQUIRED, "training_dataset": "s3://bucket/t.jsonl"}
    )
    assert (op.team, op.model, op.compute) == ("nlp", "m", compute)
    assert op.template_fields[-1] == "team"
    assert op.build_spec().compute is not None  # its own templated field is not taken for a spec field

"""The fine-tuning operators' constructors, derived from their declared arguments, behave as written ones:
Airflow's ``default_args`` fill them, missing required and unknown arguments are rejected by name, positional
arguments are refused, mapped tasks see every argument, and a user subclass can extend one."""

from __future__ import annotations

import inspect
from datetime import datetime
from typing import Any

import pytest
from airflow.sdk import DAG

from airflow_provider_smtrain.operators.finetune import (
    DPOTrainerOperator,
    RLAIFTrainerOperator,
    RLVRTrainerOperator,
    SFTTrainerOperator,
)
from airflow_provider_smtrain.operators.finetune_base import COMMON_FIELDS

ROLE = "arn:aws:iam::123456789012:role/ft"
REQUIRED = {"model": "m", "role": ROLE, "training_dataset": "s3://b/train.jsonl"}


def test_signature_lists_every_argument_keyword_only_with_its_default() -> None:
    parameters = inspect.signature(RLAIFTrainerOperator.__init__).parameters
    own = {name: p for name, p in parameters.items() if p.kind is inspect.Parameter.KEYWORD_ONLY}
    assert list(own)[:4] == ["model", "role", "training_dataset", "reward_model_id"]  # required first
    assert set(own) == {*COMMON_FIELDS, "reward_model_id", "reward_prompt"}
    assert {name for name, p in own.items() if p.default is inspect.Parameter.empty} == {
        "model",
        "role",
        "training_dataset",
        "reward_model_id",
    }
    assert parameters["kwargs"].kind is inspect.Parameter.VAR_KEYWORD
    assert RLAIFTrainerOperator.__init__.__qualname__ == "RLAIFTrainerOperator.__init__"


@pytest.mark.parametrize(
    ("operator_class", "own"),
    [
        (SFTTrainerOperator, ("compute",)),
        (DPOTrainerOperator, ("compute",)),
        (RLAIFTrainerOperator, ("reward_model_id", "reward_prompt")),
        (RLVRTrainerOperator, ("compute", "custom_reward_function", "skip_reward_validation")),
    ],
)
def test_fields_templates_and_docs_come_from_the_declared_arguments(
    operator_class: type[Any], own: tuple[str, ...]
) -> None:
    assert operator_class.trainer_fields == (*COMMON_FIELDS, *own)
    assert set(operator_class.trainer_fields) <= set(operator_class.template_fields)
    assert operator_class.template_fields_renderers == dict.fromkeys(operator_class.trainer_fields, "json")
    doc = inspect.getdoc(operator_class) or ""
    assert [line.split(":")[1].split()[1] for line in doc.splitlines() if line.startswith(":param")] == list(
        operator_class.trainer_fields
    )


def test_arguments_are_stored_and_unset_ones_are_none() -> None:
    op = RLVRTrainerOperator(task_id="t", custom_reward_function="fn", **REQUIRED)
    assert (op.model, op.role, op.custom_reward_function) == ("m", ROLE, "fn")
    assert op.compute is None and op.skip_reward_validation is None and op.training_type is None


def test_default_args_fill_trainer_arguments() -> None:
    with DAG("d", schedule=None, start_date=datetime(2026, 1, 1), default_args={"role": ROLE, "tags": {"a": "b"}}):
        op = SFTTrainerOperator(task_id="t", model="m", training_dataset="s3://b/t.jsonl")
    assert op.role == ROLE
    assert op.tags == {"a": "b"}


def test_missing_required_argument_is_named() -> None:
    with pytest.raises(TypeError, match="'reward_model_id'"):
        RLAIFTrainerOperator(task_id="t", **REQUIRED)
    with pytest.raises(TypeError, match="'role'"):
        SFTTrainerOperator(task_id="t", model="m", training_dataset="s3://b/t.jsonl")


def test_unknown_and_positional_arguments_are_rejected() -> None:
    with pytest.raises(TypeError, match="reward_model_id"):  # an RLAIF argument is not an SFT one
        SFTTrainerOperator(task_id="t", reward_model_id="x", **REQUIRED)
    with pytest.raises(TypeError):
        SFTTrainerOperator("m", task_id="t", **REQUIRED)  # type: ignore[misc]


@pytest.mark.filterwarnings("ignore:Task .u. was never mapped")
def test_mapped_task_accepts_the_trainer_arguments() -> None:
    with DAG("d", schedule=None, start_date=datetime(2026, 1, 1)):
        mapped = SFTTrainerOperator.partial(task_id="t", role=ROLE, model="m").expand(
            training_dataset=["s3://b/a.jsonl", "s3://b/b.jsonl"]
        )
    assert mapped.partial_kwargs["role"] == ROLE
    with pytest.raises(TypeError, match="reward_model_id"), DAG("e", schedule=None, start_date=datetime(2026, 1, 1)):
        SFTTrainerOperator.partial(task_id="u", **REQUIRED).expand(reward_model_id=["a"])


def test_a_user_subclass_can_extend_a_trainer_operator() -> None:
    class MySFT(SFTTrainerOperator):
        def __init__(self, *, team: str, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.team = team

    op = MySFT(task_id="t", team="nlp", compute={"instance_type": "ml.g5.2xlarge"}, **REQUIRED)
    assert (op.team, op.model, op.compute) == ("nlp", "m", {"instance_type": "ml.g5.2xlarge"})
    assert op.template_fields == SFTTrainerOperator.template_fields

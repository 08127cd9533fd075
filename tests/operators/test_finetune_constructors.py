"""The fine-tuning operators' constructors, as a DAG author meets them: each operator takes exactly the
arguments its reference (docs/specs.md) lists, required as marked there, each documented once in its
docstring or its base's, stores and templates them, names a missing required argument, rejects another
operator's argument, and works with ``default_args``, ``.partial()`` and a user subclass."""

from __future__ import annotations

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
from tests.operators.constructor_contract import (
    check_required_arguments,
    check_takes_exactly_its_documented_arguments,
    check_templated_as_json,
)

ROLE = "arn:aws:iam::123456789012:role/ft"
REQUIRED = {"model": "m", "role": ROLE, "training_dataset": "s3://b/train.jsonl"}
OPERATORS = [SFTTrainerOperator, DPOTrainerOperator, RLAIFTrainerOperator, RLVRTrainerOperator]


@pytest.mark.parametrize("operator_class", OPERATORS, ids=lambda cls: cls.__name__)
def test_each_operator_takes_exactly_its_documented_arguments(operator_class: type[Any]) -> None:
    check_takes_exactly_its_documented_arguments(operator_class, OPERATORS)


@pytest.mark.parametrize("operator_class", OPERATORS, ids=lambda cls: cls.__name__)
def test_missing_required_argument_is_named_and_optional_ones_default_to_none(
    operator_class: type[Any],
) -> None:
    check_required_arguments(operator_class, set(REQUIRED))


@pytest.mark.parametrize("operator_class", OPERATORS, ids=lambda cls: cls.__name__)
def test_every_argument_is_templated_and_rendered_as_json(operator_class: type[Any]) -> None:
    check_templated_as_json(operator_class)


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

"""The fine-tuning operators with Airflow's ways of passing arguments: ``default_args``, ``.partial()`` and a
user subclass (each operator's arguments themselves: ``test_constructor_contract.py``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from airflow.sdk import DAG

from airflow_provider_smtrain.operators.finetune import (
    RLAIFTrainerOperator,
    RLVRTrainerOperator,
    SFTTrainerOperator,
)

ROLE = "arn:aws:iam::123456789012:role/ft"
REQUIRED = {"model": "m", "role": ROLE, "training_dataset": "s3://b/train.jsonl"}


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

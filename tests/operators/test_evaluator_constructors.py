"""The evaluator operators with Airflow's ways of passing arguments: ``default_args`` and ``.partial()`` fill the
common arguments (each operator's arguments themselves: ``test_constructor_contract.py``)."""

from __future__ import annotations

from datetime import datetime

import pytest
from airflow.sdk import DAG

from airflow_provider_smtrain.operators.evaluation import (
    BenchMarkEvaluatorOperator,
    LLMAsJudgeEvaluatorOperator,
)

ROLE = "arn:aws:iam::123456789012:role/eval"


@pytest.mark.filterwarnings("ignore:Task .u. was never mapped")
def test_default_args_and_partial_fill_the_common_arguments() -> None:
    defaults = {"role": ROLE, "s3_output_path": "s3://bucket/eval"}
    with DAG("d", schedule=None, start_date=datetime(2026, 1, 1), default_args=defaults):
        op = BenchMarkEvaluatorOperator(task_id="t", model="m", benchmark="mmlu")
        mapped = LLMAsJudgeEvaluatorOperator.partial(task_id="j", model="m", evaluator_model="judge").expand(
            dataset=["s3://bucket/a.jsonl", "s3://bucket/b.jsonl"]
        )
    assert (op.role, op.s3_output_path, op.benchmark) == (ROLE, "s3://bucket/eval", "mmlu")
    assert mapped.partial_kwargs["evaluator_model"] == "judge"
    with (
        pytest.raises(TypeError, match="benchmark"),
        DAG("e", schedule=None, start_date=datetime(2026, 1, 1)),
    ):
        LLMAsJudgeEvaluatorOperator.partial(task_id="u", model="m", role=ROLE).expand(benchmark=["mmlu"])

"""The evaluator operators' constructors, as a DAG author meets them (``constructor_contract``): exactly the
arguments docs/specs.md lists for each, the common ones taken by ``EvaluatorOperator``; ``default_args``
and ``.partial()`` fill them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from airflow.sdk import DAG

from airflow_provider_smtrain.operators.evaluation import (
    BenchMarkEvaluatorOperator,
    CustomScorerEvaluatorOperator,
    LLMAsJudgeEvaluatorOperator,
    MultiTurnRLEvaluatorOperator,
)
from tests.operators.constructor_contract import (
    check_required_arguments,
    check_takes_exactly_its_documented_arguments,
    check_templated_as_json,
)

ROLE = "arn:aws:iam::123456789012:role/eval"
OPERATORS = [
    BenchMarkEvaluatorOperator,
    CustomScorerEvaluatorOperator,
    LLMAsJudgeEvaluatorOperator,
    MultiTurnRLEvaluatorOperator,
]


@pytest.mark.parametrize("operator_class", OPERATORS, ids=lambda cls: cls.__name__)
def test_each_evaluator_takes_exactly_its_documented_arguments(operator_class: type[Any]) -> None:
    check_takes_exactly_its_documented_arguments(operator_class, OPERATORS)


@pytest.mark.parametrize("operator_class", OPERATORS, ids=lambda cls: cls.__name__)
def test_missing_required_argument_is_named_and_optional_ones_default_to_none(
    operator_class: type[Any],
) -> None:
    check_required_arguments(operator_class, {"model", "role", "s3_output_path"})


@pytest.mark.parametrize("operator_class", OPERATORS, ids=lambda cls: cls.__name__)
def test_every_argument_is_templated_and_rendered_as_json(operator_class: type[Any]) -> None:
    check_templated_as_json(operator_class)


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

"""All four evaluators, run in parallel by a real Airflow against the local SageMaker: each deferred to the
triggerer until its pipeline execution succeeded. Every task evaluates the base model side by side.

The run's conf gives ``bucket`` (holding ``eval/data.jsonl``), ``role_arn`` and ``model`` (a model package ARN).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.sdk import DAG

from airflow_provider_smtrain.operators.evaluation import (
    BenchMarkEvaluatorOperator,
    CustomScorerEvaluatorOperator,
    LLMAsJudgeEvaluatorOperator,
    MultiTurnRLEvaluatorOperator,
)

COMMON: dict[str, Any] = {
    "model": "{{ params.model }}",
    "role": "{{ params.role_arn }}",
    "s3_output_path": "s3://{{ params.bucket }}/eval-out",
    "evaluate_base_model": True,
    "deferrable": True,
    "poll_interval": 1,
}
DATASET = "s3://{{ params.bucket }}/eval/data.jsonl"
#: the LLM-as-judge task's custom metric (Bedrock's custom metric definition format); ``custom_metrics`` is
#: templated, yet Bedrock's own ``{{prompt}}`` / ``{{prediction}}`` placeholders pass through as written
CUSTOM_JUDGE_METRIC = {
    "customMetricDefinition": {
        "name": "Brevity",
        "instructions": "Is the response short? Prompt: {{prompt}}\nResponse: {{prediction}}",
        "ratingScale": [
            {"definition": "Short", "value": {"floatValue": 1.0}},
            {"definition": "Long", "value": {"floatValue": 0.0}},
        ],
    }
}

with DAG(
    dag_id="it_evaluators",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    params={"bucket": "smtrain-it", "role_arn": "arn:aws:iam::123456789012:role/SageMakerTrainingRole", "model": ""},
):
    CustomScorerEvaluatorOperator(
        task_id="custom_scorer", job_name_prefix="it-scorer", evaluator="prime_math", dataset=DATASET, **COMMON
    )
    MultiTurnRLEvaluatorOperator(
        task_id="multi_turn_rl",
        job_name_prefix="it-mtrl-eval",
        dataset=DATASET,
        agent_config="arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/itAgent-abc123",
        **COMMON,
    )
    BenchMarkEvaluatorOperator(
        task_id="benchmark",
        job_name_prefix="it-bench",
        benchmark="mmlu",
        subtasks=["abstract_algebra", "anatomy"],
        **COMMON,
    )
    LLMAsJudgeEvaluatorOperator(
        task_id="llm_as_judge",
        job_name_prefix="it-judge",
        evaluator_model="anthropic.claude-3-5-haiku-20241022-v1:0",
        dataset=DATASET,
        builtin_metrics=["Correctness", "Helpfulness"],
        custom_metrics=[CUSTOM_JUDGE_METRIC],
        **COMMON,
    )

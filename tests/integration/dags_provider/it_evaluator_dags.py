"""The evaluators the flagship DAG does not run (custom scorer, multi-turn RL), run by a real Airflow against
the local SageMaker: each deferred to the triggerer until its pipeline execution succeeded.

The run's conf gives ``bucket`` (holding ``eval/data.jsonl``), ``role_arn`` and ``model`` (a model package ARN).
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_smtrain.operators.evaluation import (
    CustomScorerEvaluatorOperator,
    MultiTurnRLEvaluatorOperator,
)

COMMON = {
    "model": "{{ params.model }}",
    "role": "{{ params.role_arn }}",
    "dataset": "s3://{{ params.bucket }}/eval/data.jsonl",
    "s3_output_path": "s3://{{ params.bucket }}/eval-out",
    "evaluate_base_model": True,
    "deferrable": True,
    "poll_interval": 1,
}

with DAG(
    dag_id="it_evaluators",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    params={"bucket": "smtrain-it", "role_arn": "arn:aws:iam::123456789012:role/SageMakerTrainingRole", "model": ""},
):
    CustomScorerEvaluatorOperator(
        task_id="custom_scorer", job_name_prefix="it-scorer", evaluator="prime_math", **COMMON
    )
    MultiTurnRLEvaluatorOperator(
        task_id="multi_turn_rl",
        job_name_prefix="it-mtrl-eval",
        agent_config="arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/itAgent-abc123",
        **COMMON,
    )

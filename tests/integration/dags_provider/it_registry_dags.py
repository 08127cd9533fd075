"""The AI Registry operators and sensor run by a real Airflow against the local SageMaker.

The dataset and the reward function are files next to this DAG file (``registry_files/``); the reward
function's Lambda runs as ``lambda_role_arn`` from the run's conf.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_smtrain.operators.registry import CreateDataSetOperator, CreateEvaluatorOperator
from airflow_provider_smtrain.sensors.registry import HubContentSensor

with DAG(
    dag_id="it_registry",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    params={"bucket": "smtrain-it", "lambda_role_arn": "arn:aws:iam::123456789012:role/RewardLambdaRole"},
):
    dataset = CreateDataSetOperator(
        task_id="register_dataset",
        name="it-chat",
        source="registry_files/chat.jsonl",
        customization_technique="sft",
        default_bucket="{{ params.bucket }}",
        poll_interval=1,
    )
    evaluator = CreateEvaluatorOperator(
        task_id="register_reward_function",
        name="it-reward",
        type="RewardFunction",
        source="registry_files/reward.py",
        role="{{ params.lambda_role_arn }}",
        default_bucket="{{ params.bucket }}",
        poll_interval=1,
    )
    available = HubContentSensor(
        task_id="dataset_available",
        hub_content_name="{{ ti.xcom_pull(task_ids='register_dataset')['name'] }}",
        hub_content_version="{{ ti.xcom_pull(task_ids='register_dataset')['version'] }}",
        poke_interval=1,
    )
    dataset >> available

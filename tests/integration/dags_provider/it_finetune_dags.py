"""RLAIF through a real Airflow against the local SageMaker (SFT, DPO and RLVR run in the example DAG)."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_smtrain.operators.finetune import RLAIFTrainerOperator

with DAG(
    dag_id="it_finetune_rlaif",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    params={"bucket": "smtrain-it", "role_arn": "arn:aws:iam::123456789012:role/SageMakerTrainingRole"},
):
    RLAIFTrainerOperator(
        task_id="rlaif",
        model="huggingface-llm-qwen2-5-7b-instruct",
        role="{{ params.role_arn }}",
        model_package_group="it-rlaif",
        training_dataset="s3://{{ params.bucket }}/finetune/rl/train.jsonl",
        s3_output_path="s3://{{ params.bucket }}/finetune/output",
        reward_model_id="openai.gpt-oss-120b-1:0",
        reward_prompt="{{ 'Builtin.Summarize' }}",
        hyperparameters={"max_epochs": "{{ 1 }}", "learning_rate": "{{ 2e-5 }}"},
        poll_interval=1,
    )

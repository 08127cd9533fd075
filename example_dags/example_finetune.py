"""Fine-tune a foundation model: register a dataset → SFT (LoRA) → DPO on the SFT model → RLVR.

* ``register_dataset`` registers ``finetune_files/sft_train.jsonl`` in the SageMaker AI Registry
  (create-or-reuse: the same file again gives the same version).
* ``register_reward`` registers ``finetune_files/reward.py`` as a reward function (a Lambda function
  running as ``lambda_role_arn``, created once per code).
* ``stage_data`` copies the DPO and RLVR records next to this file to S3.
* ``sft`` fine-tunes ``model`` with LoRA on the registered dataset; the fine-tuned model is registered in
  ``model_package_group``.
* ``dpo`` trains the SFT model package further on preference pairs (its ``model`` is the SFT result).
* ``rlvr`` trains the DPO model package with the reward function; before submitting, the SDK invokes
  the reward function on a few training records (through the task's connection).

Every trainer waits in the triggerer and re-attaches to its job on a retry. No MLflow app is created:
pass ``mlflow_resource_arn`` to report to one.
"""

from __future__ import annotations

import os
from datetime import datetime

from airflow.sdk import DAG, task

from airflow_provider_smtrain.operators.finetune import (
    DPOTrainerOperator,
    RLVRTrainerOperator,
    SFTTrainerOperator,
)
from airflow_provider_smtrain.operators.registry import CreateDataSetOperator, CreateEvaluatorOperator

POLL_SECONDS = float(os.environ.get("SMTRAIN_EXAMPLE_POLL_SECONDS", "60"))
FILES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "finetune_files")
COMMON = {
    "aws_conn_id": "{{ params.aws_conn_id }}",
    "role": "{{ params.role_arn }}",
    "model_package_group": "{{ params.model_package_group }}",
    "s3_output_path": "s3://{{ params.bucket }}/finetune/output",
    "poll_interval": POLL_SECONDS,
    "retries": 2,
}

with DAG(
    dag_id="smtrain_finetune",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["example", "smtrain", "fine-tuning"],
    doc_md=__doc__,
    params={
        "aws_conn_id": "aws_default",
        "bucket": "smtrain-demo",
        "role_arn": "arn:aws:iam::123456789012:role/SageMakerTrainingRole",
        "lambda_role_arn": "arn:aws:iam::123456789012:role/RewardLambdaRole",
        "model": "huggingface-llm-qwen2-5-7b-instruct",
        "model_package_group": "smtrain-finetuned",
    },
) as dag:
    dataset = CreateDataSetOperator(
        task_id="register_dataset",
        aws_conn_id="{{ params.aws_conn_id }}",
        name="smtrain-sft-arithmetic",
        source="finetune_files/sft_train.jsonl",
        customization_technique="sft",
        default_bucket="{{ params.bucket }}",
        poll_interval=5,
    )
    reward = CreateEvaluatorOperator(
        task_id="register_reward",
        aws_conn_id="{{ params.aws_conn_id }}",
        name="smtrain-arithmetic-reward",
        type="RewardFunction",
        source="finetune_files/reward.py",
        role="{{ params.lambda_role_arn }}",
        default_bucket="{{ params.bucket }}",
        poll_interval=5,
    )

    @task
    def stage_data(params: dict | None = None) -> dict:
        """Copy the DPO and RLVR records to S3 (in practice they are there already)."""
        from airflow_provider_smtrain.hooks.sagemaker_train import SageMakerTrainHook

        assert params is not None
        s3 = SageMakerTrainHook(aws_conn_id=params["aws_conn_id"]).client("s3")
        uris = {}
        for kind in ("dpo", "rl"):
            key = f"finetune/data/{kind}/train.jsonl"
            with open(os.path.join(FILES, f"{kind}_train.jsonl"), "rb") as records:
                s3.put_object(Bucket=params["bucket"], Key=key, Body=records.read())
            uris[kind] = f"s3://{params['bucket']}/{key}"
        return uris

    staged = stage_data()

    sft = SFTTrainerOperator(
        task_id="sft",
        model="{{ params.model }}",
        training_type="LORA",
        training_dataset=dataset.output,  # the registered dataset's ARN
        hyperparameters={"learning_rate": 2e-4, "max_epochs": 1, "lora_rank": 16},
        **COMMON,
    )
    dpo = DPOTrainerOperator(
        task_id="dpo",
        model=sft.output,  # the SFT result: its fine-tuned model package is trained further
        training_dataset="{{ ti.xcom_pull(task_ids='stage_data')['dpo'] }}",
        hyperparameters={"beta": 0.1},
        **COMMON,
    )
    rlvr = RLVRTrainerOperator(
        task_id="rlvr",
        model=dpo.output,
        training_dataset="{{ ti.xcom_pull(task_ids='stage_data')['rl'] }}",
        custom_reward_function=reward.output,  # the registered reward function evaluator
        **COMMON,
    )

    staged >> dpo
    staged >> rlvr

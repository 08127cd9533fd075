"""Fine-tune, evaluate against the base model, deploy only if better.

``register_dataset`` → ``sft`` (LoRA) → ``benchmark`` and ``judge`` in parallel → ``gate`` → ``approve`` →
``deploy``, or ``gate`` → ``reject``:

* ``register_dataset`` registers ``finetune_files/sft_train.jsonl`` in the SageMaker AI Registry.
* ``sft`` fine-tunes ``model`` with LoRA; the fine-tuned model is registered in ``model_package_group``.
* ``benchmark`` evaluates the fine-tuned model on ``benchmark`` (``BenchMarkEvaluator``) and ``judge``
  has a Bedrock judge model score its answers to ``evaluation_files/judge_prompts.jsonl``
  (``LLMAsJudgeEvaluator``). Both evaluate the base model side by side (``evaluate_base_model``), so
  every metric comes with the base value and the delta.
* ``gate`` judges both results against ``thresholds`` (by default: no overall metric is worse than the
  base model's, and the judge's Correctness is at least 0.5), logs a table of every check, and follows
  ``approve`` when they all pass, ``reject`` otherwise.
* ``approve`` approves the fine-tuned model package version; ``deploy`` deploys it to ``endpoint_name``
  (created, or updated to the new version) and waits until it is ``InService``.

Every SageMaker task waits in the triggerer and re-attaches to its job on a retry. Trigger with
``{"thresholds": {...}}`` to change the gate (see ``EvaluationGateOperator`` in ``docs/operators.md``).
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from airflow.sdk import DAG, task

from airflow_provider_smtrain.operators.deploy import DeployModelOperator
from airflow_provider_smtrain.operators.evaluation import (
    BenchMarkEvaluatorOperator,
    LLMAsJudgeEvaluatorOperator,
)
from airflow_provider_smtrain.operators.finetune import SFTTrainerOperator
from airflow_provider_smtrain.operators.gate import EvaluationGateBranchOperator
from airflow_provider_smtrain.operators.model_package import ApproveModelPackageOperator
from airflow_provider_smtrain.operators.registry import CreateDataSetOperator

POLL_SECONDS = float(os.environ.get("SMTRAIN_EXAMPLE_POLL_SECONDS", "60"))
HERE = os.path.dirname(os.path.abspath(__file__))
CONNECTION = {"aws_conn_id": "{{ params.aws_conn_id }}", "poll_interval": POLL_SECONDS, "retries": 2}
EVALUATION = {**CONNECTION, "role": "{{ params.role_arn }}", "evaluate_base_model": True}

with DAG(
    dag_id="smtrain_finetune_evaluate_deploy",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["example", "smtrain", "fine-tuning", "evaluation", "deployment"],
    doc_md=__doc__,
    params={
        "aws_conn_id": "aws_default",
        "bucket": "smtrain-demo",
        "role_arn": "arn:aws:iam::123456789012:role/SageMakerTrainingRole",
        "model": "huggingface-llm-qwen2-5-7b-instruct",
        "model_package_group": "smtrain-finetuned",
        "benchmark": "mmlu",
        "judge_model": "anthropic.claude-3-5-haiku-20241022-v1:0",
        "endpoint_name": "smtrain-finetuned",
        "thresholds": {"*/all/*": {"min_delta": 0.0}, "Correctness": {"min": 0.5}},
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

    @task
    def stage_judge_prompts(params: dict[str, Any] | None = None) -> str:
        """Copy the judge's prompts to S3 (in practice they are there already)."""
        from airflow_provider_smtrain.hooks.sagemaker_train import SageMakerTrainHook

        assert params is not None
        key = "evaluation/data/judge_prompts.jsonl"
        s3 = SageMakerTrainHook(aws_conn_id=params["aws_conn_id"]).client("s3")
        with open(os.path.join(HERE, "evaluation_files", "judge_prompts.jsonl"), "rb") as prompts:
            s3.put_object(Bucket=params["bucket"], Key=key, Body=prompts.read())
        return f"s3://{params['bucket']}/{key}"

    sft = SFTTrainerOperator(
        task_id="sft",
        model="{{ params.model }}",
        training_type="LORA",
        training_dataset=dataset.output,
        hyperparameters={"learning_rate": 2e-4, "max_epochs": 1, "lora_rank": 16},
        role="{{ params.role_arn }}",
        model_package_group="{{ params.model_package_group }}",
        s3_output_path="s3://{{ params.bucket }}/finetune/output",
        **CONNECTION,
    )
    benchmark = BenchMarkEvaluatorOperator(
        task_id="benchmark",
        model=sft.output,  # the SFT result: its fine-tuned model package, against its base model
        benchmark="{{ params.benchmark }}",
        s3_output_path="s3://{{ params.bucket }}/evaluation/benchmark",
        **EVALUATION,
    )
    judge = LLMAsJudgeEvaluatorOperator(
        task_id="judge",
        model=sft.output,
        evaluator_model="{{ params.judge_model }}",
        dataset=stage_judge_prompts(),
        builtin_metrics=["Correctness", "Helpfulness"],
        s3_output_path="s3://{{ params.bucket }}/evaluation/judge",
        **EVALUATION,
    )
    gate = EvaluationGateBranchOperator(
        task_id="gate",
        results=[benchmark.output, judge.output],
        thresholds="{{ params.thresholds | tojson }}",
        pass_task_ids="approve",
        fail_task_ids="reject",
    )
    approve = ApproveModelPackageOperator(
        task_id="approve",
        model_package_arn=sft.output,
        approval_description="passed the evaluation gate of {{ dag.dag_id }} run {{ run_id }}",
        aws_conn_id="{{ params.aws_conn_id }}",
    )
    deploy = DeployModelOperator(
        task_id="deploy",
        endpoint_name="{{ params.endpoint_name }}",
        role="{{ params.role_arn }}",
        model_package_arn=sft.output,
        instance_type="ml.g5.2xlarge",
        **CONNECTION,
    )

    @task
    def reject(gate_result: dict[str, Any]) -> list[str]:
        """The fine-tuned model stays unapproved: list the checks it failed."""
        failed = [f"{c['address']} {c['side']} {c['bound']}" for c in gate_result["checks"] if not c["passed"]]
        print(f"Not deployed: {len(failed)} failed check(s): {', '.join(failed)}")
        return failed

    gate >> [approve, reject(gate.output)]
    approve >> deploy

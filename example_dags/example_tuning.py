"""Hyperparameter tuning with the SageMaker SDK v3 HyperparameterTuner, then report the best job.

``tune`` starts one tuning job (deferrable, re-attaching on retry); ``report`` prints the best training
job, its hyperparameters, objective value and model artifacts from the operator's JSON result.
"""

from __future__ import annotations

import os
from datetime import datetime

from airflow.sdk import DAG, task

from airflow_provider_smtrain.operators.tuner import HyperparameterTunerOperator

POLL_SECONDS = float(os.environ.get("SMTRAIN_EXAMPLE_POLL_SECONDS", "30"))

with DAG(
    dag_id="smtrain_tuning",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["example", "smtrain"],
    doc_md=__doc__,
    params={
        "aws_conn_id": "aws_default",
        "bucket": "smtrain-demo",
        "role_arn": "arn:aws:iam::123456789012:role/SageMakerTrainingRole",
        "training_image": "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.5-cpu-py311",
    },
) as dag:
    tune = HyperparameterTunerOperator(
        task_id="tune",
        aws_conn_id="{{ params.aws_conn_id }}",
        trainer={
            "role": "{{ params.role_arn }}",
            "training_image": "{{ params.training_image }}",
            "output_path": "s3://{{ params.bucket }}/tuning",
            "source_code": {"source_dir": "model_trainer_src", "entry_script": "train.py"},
            "input_data": {"train": "s3://{{ params.bucket }}/data/train/"},
            "compute": {"instance_type": "ml.m5.large"},
            "hyperparameters": {"epochs": 100},
        },
        objective_metric_name="train:loss",
        objective_type="Minimize",
        metric_definitions=[{"name": "train:loss", "regex": "train:loss=([0-9\\.]+)"}],
        hyperparameter_ranges={
            "learning_rate": {"type": "continuous", "min_value": 0.001, "max_value": 0.1, "scaling_type": "Logarithmic"},
            "epochs": {"type": "integer", "min_value": 50, "max_value": 300},
        },
        strategy="Random",
        max_jobs=4,
        max_parallel_jobs=2,
        poll_interval=POLL_SECONDS,
        retries=2,
    )

    @task
    def report(result: dict) -> dict:
        """Print the best training job of the tuning job."""
        best = result["best_training_job"] or {}
        print(f"tuning job {result['job_name']} {result['status']}: best {best.get('job_name')}")
        print(f"  objective {best.get('objective_metric')} = {best.get('objective_value')}")
        print(f"  hyperparameters {best.get('hyperparameters')}")
        return {"best_job": best.get("job_name"), "objective_value": best.get("objective_value")}

    report(tune.output)

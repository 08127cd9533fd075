"""Train → evaluate → deploy with the SageMaker SDK v3 ModelTrainer.

* ``train`` runs ``model_trainer_src/train.py`` as one SageMaker training job (deferrable: the wait
  happens in the triggerer; a retry re-attaches to the running job instead of starting another).
* ``evaluate`` reads the job's final metrics from the operator's JSON result and decides.
* ``gate`` stops the run when the model is not good enough.
* ``deploy`` (``DeployModelOperator``) serves the training job's model artifacts with the inference
  image on the endpoint ``endpoint_name``: it creates the endpoint, or updates it to a new endpoint
  config when it exists, and waits (deferrably) until it is ``InService``. A retry re-attaches to its
  own deployment instead of creating a second one (``docs/deploy.md``).

``tests/integration/test_example_dags.py`` runs it end to end through a real Airflow against the local
SageMaker, which runs the real ``train.py`` (``./scripts/demo`` runs the fine-tune example,
``smtrain_finetune_evaluate_deploy``).
"""

from __future__ import annotations

import os
from datetime import datetime

from airflow.sdk import DAG, task

from airflow_provider_smtrain.operators.deploy import DeployModelOperator
from airflow_provider_smtrain.operators.model_trainer import ModelTrainerOperator

POLL_SECONDS = float(os.environ.get("SMTRAIN_EXAMPLE_POLL_SECONDS", "30"))

with DAG(
    dag_id="smtrain_train_evaluate_deploy",
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
        "inference_image": "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.5-cpu-py311",
        "endpoint_name": "smtrain-demo-regression",
        "epochs": 200,
        "max_loss": 0.05,
    },
) as dag:
    train = ModelTrainerOperator(
        task_id="train",
        aws_conn_id="{{ params.aws_conn_id }}",
        role="{{ params.role_arn }}",
        training_image="{{ params.training_image }}",
        output_path="s3://{{ params.bucket }}/models",
        source_code={"source_dir": "model_trainer_src", "entry_script": "train.py"},
        input_data={"train": "s3://{{ params.bucket }}/data/train/"},
        hyperparameters={"epochs": "{{ params.epochs }}", "learning_rate": 0.2},
        compute={"instance_type": "ml.m5.large", "instance_count": 1},
        stopping_condition={"max_runtime_in_seconds": 3600},
        metric_definitions=[
            {"name": "train:loss", "regex": "train:loss=([0-9\\.]+)"},
            {"name": "train:rmse", "regex": "train:rmse=([0-9\\.]+)"},
        ],
        poll_interval=POLL_SECONDS,
        retries=2,
    )

    @task
    def evaluate(result: dict, params: dict | None = None) -> dict:
        """Judge the trained model by the metrics SageMaker recorded for the job."""
        assert params is not None
        loss = result["final_metrics"].get("train:loss")
        passed = loss is not None and loss <= float(params["max_loss"])
        print(f"job {result['job_name']}: train:loss={loss} (max {params['max_loss']}) -> passed={passed}")
        return {"passed": passed, "loss": loss}

    @task.short_circuit
    def gate(verdict: dict) -> bool:
        """Deploy only models that passed."""
        return bool(verdict["passed"])

    deploy = DeployModelOperator(
        task_id="deploy",
        aws_conn_id="{{ params.aws_conn_id }}",
        endpoint_name="{{ params.endpoint_name }}",
        role="{{ params.role_arn }}",
        model_data_url=train.output,  # the whole training result: its model_artifacts is deployed
        image="{{ params.inference_image }}",
        instance_type="ml.m5.large",
        poll_interval=POLL_SECONDS,
        retries=2,
    )

    gate(evaluate(train.output)) >> deploy

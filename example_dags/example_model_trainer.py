"""Train → evaluate → deploy with the SageMaker SDK v3 ModelTrainer.

* ``train`` runs ``model_trainer_src/train.py`` as one SageMaker training job (deferrable: the wait
  happens in the triggerer; a retry re-attaches to the running job instead of starting another).
* ``evaluate`` reads the job's final metrics from the operator's JSON result and decides.
* ``gate`` stops the run when the model is not good enough.
* ``deploy`` registers the model artifacts as a SageMaker model behind an endpoint.

Run it against the local SageMaker with ``./scripts/demo`` (see README.md).
"""

from __future__ import annotations

import os
from datetime import datetime

from airflow.sdk import DAG, task

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
        return {"passed": passed, "loss": loss, "model_artifacts": result["model_artifacts"]}

    @task.short_circuit
    def gate(verdict: dict) -> bool:
        """Deploy only models that passed."""
        return bool(verdict["passed"])

    @task
    def deploy(result: dict, params: dict | None = None) -> dict:
        """Create (or find) a SageMaker model, endpoint config and endpoint for the artifacts."""
        from airflow_provider_smtrain.hooks.sagemaker_train import SageMakerTrainHook

        assert params is not None
        client = SageMakerTrainHook(aws_conn_id=params["aws_conn_id"]).sagemaker_client
        name = result["job_name"]
        existing = client.list_endpoints(NameContains=name)["Endpoints"]
        if not existing:
            client.create_model(
                ModelName=name,
                PrimaryContainer={"Image": params["training_image"], "ModelDataUrl": result["model_artifacts"]},
                ExecutionRoleArn=params["role_arn"],
            )
            client.create_endpoint_config(
                EndpointConfigName=name,
                ProductionVariants=[
                    {"VariantName": "main", "ModelName": name, "InstanceType": "ml.m5.large", "InitialInstanceCount": 1}
                ],
            )
            client.create_endpoint(EndpointName=name, EndpointConfigName=name)
        endpoint = client.describe_endpoint(EndpointName=name)
        return {"endpoint_name": name, "endpoint_arn": endpoint["EndpointArn"], "status": endpoint["EndpointStatus"]}

    verdict = evaluate(train.output)
    gate(verdict) >> deploy(train.output)

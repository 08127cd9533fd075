"""Shared set-up of the evaluator operator tests: an eval dataset, a tuned model package, operator builders."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.sdk import DAG

from tests.operators.conftest import Env

MODEL = "meta-textgeneration-llama-3-2-1b-instruct"
GROUP = "eval-models"
JUDGE = "anthropic.claude-3-5-haiku-20241022-v1:0"
AGENT = "arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/my-agent-abc123"
EVAL_RECORDS = b'{"query": "2+2?", "response": "4"}\n{"query": "3+3?", "response": "6"}\n'


def prepare(env: Env) -> str:
    """The evaluation dataset in S3 and a model package fine-tuned from :data:`MODEL`; returns the package ARN."""
    env.sm.put_object(env.bucket, "eval/data.jsonl", EVAL_RECORDS)
    env.sm.put_object(env.bucket, "tuned/weights/adapter.safetensors", b"weights")
    client = env.sm.boto3_client("sagemaker")
    client.create_model_package_group(ModelPackageGroupName=GROUP)
    container = {
        "ModelDataSource": {"S3DataSource": {"S3Uri": f"s3://{env.bucket}/tuned/weights/", "S3DataType": "S3Prefix",
                                             "CompressionType": "None"}},
        "BaseModel": {"HubContentName": MODEL, "HubContentVersion": "1.3.0"},
    }
    arn: str = client.create_model_package(
        ModelPackageGroupName=GROUP, InferenceSpecification={"Containers": [container]}
    )["ModelPackageArn"]
    env.sm.clear_requests()
    return arn


def dataset(env: Env) -> str:
    """The S3 URI of the evaluation records."""
    return f"s3://{env.bucket}/eval/data.jsonl"


def build(operator_class: type[Any], env: Env, task_id: str = "evaluate", **arguments: Any) -> Any:
    """An evaluator operator in a DAG, on the local SageMaker connection, blocking unless told."""
    options = {"deferrable": False, "poll_interval": 0.2}
    for key in ("deferrable", "poll_interval", "max_wait", "wait_for_completion", "stop_job_on_kill", "retries"):
        if key in arguments:
            options[key] = arguments.pop(key)
    defaults: dict[str, Any] = {"role": env.role_arn, "model": MODEL, "s3_output_path": f"s3://{env.bucket}/eval-out"}
    with DAG(dag_id="dag", schedule=None, start_date=datetime(2026, 1, 1)):
        return operator_class(task_id=task_id, aws_conn_id=env.conn_id, **options, **{**defaults, **arguments})


def operations(env: Env) -> list[str]:
    """The operations of the request log, in order (the local control API left out)."""
    return [r["operation"] for r in env.sm.requests() if r["service"] != "local"]

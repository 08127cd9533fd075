"""Shared set-up of the fine-tuning operator tests: datasets, a model package group, operator builders."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.sdk import DAG

from tests.operators.conftest import Env

MODEL = "meta-textgeneration-llama-3-2-1b-instruct"
RL_MODEL = "huggingface-llm-qwen2-5-7b-instruct"
GROUP = "ft-models"
LAMBDA_ARN = "arn:aws:lambda:us-east-1:123456789012:function:my_reward-fn"
MLFLOW_ARN = "arn:aws:sagemaker:us-east-1:123456789012:mlflow-app/app-ABC123"

SFT_RECORDS = b'{"prompt": "2+2?", "completion": "4"}\n{"prompt": "3+3?", "completion": "6"}\n'
DPO_RECORDS = b'{"prompt": "2+2?", "chosen": "4", "rejected": "5"}\n'
RL_RECORDS = b'{"prompt": "2+2?", "samples": [{"completion": "4"}], "answer": "4"}\n'


def prepare(env: Env) -> None:
    """Datasets in S3 and the model package group; the request log starts empty afterwards."""
    env.sm.put_object(env.bucket, "ft/sft/train.jsonl", SFT_RECORDS)
    env.sm.put_object(env.bucket, "ft/dpo/train.jsonl", DPO_RECORDS)
    env.sm.put_object(env.bucket, "ft/rl/train.jsonl", RL_RECORDS)
    env.sm.boto3_client("sagemaker").create_model_package_group(ModelPackageGroupName=GROUP)
    env.sm.clear_requests()


def data(env: Env, kind: str) -> str:
    """The S3 URI of the ``sft``, ``dpo`` or ``rl`` training records."""
    return f"s3://{env.bucket}/ft/{kind}/train.jsonl"


def build(operator_class: type[Any], env: Env, task_id: str = "train", **arguments: Any) -> Any:
    """A fine-tuning operator in a DAG, on the local SageMaker connection, blocking unless told."""
    options = {"deferrable": False, "poll_interval": 0.2}
    for key in ("deferrable", "poll_interval", "max_wait", "wait_for_completion"):
        if key in arguments:
            options[key] = arguments.pop(key)
    defaults: dict[str, Any] = {
        "role": env.role_arn,
        "model_package_group": GROUP,
        "s3_output_path": f"s3://{env.bucket}/ft-out",
    }
    with DAG(dag_id="dag", schedule=None, start_date=datetime(2026, 1, 1)):
        return operator_class(task_id=task_id, aws_conn_id=env.conn_id, **options, **{**defaults, **arguments})


def operations(env: Env) -> list[str]:
    """The operations of the request log, in order (the local control API left out)."""
    return [r["operation"] for r in env.sm.requests() if r["service"] != "local"]


def in_order(sequence: list[str], expected: list[str]) -> bool:
    """Whether ``expected`` appears in ``sequence`` as a subsequence (in that order)."""
    position = iter(sequence)
    return all(any(item == wanted for item in position) for wanted in expected)


REWARD_HANDLER = '''
import json


def lambda_handler(event, context):
    scores = [
        {"id": sample.get("id", index), "aggregate_reward_score": 1.0 if "4" in json.dumps(sample) else 0.0}
        for index, sample in enumerate(event)
    ]
    return {"statusCode": 200, "body": json.dumps(scores)}
'''


def create_reward_lambda(env: Env, name: str = "my_reward-fn") -> str:
    """A Lambda reward function on the local SageMaker, created with the test client's own key."""
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("reward.py", REWARD_HANDLER)
    arn: str = env.sm.boto3_client("lambda").create_function(
        FunctionName=name, Runtime="python3.12", Role=env.role_arn, Handler="reward.lambda_handler",
        Code={"ZipFile": buffer.getvalue()}, Timeout=10,
    )["FunctionArn"]
    env.sm.clear_requests()
    return arn

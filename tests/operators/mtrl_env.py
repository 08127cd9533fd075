"""The world of the MultiTurnRL operator tests in the local SageMaker (a prompt dataset, an AgentCore runtime, two
model package groups) and an operator factory."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.sdk import DAG

from airflow_provider_smtrain.operators.multi_turn_rl import MultiTurnRLTrainerOperator
from tests.operators.conftest import Env

MODEL = "huggingface-llm-qwen2-5-7b-instruct"
MODEL_VERSION = "1.1.0"
TASK_OPTIONS = (
    "max_wait",
    "stop_job_on_kill",
    "poll_interval",
    "wait_for_completion",
    "execution_timeout",
    "region_name",
)


def prepare(env: Env) -> dict[str, Any]:
    """An agent runtime, a prompt dataset and two model package groups in the local SageMaker."""
    env.sm.put_object(env.bucket, "prompts/train.jsonl", b'{"prompt": "Book a flight to Paris"}\n')
    agentcore = env.sm.boto3_client("bedrock-agentcore-control")
    runtime = agentcore.create_agent_runtime(
        agentRuntimeName="travelAgent",
        agentRuntimeArtifact={
            "containerConfiguration": {"containerUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/a:1"}
        },
        roleArn=env.role_arn,
        networkConfiguration={"networkMode": "PUBLIC"},
    )
    sagemaker = env.sm.boto3_client("sagemaker")
    for group in ("agents-out", "agents-checkpoints"):
        sagemaker.create_model_package_group(ModelPackageGroupName=group)
    env.sm.clear_requests()
    return {"runtime_id": runtime["agentRuntimeId"], "runtime_arn": runtime["agentRuntimeArn"]}


def mtrl_args(env: Env, mtrl: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "model": MODEL,
        "agent_env": mtrl["runtime_arn"],
        "role": env.role_arn,
        "training_dataset": f"s3://{env.bucket}/prompts/",
        "s3_output_path": f"s3://{env.bucket}/mtrl",
        "output_model_package_group": "agents-out",
        "intermediate_checkpoint_model_package_group": "agents-checkpoints",
    }
    args.update(overrides)
    return {k: v for k, v in args.items() if v is not None}


def make_operator(
    env: Env,
    mtrl: dict[str, Any],
    *,
    deferrable: bool = False,
    cls: type = MultiTurnRLTrainerOperator,
    **overrides: Any,
) -> MultiTurnRLTrainerOperator:
    options = {key: overrides.pop(key) for key in TASK_OPTIONS if key in overrides}
    options.setdefault("poll_interval", 0.2)
    with DAG(dag_id="dag", schedule=None, start_date=datetime(2026, 1, 1)):
        operator: MultiTurnRLTrainerOperator = cls(
            task_id="agent_rft",
            aws_conn_id=env.conn_id,
            deferrable=deferrable,
            **options,
            **mtrl_args(env, mtrl, **overrides),
        )
    return operator


def creates(env: Env) -> list[dict[str, Any]]:
    return env.sm.requests(operation="CreateJob")


def describe(env: Env, name: str) -> dict[str, Any]:
    response: dict[str, Any] = env.sm.boto3_client("sagemaker").describe_job(
        JobName=name, JobCategory="AgentRFT"
    )
    return response

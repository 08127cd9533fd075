"""Helpers for the pipeline tests: the SDK's evaluation templates rendered as the evaluators render them."""

from __future__ import annotations

import json
from typing import Any

from airflow_provider_smtrain.testing.client import LocalSageMaker

REGION = "us-east-1"
ACCOUNT = "123456789012"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/SageMakerRole"
BASE_MODEL_ARN = (
    f"arn:aws:sagemaker:{REGION}:aws:hub-content/SageMakerPublicHub/Model/meta-textgeneration-llama-3-2-1b-instruct/1.3.0"
)
EVAL_TAG = [{"Key": "SagemakerModelEvaluation", "Value": "true"}]


def context(bucket: str, **overrides: Any) -> dict[str, Any]:
    """
    The template context the evaluators build (base model + fine-tuned package, MMLU with two subtasks).

    :param bucket: Output bucket.
    :param overrides: Changed or extra keys.
    """
    values: dict[str, Any] = {
        "role_arn": ROLE_ARN,
        "mlflow_resource_arn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:mlflow-app/app-LOCAL",
        "model_package_group_arn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package-group/tuned",
        "source_model_package_arn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/tuned/1",
        "base_model_arn": BASE_MODEL_ARN,
        "s3_output_path": f"s3://{bucket}/eval/",
        "dataset_artifact_arn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:artifact/abc",
        "action_arn_prefix": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:action",
        "pipeline_name": "{{ pipeline_name }}",
        "task": "mmlu",
        "strategy": "zs_cot",
        "evaluation_metric": "accuracy",
        "evaluate_base_model": True,
        "subtask": "anatomy,astronomy",
        "judge_model_id": "anthropic.claude-3-5-haiku-20241022-v1:0",
        "llmaj_metrics": json.dumps(["Correctness", "Helpfulness"]),
        "max_new_tokens": "1024",
        "temperature": "0",
        "top_k": "-1",
        "top_p": "1.0",
        "dataset_uri": f"s3://{bucket}/data/eval.jsonl",
    }
    values.update(overrides)
    return values


def render(template_name: str, pipeline_name: str, ctx: dict[str, Any]) -> str:
    """
    A definition from ``sagemaker.train.evaluate.pipeline_templates`` rendered twice, as the SDK does.

    :param template_name: e.g. ``DETERMINISTIC_TEMPLATE``.
    :param pipeline_name: The pipeline's name.
    :param ctx: Template context.
    """
    from jinja2 import Template
    from sagemaker.train.evaluate import pipeline_templates

    first = Template(getattr(pipeline_templates, template_name)).render(**ctx)
    return Template(first).render(pipeline_name=pipeline_name)


def create(sm: LocalSageMaker, client: Any, name: str, template_name: str, bucket: str, **overrides: Any) -> str:
    """
    Create an evaluation pipeline; return its definition.

    :param sm: The local SageMaker.
    :param client: Its SageMaker client.
    :param name: Pipeline name.
    :param template_name: SDK template.
    :param bucket: Output bucket.
    :param overrides: Template context changes.
    """
    definition = render(template_name, name, context(bucket, **overrides))
    client.create_pipeline(PipelineName=name, PipelineDefinition=definition, RoleArn=ROLE_ARN, Tags=EVAL_TAG)
    return definition


def token(n: int) -> str:
    """A ClientRequestToken (32+ characters)."""
    return f"{n:032d}"


def steps(client: Any, arn: str) -> dict[str, dict[str, Any]]:
    """The execution's steps by name."""
    listed = client.list_pipeline_execution_steps(PipelineExecutionArn=arn)["PipelineExecutionSteps"]
    return {s["StepName"]: s for s in listed}


def status(client: Any, arn: str) -> str:
    """PipelineExecutionStatus."""
    return str(client.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"])


def read_json(s3: Any, bucket: str, key: str) -> Any:
    """An S3 object's JSON."""
    return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


def keys(s3: Any, bucket: str, prefix: str) -> list[str]:
    """Every key under a prefix."""
    return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])]

"""Read an evaluation's steps, step jobs and result files with the hook's clients (signed by the Airflow connection).

The SDK's ``show_results()`` reads the same files with ``boto3.client("s3")`` (the ambient credentials) and
only prints them; these functions read them through the clients they are given, and
:func:`~airflow_provider_smtrain.jobs.evaluation_results.evaluation_result` turns them into the documented result.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_smtrain.jobs.evaluation_results import (
    RESULT_STEPS,
    is_result_file,
    result_prefixes,
    step_summary,
)

__all__ = ["describe_result_jobs", "list_execution_steps", "read_result_files"]


def list_execution_steps(sagemaker_client: Any, execution_arn: str) -> list[dict[str, Any]]:
    """
    Every step of a pipeline execution (``ListPipelineExecutionSteps``, all pages).

    :param sagemaker_client: a boto3 SageMaker client.
    :param execution_arn: the pipeline execution ARN.
    """
    steps: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"PipelineExecutionArn": execution_arn}
    while True:
        page = sagemaker_client.list_pipeline_execution_steps(**kwargs)
        steps.extend(page.get("PipelineExecutionSteps") or [])
        if not page.get("NextToken"):
            return steps
        kwargs["NextToken"] = page["NextToken"]


def describe_result_jobs(
    sagemaker_client: Any, steps: list[dict[str, Any]], evaluation_type: str
) -> dict[str, dict[str, Any]]:
    """
    ``{"base"|"tuned": DescribeTrainingJob}`` of the training jobs that wrote each side's results.

    :param sagemaker_client: a boto3 SageMaker client.
    :param steps: ``ListPipelineExecutionSteps``' step summaries.
    :param evaluation_type: the evaluation type (``benchmark``...).
    """
    by_step = {row["name"]: row["job_arn"] for row in step_summary(steps)}
    describes = {}
    for side, step in RESULT_STEPS[evaluation_type].items():
        arn = by_step.get(step)
        if arn and ":training-job/" in arn:
            describes[side] = sagemaker_client.describe_training_job(TrainingJobName=arn.rsplit("/", 1)[-1])
    return describes


def _split(uri: str) -> tuple[str, str]:
    if not uri.startswith("s3://"):
        raise ValueError(f"s3_output_path: {uri!r} is not an s3:// URI")
    bucket, _, key = uri[5:].partition("/")
    return bucket, key


def read_result_files(
    s3_client: Any, steps: list[dict[str, Any]], s3_output_path: str, evaluation_type: str
) -> dict[str, bytes]:
    """
    ``{s3 uri: bytes}`` of each side's result file, found where the SDK's ``show_results()`` looks.

    Under ``{s3_output_path}/{training job}/output/output/``, the first ``results_*.json`` (benchmark,
    custom scorer) or ``<bedrock job>/bedrock_llm_judge_results.json`` (LLM-as-judge) in key order.
    A side whose file is missing is left out (the result then has no values for that side).

    :param s3_client: a boto3 S3 client.
    :param steps: ``ListPipelineExecutionSteps``' step summaries.
    :param s3_output_path: the evaluation's output path.
    :param evaluation_type: the evaluation type (``benchmark``...).
    """
    _split(s3_output_path)
    files: dict[str, bytes] = {}
    for prefix in result_prefixes(steps, s3_output_path, evaluation_type).values():
        bucket, key_prefix = _split(prefix)
        keys: list[str] = []
        for page in s3_client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=key_prefix):
            keys.extend(item["Key"] for item in page.get("Contents") or [])
        chosen = next((key for key in sorted(keys) if is_result_file(key, evaluation_type)), None)
        if chosen is not None:
            body = s3_client.get_object(Bucket=bucket, Key=chosen)["Body"].read()
            files[f"s3://{bucket}/{chosen}"] = body
    return files

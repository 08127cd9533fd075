"""A pipeline execution's result from its describe alone, until the full evaluation result reads steps and files.

Same top-level keys as the evaluation result of ``docs/outputs.md`` (``metrics`` and ``summary`` empty,
``steps`` empty): what a sensor or a catalog lookup can say without listing steps or reading S3.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow_provider_smtrain.jobs.console import console_url
from airflow_provider_smtrain.jobs.kinds import PIPELINE_EXECUTION, pipeline_execution_parts

#: SDK pipeline name prefix -> evaluation type.
_TYPES = {
    "SagemakerEvaluation-BenchmarkEvaluation": "benchmark",
    "SagemakerEvaluation-CustomScorerEvaluation": "custom_scorer",
    "SagemakerEvaluation-LLMAJEvaluation": "llm_as_judge",
    "SagemakerEvaluation-MTRLEvaluation": "multi_turn_rl",
}


def _iso(value: Any) -> str | None:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value) if value not in (None, "") else None


def evaluation_type_of(pipeline_name: str) -> str | None:
    """
    The evaluation type a pipeline name says (by the SDK's prefix), or None.

    :param pipeline_name: the pipeline name.
    """
    for prefix, kind in _TYPES.items():
        if pipeline_name.startswith(prefix):
            return kind
    return None


def pipeline_execution_result(describe: dict[str, Any], region: str) -> dict[str, Any]:
    """
    The evaluation result of a pipeline execution from its describe (no steps, no metrics).

    :param describe: the ``DescribePipelineExecution`` response.
    :param region: the AWS region of the execution.
    """
    arn = str(describe.get("PipelineExecutionArn") or "")
    parts = pipeline_execution_parts(arn)
    status = describe.get("PipelineExecutionStatus")
    return {
        "kind": PIPELINE_EXECUTION.name,
        "job_name": arn,
        "evaluation_type": evaluation_type_of(parts["pipeline"]),
        "execution_arn": arn,
        "pipeline_name": parts["pipeline"],
        "status": status,
        "failure_reason": PIPELINE_EXECUTION.failure_reason(describe),
        "failed_step": None,
        "steps": [],
        "s3_output_path": None,
        "report_s3_uris": {"base": None, "tuned": None},
        "mlflow": None,
        "console_url": console_url(PIPELINE_EXECUTION, arn, region),
        "creation_time": _iso(describe.get("CreationTime")),
        "end_time": _iso(describe.get("LastModifiedTime")) if status in ("Succeeded", "Failed", "Stopped", "CompletedWithFailures") else None,
        "model": None,
        "benchmark": None,
        "metrics": [],
        "summary": {},
    }

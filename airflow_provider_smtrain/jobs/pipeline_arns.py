"""What a SageMaker pipeline execution ARN tells: its pipeline and its execution id. Pure code.

``arn:aws:sagemaker:<region>:<account>:pipeline/<name>/execution/<id>``: the console URL of an execution
needs both parts; coalesced status reads list one pipeline's executions, so they need the pipeline.
"""

from __future__ import annotations

__all__ = ["pipeline_execution_parts", "pipeline_of"]


def pipeline_execution_parts(arn: str) -> dict[str, str]:
    """
    The pipeline name and execution id in a pipeline execution ARN (``...:pipeline/<name>/execution/<id>``).

    :param arn: the pipeline execution ARN.
    """
    pipeline, _, execution = arn.split(":pipeline/", 1)[-1].partition("/execution/")
    return {"pipeline": pipeline, "execution": execution or arn}


def pipeline_of(arn: str) -> str | None:
    """
    The pipeline name in a pipeline execution ARN
    (``arn:aws:sagemaker:<region>:<account>:pipeline/<name>/execution/<id>``), or None if it is not one.

    :param arn: the pipeline execution ARN.
    """
    if not arn.startswith("arn:") or ":pipeline/" not in arn:
        return None
    pipeline, found, execution = arn.split(":pipeline/", 1)[1].partition("/execution/")
    return pipeline if found and pipeline and execution and "/" not in pipeline else None

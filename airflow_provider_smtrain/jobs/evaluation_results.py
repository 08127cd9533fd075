"""The result of a SageMaker evaluation (a pipeline execution of the SDK's evaluators), as documented JSON.

Pure parsing: no AWS, no SDK. The hook (:meth:`~airflow_provider_smtrain.hooks.sagemaker_train.SageMakerTrainHook.read_evaluation_files`)
reads the result files from S3; :func:`evaluation_result` turns the execution's describe, its steps and
those files into the result documented in ``docs/outputs.md`` (Evaluation result).

Where the files are and what they hold is what the SDK's ``show_results()`` reads
(``sagemaker/train/common_utils/show_results_utils.py``):

* benchmark and custom scorer: ``{s3_output_path}/{training_job}/output/output/**/results_<ts>.json``,
  ``{"results": {"all": {"<metric>": v, "<metric>_stderr": s}, "<subtask>": {...}}, ...}``; when there is
  no ``"all"``, the first non-empty entry holds the overall metrics (gen_qa and custom scorers);
* LLM-as-judge: ``{s3_output_path}/{training_job}/output/output/<bedrock_job>/bedrock_llm_judge_results.json``,
  ``{"results": {"<metric>": {"score": v, "std_deviation": s, "total_evaluations": n}}}``.

The training job of each side is the step's ``Metadata.TrainingJob.Arn`` in ``ListPipelineExecutionSteps``:
``EvaluateBaseModel``/``EvaluateCustomModel`` (benchmark, custom scorer), ``EvaluateBaseModelMetrics``/
``EvaluateCustomModelMetrics`` (LLM-as-judge).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from airflow_provider_smtrain.jobs.console import console_domain
from airflow_provider_smtrain.jobs.evaluation_table import format_metrics
from airflow_provider_smtrain.jobs.outputs import _mlflow, iso

__all__ = [
    "EVALUATION_TYPES",
    "RESULT_STEPS",
    "check_evaluation_type",
    "evaluation_result",
    "evaluation_type_of",
    "format_metrics",
    "is_result_file",
    "metric_rows",
    "pipeline_execution_result",
    "result_prefixes",
    "step_summary",
]

KIND = "pipeline_execution"
#: Accepted ``evaluation_type`` values.
EVALUATION_TYPES = ("benchmark", "custom_scorer", "llm_as_judge", "multi_turn_rl")
#: Per evaluation type: the step whose job wrote each side's results.
RESULT_STEPS: Mapping[str, Mapping[str, str]] = {
    "benchmark": {"base": "EvaluateBaseModel", "tuned": "EvaluateCustomModel"},
    "custom_scorer": {"base": "EvaluateBaseModel", "tuned": "EvaluateCustomModel"},
    "llm_as_judge": {"base": "EvaluateBaseModelMetrics", "tuned": "EvaluateCustomModelMetrics"},
    "multi_turn_rl": {"base": "EvaluateBaseModel", "tuned": "EvaluateFineTunedModel"},
}
#: The SDK's pipeline names are ``SagemakerEvaluation-<display name>-<uuid>``.
_PIPELINE_TYPES = {
    "BenchmarkEvaluation": "benchmark",
    "CustomScorerEvaluation": "custom_scorer",
    "LLMAJEvaluation": "llm_as_judge",
    "MTRLEvaluation": "multi_turn_rl",
}
LLMAJ_FILE = "bedrock_llm_judge_results.json"
_STDERR = "_stderr"


def check_evaluation_type(evaluation_type: str) -> str:
    """
    ``evaluation_type`` if it is one of :data:`EVALUATION_TYPES`, else a ``ValueError`` naming them.

    :param evaluation_type: the evaluation type to check.
    """
    if evaluation_type not in EVALUATION_TYPES:
        raise ValueError(f"evaluation_type: {evaluation_type!r} is not one of {', '.join(EVALUATION_TYPES)}")
    return evaluation_type


def evaluation_type_of(pipeline_name: str) -> str | None:
    """
    The evaluation type the SDK's pipeline name says (``SagemakerEvaluation-LLMAJEvaluation-<uuid>``), if any.

    :param pipeline_name: the pipeline name (or a pipeline or execution ARN).
    """
    name = pipeline_name.split(":pipeline/", 1)[-1].split("/", 1)[0]
    for display, evaluation_type in _PIPELINE_TYPES.items():
        if name.startswith(f"SagemakerEvaluation-{display}"):
            return evaluation_type
    return None


def _pipeline_name(describe: Mapping[str, Any]) -> str | None:
    arn = describe.get("PipelineArn") or describe.get("PipelineExecutionArn") or ""
    if ":pipeline/" not in arn:
        return None
    return str(arn.split(":pipeline/", 1)[1].split("/", 1)[0])


def execution_console_url(execution_arn: str, region: str) -> str:
    """
    SageMaker console page of a pipeline execution.

    :param execution_arn: ``arn:aws:sagemaker:<region>:<account>:pipeline/<name>/execution/<id>``.
    :param region: the AWS region of the execution.
    """
    pipeline, _, execution_id = execution_arn.split(":pipeline/", 1)[-1].partition("/execution/")
    return (
        f"https://{console_domain(region)}/sagemaker/home?region={region}"
        f"#/pipelines/{pipeline}/executions/{execution_id or execution_arn}"
    )


def _step_job_arn(step: Mapping[str, Any]) -> str | None:
    metadata = step.get("Metadata") or {}
    for key in ("TrainingJob", "Job", "ProcessingJob", "TransformJob", "TuningJob"):
        arn = (metadata.get(key) or {}).get("Arn")
        if arn:
            return str(arn)
    return None


def step_summary(steps: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """
    The steps of an execution, oldest first, from ``ListPipelineExecutionSteps``' ``PipelineExecutionSteps``.

    :param steps: the step summaries (any order; SageMaker lists the newest first).
    """
    rows = [
        {
            "name": step.get("StepName"),
            "status": step.get("StepStatus"),
            "start_time": iso(step.get("StartTime")),
            "end_time": iso(step.get("EndTime")),
            "failure_reason": step.get("FailureReason"),
            "job_arn": _step_job_arn(step),
        }
        for step in steps
    ]
    # ISO strings of one execution share a format; steps that never started go last
    return sorted(rows, key=lambda row: (row["start_time"] is None, row["start_time"] or ""))


def _side_jobs(steps: list[dict[str, Any]], evaluation_type: str) -> dict[str, str]:
    """``{side: training job name}`` of the steps that wrote each side's results."""
    by_step = {row["name"]: row["job_arn"] for row in steps if row["job_arn"]}
    return {
        side: by_step[step].rsplit("/", 1)[-1]
        for side, step in RESULT_STEPS[evaluation_type].items()
        if step in by_step
    }


def result_prefixes(
    steps: Iterable[Mapping[str, Any]], s3_output_path: str, evaluation_type: str
) -> dict[str, str]:
    """
    ``{"base"|"tuned": "s3://bucket/prefix/"}``: where each side's result files are (what to list).

    :param steps: ``ListPipelineExecutionSteps``' step summaries.
    :param s3_output_path: the evaluation's ``s3_output_path``.
    :param evaluation_type: one of :data:`EVALUATION_TYPES`.
    """
    jobs = _side_jobs(step_summary(steps), check_evaluation_type(evaluation_type))
    root = s3_output_path.rstrip("/")
    return {side: f"{root}/{job}/output/output/" for side, job in jobs.items()}


def is_result_file(key: str, evaluation_type: str) -> bool:
    """
    Whether an S3 key under a side's prefix is the result file the SDK reads for ``evaluation_type``.

    :param key: the S3 key (or URI).
    :param evaluation_type: one of :data:`EVALUATION_TYPES`.
    """
    filename = key.rsplit("/", 1)[-1]
    if check_evaluation_type(evaluation_type) == "llm_as_judge":
        return filename == LLMAJ_FILE and re.search(r"/output/output/[^/]+/", key) is not None
    return filename.startswith("results_") and filename.endswith(".json")


def _document(content: bytes | str | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(content, Mapping):
        return dict(content)
    try:
        value = json.loads(content)
    except ValueError as err:
        raise ValueError(f"an evaluation result file is not JSON: {err}") from None
    if not isinstance(value, dict):
        raise ValueError(f"an evaluation result file holds a {type(value).__name__}, not a JSON object")
    return value


def _float(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _benchmark_metrics(document: Mapping[str, Any]) -> dict[str | None, dict[str, tuple[float, float | None]]]:
    """``{subtask or None: {metric: (value, stderr)}}`` from a ``results_*.json`` document."""
    results = document.get("results") or {}
    groups = {key: value for key, value in results.items() if isinstance(value, dict) and value}
    # like the SDK: "all" holds the overall metrics, else the first non-empty entry (gen_qa, custom scorers)
    overall = "all" if "all" in groups else next(iter(groups), None)
    parsed: dict[str | None, dict[str, tuple[float, float | None]]] = {}
    for key, values in groups.items():
        metrics = {}
        for name, raw in values.items():
            value = _float(raw)
            if name.endswith(_STDERR) or value is None:
                continue
            metrics[name] = (value, _float(values.get(f"{name}{_STDERR}")))
        if metrics:
            parsed[None if key == overall else key] = metrics
    return parsed


def _judge_metrics(document: Mapping[str, Any]) -> dict[str | None, dict[str, tuple[float, float | None]]]:
    """``{None: {metric: (score, stderr)}}`` from ``bedrock_llm_judge_results.json``."""
    metrics = {}
    for name, data in (document.get("results") or {}).items():
        score = _float((data or {}).get("score")) if isinstance(data, dict) else None
        if score is None:
            continue
        deviation, count = _float(data.get("std_deviation")), _float(data.get("total_evaluations"))
        stderr = deviation / math.sqrt(count) if deviation is not None and count else None
        metrics[name] = (score, stderr)
    return {None: metrics} if metrics else {}


def metric_rows(
    base: Mapping[str, Any] | None, tuned: Mapping[str, Any] | None, evaluation_type: str, benchmark: str
) -> list[dict[str, Any]]:
    """
    The ``metrics`` rows of a result: base and tuned side by side, sorted by (benchmark, subtask, metric).

    :param base: the base model's result document (parsed JSON), if any.
    :param tuned: the evaluated (tuned) model's result document, if any.
    :param evaluation_type: one of :data:`EVALUATION_TYPES`.
    :param benchmark: the ``benchmark`` value of every row.
    """
    parse = _judge_metrics if check_evaluation_type(evaluation_type) == "llm_as_judge" else _benchmark_metrics
    sides = {side: parse(doc) if doc else {} for side, doc in (("base", base), ("tuned", tuned))}
    keys = {(subtask, metric) for parsed in sides.values() for subtask, ms in parsed.items() for metric in ms}
    rows = []
    for subtask, metric in sorted(keys, key=lambda k: (k[0] or "", k[1])):
        row: dict[str, Any] = {"benchmark": benchmark, "subtask": subtask, "metric": metric}
        for side, parsed in sides.items():
            value, stderr = parsed.get(subtask, {}).get(metric, (None, None))
            row[side], row[f"{side}_stderr"] = value, stderr
        both = row["base"] is not None and row["tuned"] is not None
        row["delta"] = row["tuned"] - row["base"] if both else None
        rows.append(row)
    return rows


def _summary(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        f"{row['benchmark']}/{row['subtask'] or 'all'}/{row['metric']}": {
            "base": row["base"],
            "tuned": row["tuned"],
            "delta": row["delta"],
        }
        for row in rows
    }


def _files_by_side(
    files: Mapping[str, bytes | str | Mapping[str, Any]], jobs: Mapping[str, str], evaluation_type: str
) -> dict[str, tuple[str, dict[str, Any]]]:
    found: dict[str, tuple[str, dict[str, Any]]] = {}
    for uri in sorted(files):
        if not is_result_file(uri, evaluation_type):
            continue
        for side, job in jobs.items():
            if f"/{job}/output/output/" in uri and side not in found:
                found[side] = (uri, _document(files[uri]))
    return found


def _s3_output_path(job_describes: Mapping[str, Mapping[str, Any]]) -> str | None:
    for describe in job_describes.values():
        path = (describe.get("OutputDataConfig") or {}).get("S3OutputPath")
        if path:
            return str(path)
    return None


def _mlflow_section(
    describe: Mapping[str, Any], job_describes: Mapping[str, Mapping[str, Any]], region: str
) -> dict[str, Any]:
    config = dict(describe.get("MLflowConfig") or {})
    details: dict[str, Any] = {}
    for side in ("tuned", "base"):  # the tuned model's run first, like the SDK's links
        job = job_describes.get(side) or {}
        details = dict(job.get("MlflowDetails") or {})
        job_config = job.get("MlflowConfig") or {}
        config.setdefault("MlflowResourceArn", job_config.get("MlflowResourceArn"))
        config.setdefault("MlflowExperimentName", job_config.get("MlflowExperimentName"))
        if details or job_config.get("MlflowRunName"):
            config["MlflowRunName"] = job_config.get("MlflowRunName")
            break
    return _mlflow(config, details, region)


def evaluation_result(
    describe: Mapping[str, Any],
    steps: Iterable[Mapping[str, Any]],
    files: Mapping[str, bytes | str | Mapping[str, Any]],
    region: str,
    evaluation_type: str,
    *,
    model: str | None = None,
    benchmark: str | None = None,
    s3_output_path: str | None = None,
    job_describes: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """
    The documented result of an evaluation (``docs/outputs.md``, Evaluation result).

    :param describe: the ``DescribePipelineExecution`` response.
    :param steps: ``ListPipelineExecutionSteps``' ``PipelineExecutionSteps`` (all pages).
    :param files: ``{s3 uri: content}`` of the result files read so far (bytes, str or parsed JSON);
        each is matched to a side by the training job its URI names. Other files are ignored.
    :param region: the AWS region of the execution.
    :param evaluation_type: one of :data:`EVALUATION_TYPES`.
    :param model: the evaluated model (hub id, model package ARN or S3 URI), as the task named it.
    :param benchmark: the benchmark (``mmlu``...); default: the evaluation type (``llm_as_judge``...).
    :param s3_output_path: the evaluation's output path; default: the step jobs' ``OutputDataConfig``.
    :param job_describes: ``{"base"|"tuned": DescribeTrainingJob}`` of the result steps' jobs, if read
        (for the MLflow run and the output path).
    """
    check_evaluation_type(evaluation_type)
    job_describes = job_describes or {}
    arn = describe.get("PipelineExecutionArn")
    summary = step_summary(steps)
    jobs = _side_jobs(summary, evaluation_type)
    output_path = s3_output_path or _s3_output_path(job_describes)
    by_side = _files_by_side(files, jobs, evaluation_type)
    label = "llm_as_judge" if evaluation_type == "llm_as_judge" else (benchmark or evaluation_type)
    rows = metric_rows(
        by_side.get("base", (None, None))[1], by_side.get("tuned", (None, None))[1], evaluation_type, label
    )
    reports: dict[str, str | None] = {}
    for side in ("base", "tuned"):
        if side in by_side:
            reports[side] = by_side[side][0].rsplit("/", 1)[0] + "/"
        elif side in jobs and output_path:
            reports[side] = f"{output_path.rstrip('/')}/{jobs[side]}/output/output/"
        else:
            reports[side] = None
    failed = next((row for row in summary if row["status"] == "Failed"), None)
    return {
        "kind": KIND,
        "job_name": arn,
        "evaluation_type": evaluation_type,
        "execution_arn": arn,
        "pipeline_name": _pipeline_name(describe),
        "status": describe.get("PipelineExecutionStatus"),
        "failure_reason": describe.get("FailureReason"),
        "failed_step": {"name": failed["name"], "reason": failed["failure_reason"]} if failed else None,
        "steps": summary,
        "s3_output_path": output_path,
        "report_s3_uris": reports,
        "mlflow": _mlflow_section(describe, job_describes, region),
        "console_url": execution_console_url(arn, region) if arn else None,
        "creation_time": iso(describe.get("CreationTime")),
        "end_time": iso(describe.get("LastModifiedTime")) if _ended(describe) else None,
        "model": model,
        "benchmark": benchmark if evaluation_type != "llm_as_judge" else "llm_as_judge",
        "metrics": rows,
        "summary": _summary(rows),
    }


def _ended(describe: Mapping[str, Any]) -> bool:
    return describe.get("PipelineExecutionStatus") in {"Succeeded", "Failed", "Stopped", "CompletedWithFailures"}


def pipeline_execution_result(describe: dict[str, Any], region: str) -> dict[str, Any]:
    """
    The evaluation result from the describe alone (no steps, no files): the catalog's result builder.

    :param describe: the ``DescribePipelineExecution`` response.
    :param region: the AWS region of the execution.
    """
    name = _pipeline_name(describe) or ""
    return evaluation_result(describe, [], {}, region, evaluation_type_of(name) or "benchmark")

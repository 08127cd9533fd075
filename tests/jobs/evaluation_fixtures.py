"""Realistic evaluation outputs, in the shapes the SDK's ``show_results()`` reads (``show_results_utils.py``).

* ``results_<ts>.json`` (benchmark, custom scorer): lighteval's document; the SDK reads ``results["all"]``,
  else the first non-empty entry of ``results`` (``_extract_metrics_from_results``).
* ``bedrock_llm_judge_results.json`` (LLM-as-judge): ``results[<metric>]`` with ``score``,
  ``std_deviation``, ``total_evaluations`` (``_display_aggregate_metrics``), under
  ``.../output/output/<bedrock job>/`` (``_download_bedrock_aggregate_json``).
* ``DescribePipelineExecution`` and ``ListPipelineExecutionSteps`` as botocore returns them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

REGION = "us-east-1"
ACCOUNT = "123456789012"
BUCKET = "smtrain-eval"
OUTPUT = f"s3://{BUCKET}/eval/output"
T0 = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def execution_arn(pipeline: str, execution_id: str = "a1b2c3d4e5f6") -> str:
    return f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:pipeline/{pipeline}/execution/{execution_id}"


def describe(pipeline: str, status: str = "Succeeded", **extra: Any) -> dict[str, Any]:
    return {
        "PipelineArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:pipeline/{pipeline}",
        "PipelineExecutionArn": execution_arn(pipeline),
        "PipelineExecutionDisplayName": "eval-qwen-mmlu",
        "PipelineExecutionStatus": status,
        "CreationTime": T0,
        "LastModifiedTime": T0 + timedelta(minutes=42),
        "MLflowConfig": {
            "MlflowResourceArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:mlflow-app/app-abc123",
            "MlflowExperimentName": "qwen-eval",
        },
        **extra,
    }


def step(name: str, minute: int, status: str = "Succeeded", job: str | None = None, **extra: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "StepName": name,
        "StepDisplayName": name,
        "StartTime": T0 + timedelta(minutes=minute),
        "StepStatus": status,
        "AttemptCount": 1,
        "Metadata": {},
        **extra,
    }
    if status in {"Succeeded", "Failed"}:
        row["EndTime"] = T0 + timedelta(minutes=minute + 10)
    if job:
        row["Metadata"] = {"TrainingJob": {"Arn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:training-job/{job}"}}
    return row


BENCH_BASE_JOB, BENCH_TUNED_JOB = "pipelines-bench0base-EvaluateBaseModel-x1", "pipelines-bench0tune-EvaluateCustomModel-x2"
#: ListPipelineExecutionSteps of a benchmark evaluation of base and tuned model (newest first, as listed).
BENCHMARK_STEPS = [
    step("AssociateLineage", 30),
    step("EvaluateCustomModel", 1, job=BENCH_TUNED_JOB),
    step("EvaluateBaseModel", 1, job=BENCH_BASE_JOB),
    step("CreateEvaluationAction", 0),
]


def lighteval(overall: dict[str, float], **subtasks: dict[str, float]) -> dict[str, Any]:
    """A ``results_<ts>.json`` document: ``results`` per task plus ``all`` (lighteval's layout)."""
    return {
        "config_general": {"model_name": "qwen", "job_id": 0, "start_time": 1.0, "end_time": 2.0},
        "results": {**subtasks, "all": overall},
        "versions": {"all": 0},
        "config_tasks": {},
        "summary_tasks": {},
    }


BENCH_BASE = lighteval(
    {"acc": 0.41, "acc_stderr": 0.031},
    **{
        "mmlu:abstract_algebra": {"acc": 0.3, "acc_stderr": 0.046},
        "mmlu:anatomy": {"acc": 0.52, "acc_stderr": 0.043},
    },
)
BENCH_TUNED = lighteval(
    {"acc": 0.47, "acc_stderr": 0.030},
    **{
        "mmlu:abstract_algebra": {"acc": 0.33, "acc_stderr": 0.047},
        "mmlu:anatomy": {"acc": 0.61, "acc_stderr": 0.042},
    },
)
#: gen_qa / custom scorer: no "all", one task entry holds the metrics.
GEN_QA = {"results": {"custom|gen_qa_gen_qa|0": {"rouge1": 0.42, "rouge1_stderr": 0.02, "bleu": 12.5}}}


def bench_uri(job: str, ts: str = "2026-11-27T10-30-00.000000") -> str:
    return f"{OUTPUT}/{job}/output/output/None/eval_results/results_{ts}.json"


LLMAJ_BASE_JOB, LLMAJ_TUNED_JOB = "pipelines-llmaj0base-EvaluateBaseModelMetrics-y1", "pipelines-llmaj0tune-EvaluateCustomModelMetrics-y2"
LLMAJ_STEPS = [
    step("EvaluateCustomModelMetrics", 20, job=LLMAJ_TUNED_JOB),
    step("EvaluateBaseModelMetrics", 20, job=LLMAJ_BASE_JOB),
    step("EvaluateCustomInferenceModel", 2, job="pipelines-llmaj0tune-EvaluateCustomInferenceModel-y3"),
    step("EvaluateBaseInferenceModel", 2, job="pipelines-llmaj0base-EvaluateBaseInferenceModel-y4"),
]


def judge(**scores: tuple[float, float, int]) -> dict[str, Any]:
    """A ``bedrock_llm_judge_results.json`` document."""
    return {
        "results": {
            name: {"score": score, "std_deviation": std, "total_evaluations": n}
            for name, (score, std, n) in scores.items()
        }
    }


LLMAJ_BASE = judge(Correctness=(0.62, 0.3, 100), Helpfulness=(0.7, 0.2, 100))
LLMAJ_TUNED = judge(Correctness=(0.81, 0.2, 100), Helpfulness=(0.68, 0.25, 100))


def llmaj_uri(job: str, bedrock_job: str = "llmaj-bedrock-job-1") -> str:
    return f"{OUTPUT}/{job}/output/output/{bedrock_job}/{'bedrock_llm_judge_results.json'}"

"""The evaluation result: metrics as the SDK's ``show_results()`` reads them, base and tuned side by side."""

from __future__ import annotations

import io
import json
import math
from typing import Any

import pytest

from airflow_provider_smtrain.jobs.evaluation_results import (
    evaluation_result,
    evaluation_type_of,
    is_result_file,
    pipeline_execution_result,
    result_prefixes,
)
from tests.jobs import evaluation_fixtures as fx

BENCH_PIPELINE = "SagemakerEvaluation-BenchmarkEvaluation-0f1e2d3c"
LLMAJ_PIPELINE = "SagemakerEvaluation-LLMAJEvaluation-9a8b7c6d"


def bench_result(**overrides: Any) -> dict[str, Any]:
    files: dict[str, Any] = {
        fx.bench_uri(fx.BENCH_BASE_JOB): json.dumps(fx.BENCH_BASE).encode(),
        fx.bench_uri(fx.BENCH_TUNED_JOB): json.dumps(fx.BENCH_TUNED),
    }
    args: dict[str, Any] = {
        "describe": fx.describe(BENCH_PIPELINE),
        "steps": fx.BENCHMARK_STEPS,
        "files": files,
        "region": fx.REGION,
        "evaluation_type": "benchmark",
        "model": "huggingface-llm-qwen2-5-7b-instruct",
        "benchmark": "mmlu",
        "s3_output_path": fx.OUTPUT,
    }
    args.update(overrides)
    return evaluation_result(**args)


def test_benchmark_metrics_per_subtask_with_base_tuned_and_delta() -> None:
    result = bench_result()
    assert [(r["subtask"], r["metric"]) for r in result["metrics"]] == [
        (None, "acc"),
        ("mmlu:abstract_algebra", "acc"),
        ("mmlu:anatomy", "acc"),
    ]
    overall = result["metrics"][0]
    assert overall == {
        "benchmark": "mmlu", "subtask": None, "metric": "acc",
        "base": 0.41, "base_stderr": 0.031, "tuned": 0.47, "tuned_stderr": 0.030,
        "delta": pytest.approx(0.06),
    }
    assert result["summary"]["mmlu/mmlu:anatomy/acc"] == {"base": 0.52, "tuned": 0.61, "delta": pytest.approx(0.09)}
    assert set(result["summary"]) == {"mmlu/all/acc", "mmlu/mmlu:abstract_algebra/acc", "mmlu/mmlu:anatomy/acc"}
    assert json.loads(json.dumps(result)) == result


def test_overall_metrics_are_the_ones_the_sdk_shows() -> None:
    from sagemaker.train.common_utils.show_results_utils import _extract_metrics_from_results

    for document in (fx.BENCH_TUNED, fx.GEN_QA):
        result = bench_result(files={fx.bench_uri(fx.BENCH_TUNED_JOB): document})
        shown = _extract_metrics_from_results(document)
        ours = {r["metric"]: r["tuned"] for r in result["metrics"] if r["subtask"] is None}
        ours |= {f"{r['metric']}_stderr": r["tuned_stderr"] for r in result["metrics"] if r["subtask"] is None}
        assert {k: v for k, v in ours.items() if v is not None} == shown


def test_gen_qa_entry_is_the_overall_and_a_missing_stderr_is_null() -> None:
    result = bench_result(files={fx.bench_uri(fx.BENCH_TUNED_JOB): fx.GEN_QA}, evaluation_type="custom_scorer")
    rows = {r["metric"]: r for r in result["metrics"]}
    assert set(rows) == {"bleu", "rouge1"} and all(r["subtask"] is None for r in rows.values())
    assert (rows["bleu"]["tuned"], rows["bleu"]["tuned_stderr"]) == (12.5, None)
    assert rows["rouge1"]["base"] is None and rows["rouge1"]["delta"] is None, "no base file, no delta"
    assert result["report_s3_uris"] == {
        "base": f"{fx.OUTPUT}/{fx.BENCH_BASE_JOB}/output/output/",
        "tuned": fx.bench_uri(fx.BENCH_TUNED_JOB).rsplit("/", 1)[0] + "/",
    }


def test_execution_fields_steps_mlflow_and_console() -> None:
    job_describes = {
        "tuned": {
            "OutputDataConfig": {"S3OutputPath": fx.OUTPUT},
            "MlflowConfig": {"MlflowRunName": "eval-tuned"},
            "MlflowDetails": {"MlflowExperimentId": "7", "MlflowRunId": "run42"},
        }
    }
    result = bench_result(s3_output_path=None, job_describes=job_describes)
    assert result["s3_output_path"] == fx.OUTPUT, "the output path comes from the step job"
    assert result["execution_arn"] == result["job_name"] == fx.execution_arn(BENCH_PIPELINE)
    assert (result["kind"], result["pipeline_name"], result["status"]) == (
        "pipeline_execution", BENCH_PIPELINE, "Succeeded",
    )
    assert [s["name"] for s in result["steps"]] == [
        "CreateEvaluationAction", "EvaluateCustomModel", "EvaluateBaseModel", "AssociateLineage",
    ], "oldest first"
    assert result["steps"][0]["start_time"] == "2026-11-27T10:00:00+00:00"
    tuned_step = next(s for s in result["steps"] if s["name"] == "EvaluateCustomModel")
    assert tuned_step["job_arn"].endswith(f"training-job/{fx.BENCH_TUNED_JOB}")
    assert result["mlflow"]["experiment_name"] == "qwen-eval"
    assert (result["mlflow"]["run_name"], result["mlflow"]["ui_path"]) == ("eval-tuned", "#/experiments/7/runs/run42")
    assert result["mlflow"]["console_url"].endswith("#/mlflow-apps/app-abc123")
    assert result["console_url"] == (
        "https://us-east-1.console.aws.amazon.com/sagemaker/home?region=us-east-1"
        f"#/pipelines/{BENCH_PIPELINE}/executions/a1b2c3d4e5f6"
    )
    assert result["end_time"] == "2026-11-27T10:42:00+00:00"
    assert (result["failed_step"], result["failure_reason"]) == (None, None)


def test_llm_as_judge_scores_per_metric_as_the_sdk_displays_them() -> None:
    from rich.console import Console
    from sagemaker.train.common_utils.show_results_utils import _display_aggregate_metrics

    files = {fx.llmaj_uri(fx.LLMAJ_BASE_JOB): fx.LLMAJ_BASE, fx.llmaj_uri(fx.LLMAJ_TUNED_JOB): fx.LLMAJ_TUNED}
    result = evaluation_result(fx.describe(LLMAJ_PIPELINE), fx.LLMAJ_STEPS, files, fx.REGION, "llm_as_judge")
    rows = {r["metric"]: r for r in result["metrics"]}
    assert set(rows) == {"Correctness", "Helpfulness"} and result["benchmark"] == "llm_as_judge"
    assert (rows["Correctness"]["base"], rows["Correctness"]["tuned"]) == (0.62, 0.81)
    assert rows["Helpfulness"]["delta"] == pytest.approx(-0.02)
    assert rows["Correctness"]["tuned_stderr"] == pytest.approx(0.2 / math.sqrt(100))
    assert "llm_as_judge/all/Correctness" in result["summary"]

    out = io.StringIO()
    _display_aggregate_metrics(fx.LLMAJ_TUNED, fx.LLMAJ_BASE, Console(file=out, width=200))
    for name, row in rows.items():  # the SDK's table: metric, custom, base as percentages
        line = next(line for line in out.getvalue().splitlines() if name in line)
        assert f"{row['tuned'] * 100:.1f}%" in line and f"{row['base'] * 100:.1f}%" in line


def test_only_the_metrics_steps_files_count_for_llm_as_judge() -> None:
    inference = "pipelines-llmaj0tune-EvaluateCustomInferenceModel-y3"
    files = {fx.llmaj_uri(inference): fx.LLMAJ_BASE}
    result = evaluation_result(fx.describe(LLMAJ_PIPELINE), fx.LLMAJ_STEPS, files, fx.REGION, "llm_as_judge")
    assert result["metrics"] == []
    assert not is_result_file(f"{fx.OUTPUT}/job/output/output/bedrock_llm_judge_results.json", "llm_as_judge")
    assert is_result_file(fx.llmaj_uri("job"), "llm_as_judge")
    assert not is_result_file(fx.llmaj_uri("job"), "benchmark")


def test_failed_execution_names_the_failed_step() -> None:
    steps = [
        fx.step("EvaluateBaseModel", 1, job=fx.BENCH_BASE_JOB),
        fx.step("EvaluateCustomModel", 1, status="Failed", job=fx.BENCH_TUNED_JOB, FailureReason="OOM on GPU"),
    ]
    describe = fx.describe(BENCH_PIPELINE, status="Failed", FailureReason="Step failure: EvaluateCustomModel")
    result = evaluation_result(describe, steps, {}, fx.REGION, "benchmark", benchmark="mmlu")
    assert result["failed_step"] == {"name": "EvaluateCustomModel", "reason": "OOM on GPU"}
    assert result["failure_reason"] == "Step failure: EvaluateCustomModel"
    assert result["metrics"] == [] and result["summary"] == {}
    assert result["report_s3_uris"] == {"base": None, "tuned": None}, "no output path known"


def test_running_execution_has_no_end_time_and_bad_inputs_are_named() -> None:
    result = pipeline_execution_result(fx.describe(LLMAJ_PIPELINE, status="Executing"), fx.REGION)
    assert (result["evaluation_type"], result["end_time"]) == ("llm_as_judge", None)
    with pytest.raises(ValueError, match="evaluation_type: 'mmlu' is not one of benchmark"):
        bench_result(evaluation_type="mmlu")
    with pytest.raises(ValueError, match="not JSON"):
        bench_result(files={fx.bench_uri(fx.BENCH_TUNED_JOB): b"{oops"})


def test_pipeline_names_and_prefixes() -> None:
    assert evaluation_type_of("SagemakerEvaluation-CustomScorerEvaluation-1234") == "custom_scorer"
    assert evaluation_type_of(fx.execution_arn("SagemakerEvaluation-MTRLEvaluation-1")) == "multi_turn_rl"
    assert evaluation_type_of("my-pipeline") is None
    assert result_prefixes(fx.BENCHMARK_STEPS, fx.OUTPUT + "/", "benchmark") == {
        "base": f"{fx.OUTPUT}/{fx.BENCH_BASE_JOB}/output/output/",
        "tuned": f"{fx.OUTPUT}/{fx.BENCH_TUNED_JOB}/output/output/",
    }


def test_the_result_is_documented_key_for_key() -> None:
    from tests.contracts.test_catalog import documented_result_keys

    minimal = pipeline_execution_result({"PipelineExecutionArn": fx.execution_arn(BENCH_PIPELINE)}, fx.REGION)
    assert set(minimal) == set(bench_result()), "the keys must not depend on what was read"
    assert documented_result_keys("Evaluation result") == set(minimal)


def test_metrics_table_puts_base_tuned_and_delta_side_by_side() -> None:
    from airflow_provider_smtrain.jobs.evaluation_results import format_metrics

    files = {fx.llmaj_uri(fx.LLMAJ_TUNED_JOB): fx.LLMAJ_TUNED}
    judge = evaluation_result(fx.describe(LLMAJ_PIPELINE), fx.LLMAJ_STEPS, files, fx.REGION, "llm_as_judge")
    lines = format_metrics([bench_result(), judge]).splitlines()
    assert lines[0].split() == ["benchmark", "subtask", "metric", "base", "tuned", "delta"]
    assert lines[1].split() == ["mmlu", "all", "acc", "0.4100", "0.4700", "+0.0600"]
    assert lines[4].split() == ["llm_as_judge", "all", "Correctness", "-", "0.8100", "-"]
    assert len(lines) == 6

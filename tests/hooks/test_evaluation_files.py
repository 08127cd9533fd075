"""The hook reads an evaluation's result files where the SDK's ``show_results()`` does, signed by the connection."""

from __future__ import annotations

import json
from typing import Any

import pytest

from airflow_provider_smtrain.hooks.evaluation_files import read_result_files
from airflow_provider_smtrain.hooks.sagemaker_train import SageMakerTrainHook
from tests.jobs import evaluation_fixtures as fx

CONNECTION_KEY = "AKIACONNECTIONEVAL01"
PIPELINE = "SagemakerEvaluation-BenchmarkEvaluation-0f1e2d3c"


class _PipelineAnswers:
    """The hook's SageMaker client, answering the pipeline calls from fixtures (everything else is real)."""

    def __init__(self, client: Any, describe: dict[str, Any], steps: list[dict[str, Any]]) -> None:
        self._client, self._describe, self._steps = client, describe, steps
        self.calls: list[str] = []

    def describe_pipeline_execution(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append("DescribePipelineExecution")
        assert kwargs == {"PipelineExecutionArn": self._describe["PipelineExecutionArn"]}
        return self._describe

    def list_pipeline_execution_steps(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append("ListPipelineExecutionSteps")
        if "NextToken" not in kwargs:  # two pages
            return {"PipelineExecutionSteps": self._steps[:1], "NextToken": "page2"}
        return {"PipelineExecutionSteps": self._steps[1:]}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


@pytest.fixture
def hook(local_sagemaker: Any, monkeypatch: pytest.MonkeyPatch) -> SageMakerTrainHook:
    sm = local_sagemaker
    sm.create_bucket(fx.BUCKET)
    monkeypatch.setenv(
        "AIRFLOW_CONN_SMTRAIN_EVAL",
        sm.airflow_connection_json(access_key_id=CONNECTION_KEY, secret_access_key="connection-secret"),
    )
    return SageMakerTrainHook(aws_conn_id="smtrain_eval", region_name=fx.REGION)


def _put(sm: Any, uri: str, body: bytes) -> None:
    sm.put_object(fx.BUCKET, uri.split(f"s3://{fx.BUCKET}/", 1)[1], body)


def test_reads_each_sides_first_results_file_and_nothing_else(local_sagemaker: Any, hook: SageMakerTrainHook) -> None:
    sm = local_sagemaker
    base, tuned = fx.bench_uri(fx.BENCH_BASE_JOB), fx.bench_uri(fx.BENCH_TUNED_JOB)
    _put(sm, base, json.dumps(fx.BENCH_BASE).encode())
    _put(sm, tuned, json.dumps(fx.BENCH_TUNED).encode())
    later = fx.bench_uri(fx.BENCH_TUNED_JOB, ts="2026-11-27T11-00-00.000000")
    _put(sm, later, json.dumps(fx.GEN_QA).encode())
    _put(sm, f"{fx.OUTPUT}/{fx.BENCH_TUNED_JOB}/output/output/None/eval_results/details.parquet", b"PAR1")
    _put(sm, f"{fx.OUTPUT}/unrelated-job/output/output/None/eval_results/results_x.json", b"{}")
    sm.clear_requests()

    files = read_result_files(hook.client("s3"), fx.BENCHMARK_STEPS, fx.OUTPUT, "benchmark")

    assert files == {base: json.dumps(fx.BENCH_BASE).encode(), tuned: json.dumps(fx.BENCH_TUNED).encode()}
    signers = {r["access_key_id"] for r in sm.requests() if r["service"] != "local"}
    assert signers == {CONNECTION_KEY}
    assert sorted(r["operation"] for r in sm.requests()) == ["GetObject", "GetObject", "ListObjectsV2", "ListObjectsV2"]


def test_a_missing_side_is_left_out(local_sagemaker: Any, hook: SageMakerTrainHook) -> None:
    _put(local_sagemaker, fx.llmaj_uri(fx.LLMAJ_TUNED_JOB), json.dumps(fx.LLMAJ_TUNED).encode())
    files = read_result_files(hook.client("s3"), fx.LLMAJ_STEPS, fx.OUTPUT, "llm_as_judge")
    assert list(files) == [fx.llmaj_uri(fx.LLMAJ_TUNED_JOB)]
    with pytest.raises(ValueError, match="s3_output_path: 'bucket/x' is not an s3:// URI"):
        read_result_files(hook.client("s3"), fx.LLMAJ_STEPS, "bucket/x", "llm_as_judge")


def test_hook_builds_the_documented_result(local_sagemaker: Any, hook: SageMakerTrainHook) -> None:
    sm = local_sagemaker
    _put(sm, fx.bench_uri(fx.BENCH_BASE_JOB), json.dumps(fx.BENCH_BASE).encode())
    _put(sm, fx.bench_uri(fx.BENCH_TUNED_JOB), json.dumps(fx.BENCH_TUNED).encode())
    answers = _PipelineAnswers(hook.sagemaker_client, fx.describe(PIPELINE), fx.BENCHMARK_STEPS)
    hook.__dict__["sagemaker_client"] = answers
    # the step jobs' describes are read for the output path and MLflow run: none exist here
    answers.describe_training_job = lambda **kw: {"OutputDataConfig": {"S3OutputPath": fx.OUTPUT}}  # type: ignore[attr-defined]
    sm.clear_requests()

    result = hook.evaluation_result(fx.execution_arn(PIPELINE), "benchmark", model="qwen", benchmark="mmlu")

    assert answers.calls == ["DescribePipelineExecution", "ListPipelineExecutionSteps", "ListPipelineExecutionSteps"]
    assert result["s3_output_path"] == fx.OUTPUT
    assert result["summary"]["mmlu/all/acc"] == {"base": 0.41, "tuned": 0.47, "delta": pytest.approx(0.06)}
    assert {r["access_key_id"] for r in sm.requests() if r["service"] != "local"} == {CONNECTION_KEY}


def test_no_files_are_read_before_the_execution_succeeded(local_sagemaker: Any, hook: SageMakerTrainHook) -> None:
    answers = _PipelineAnswers(hook.sagemaker_client, fx.describe(PIPELINE, status="Executing"), fx.BENCHMARK_STEPS)
    hook.__dict__["sagemaker_client"] = answers
    answers.describe_training_job = lambda **kw: {}  # type: ignore[attr-defined]
    local_sagemaker.clear_requests()
    result = hook.evaluation_result(fx.execution_arn(PIPELINE), "benchmark", s3_output_path=fx.OUTPUT)
    assert result["metrics"] == [] and result["status"] == "Executing"
    assert [r for r in local_sagemaker.requests() if r["service"] == "s3"] == []

"""Evaluator operators end to end against the local SageMaker: through the trigger to Succeeded, metrics equal
to the S3 result files, every request signed by the connection, one execution per task instance."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_smtrain.operators.evaluation import (
    BenchMarkEvaluatorOperator,
    CustomScorerEvaluatorOperator,
    LLMAsJudgeEvaluatorOperator,
    MultiTurnRLEvaluatorOperator,
)
from tests.operators.conftest import CONNECTION_ACCESS_KEY, Env
from tests.operators.evaluation_env import AGENT, JUDGE, build, dataset, operations, prepare
from tests.operators.interruptions import armed_execution_timeout, ring_at_request
from tests.operators.runner import FakeTI, MemoryStateStore, run_operator


@pytest.fixture
def package(env: Env) -> str:
    return prepare(env)


def arguments(env: Env, kind: str) -> dict[str, Any]:
    return {
        "benchmark": {"benchmark": "mmlu", "subtasks": ["anatomy"]},
        "custom_scorer": {"evaluator": "prime_math", "dataset": dataset(env)},
        "llm_as_judge": {"evaluator_model": JUDGE, "dataset": dataset(env), "builtin_metrics": ["Correctness"]},
        "multi_turn_rl": {"dataset": dataset(env), "agent_config": AGENT},
    }[kind]


MLFLOW_FIELDS = ("resource_arn", "experiment_name", "run_name", "experiment_id", "run_id", "console_url", "ui_path")

OPERATORS = {
    "benchmark": BenchMarkEvaluatorOperator,
    "custom_scorer": CustomScorerEvaluatorOperator,
    "llm_as_judge": LLMAsJudgeEvaluatorOperator,
    "multi_turn_rl": MultiTurnRLEvaluatorOperator,
}


def result_document(env: Env, uri: str) -> dict[str, Any]:
    """The one result file under a report folder, parsed."""
    bucket, _, prefix = uri[len("s3://"):].partition("/")
    s3 = env.sm.boto3_client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
            if o["Key"].endswith(".json")]
    assert len(keys) == 1, keys
    document: dict[str, Any] = json.loads(s3.get_object(Bucket=bucket, Key=keys[0])["Body"].read())
    return document


def file_value(document: dict[str, Any], kind: str, metric: str) -> tuple[float, Any]:
    """A metric's overall value (and its stderr) as the result file holds it."""
    if kind == "llm_as_judge":
        entry = document["results"][metric]
        return entry["score"], None
    overall = document["results"].get("all") or next(iter(document["results"].values()))
    return overall[metric], overall.get(f"{metric}_stderr")


@pytest.mark.parametrize("kind", list(OPERATORS))
def test_evaluator_runs_through_the_trigger_and_returns_the_files_metrics(
    env: Env, package: str, kind: str, ambient_access_key: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    metric = {"benchmark": "accuracy", "custom_scorer": "exact_match", "llm_as_judge": "Correctness",
              "multi_turn_rl": "success_rate"}[kind]
    env.sm.add_rule(kind="pipeline_execution", name_glob="*", outcome="Succeeded",
                    metrics={metric: 0.8125}, base_metrics={metric: 0.4375})
    monkeypatch.chdir(tmp_path)  # the worker's working directory
    operator = build(OPERATORS[kind], env, model=package, evaluate_base_model=True, deferrable=True,
                     **arguments(env, kind))
    ti = FakeTI(task_id="evaluate")
    result = run_operator(operator, ti, MemoryStateStore())

    signers = {r["access_key_id"] for r in env.sm.requests() if r["service"] != "local"}
    assert signers == {CONNECTION_ACCESS_KEY} and ambient_access_key not in signers
    assert json.loads(json.dumps(result)) == result
    assert (result["kind"], result["evaluation_type"], result["status"]) == ("pipeline_execution", kind, "Succeeded")
    assert result["model"] == package and result["execution_arn"] == ti.xcoms["job_name"]
    assert result["pipeline_name"].startswith("SagemakerEvaluation-") and "evaluate-" in result["pipeline_name"]
    overall = {row["metric"]: row for row in result["metrics"] if row["subtask"] is None}
    row = overall[metric]
    for side, expected in (("tuned", 0.8125), ("base", 0.4375)):
        value, stderr = file_value(result_document(env, result["report_s3_uris"][side]), kind, metric)
        assert row[side] == value == expected
        if stderr is not None:
            assert row[f"{side}_stderr"] == stderr
    assert row["delta"] == pytest.approx(0.8125 - 0.4375)
    assert os.listdir(tmp_path) == []  # nothing written into the working directory (MTRL's JSON dump)
    assert [r["operation"] for r in env.sm.requests(operation="StartPipelineExecution")] == ["StartPipelineExecution"]
    assert not env.sm.requests(operation="UpdatePipeline") and not env.sm.requests(operation="ListPipelines")
    assert not [op for op in operations(env) if "Mlflow" in op]  # no MLflow app looked up or created
    assert result["mlflow"] == dict.fromkeys(MLFLOW_FIELDS)  # JSON null, never the string "None"
    definition = json.loads(env.sm.boto3_client("sagemaker").describe_pipeline_definition_for_execution(
        PipelineExecutionArn=result["execution_arn"])["PipelineDefinition"])
    assert "MlflowConfig" not in definition


def test_retry_reattaches_and_never_starts_a_second_execution(env: Env, package: str) -> None:
    env.sm.clock.freeze()
    store, ti = MemoryStateStore(), FakeTI(task_id="evaluate")
    first = run_operator(build(BenchMarkEvaluatorOperator, env, model=package, wait_for_completion=False,
                               **arguments(env, "benchmark")), ti, store)
    assert first["status"] == "Executing"
    env.sm.clock.advance(10)
    again = run_operator(build(BenchMarkEvaluatorOperator, env, model=package, **arguments(env, "benchmark")),
                         ti.retry(), store)
    assert again["execution_arn"] == first["execution_arn"] and again["status"] == "Succeeded"
    assert len(env.sm.requests(operation="StartPipelineExecution")) == 1
    assert len(env.sm.requests(operation="CreatePipeline")) == 1


def test_lost_start_response_is_one_execution(env: Env, package: str, fast_botocore_retries: None) -> None:
    env.sm.clock.freeze()
    env.sm.fail_next("StartPipelineExecution", kind="lost_response", mode="reset", count=10)
    store, ti = MemoryStateStore(), FakeTI(task_id="evaluate")
    operator = build(BenchMarkEvaluatorOperator, env, model=package, wait_for_completion=False,
                     **arguments(env, "benchmark"))
    result = run_operator(operator, ti, store)

    starts = env.sm.requests(operation="StartPipelineExecution")
    assert len(starts) >= 2 and starts[0]["fault"] == "lost_response"
    executions = env.sm.boto3_client("sagemaker").list_pipeline_executions(
        PipelineName=result["pipeline_name"])["PipelineExecutionSummaries"]
    assert [e["PipelineExecutionArn"] for e in executions] == [result["execution_arn"]]
    assert store.get("smtrain_job")["arn"] == result["execution_arn"]


def test_access_denied_on_create_pipeline_fails_with_aws_message(env: Env, package: str) -> None:
    env.sm.fail_next("CreatePipeline", code="AccessDeniedException", status=400,
                     message="User is not authorized to perform: sagemaker:CreatePipeline")
    operator = build(BenchMarkEvaluatorOperator, env, model=package, **arguments(env, "benchmark"))
    with pytest.raises(Exception) as raised:
        run_operator(operator, FakeTI(task_id="evaluate"), MemoryStateStore())
    assert "not authorized to perform: sagemaker:CreatePipeline" in str(raised.value)
    assert "AccessDenied" in str(raised.value)
    assert env.sm.requests(operation="StartPipelineExecution") == []
    assert env.sm.requests(operation="StopPipelineExecution") == []


def test_kill_stops_the_execution_with_the_connection(env: Env, package: str) -> None:
    env.sm.clock.freeze()
    operator = build(BenchMarkEvaluatorOperator, env, model=package, wait_for_completion=False,
                     **arguments(env, "benchmark"))
    result = run_operator(operator, FakeTI(task_id="evaluate"), MemoryStateStore())
    operator.on_kill()

    stops = env.sm.requests(operation="StopPipelineExecution")
    assert [s["access_key_id"] for s in stops] == [CONNECTION_ACCESS_KEY]
    env.sm.clock.advance(10)
    status = env.sm.boto3_client("sagemaker").describe_pipeline_execution(
        PipelineExecutionArn=result["execution_arn"])["PipelineExecutionStatus"]
    assert status == "Stopped"


def test_failed_execution_fails_the_task_naming_the_step(env: Env, package: str) -> None:
    env.sm.add_rule(kind="pipeline_execution", name_glob="*", outcome="Failed",
                    failure_reason="ClientError: evaluation container crashed", step="EvaluateCustomModel")
    operator = build(BenchMarkEvaluatorOperator, env, model=package, **arguments(env, "benchmark"))
    with pytest.raises(Exception) as raised:
        run_operator(operator, FakeTI(task_id="evaluate"), MemoryStateStore())
    assert "step EvaluateCustomModel failed: ClientError: evaluation container crashed" in str(raised.value)


def test_clear_stops_the_running_execution_and_starts_the_next_generation(env: Env, package: str) -> None:
    env.sm.add_rule(kind="pipeline_execution", name_glob="*-1", outcome=None, seconds=600)  # still runs at the clear
    store, ti = MemoryStateStore(), FakeTI(task_id="evaluate")
    first = run_operator(build(BenchMarkEvaluatorOperator, env, model=package, wait_for_completion=False,
                               **arguments(env, "benchmark")), ti, store)
    second = run_operator(build(BenchMarkEvaluatorOperator, env, model=package, wait_for_completion=False,
                                **arguments(env, "benchmark")), ti.clear(), store)
    assert second["execution_arn"] != first["execution_arn"]
    assert second["pipeline_name"].endswith("-2") and first["pipeline_name"].endswith("-1")
    assert len(env.sm.requests(operation="StopPipelineExecution")) == 1
    client = env.sm.boto3_client("sagemaker")
    assert client.describe_pipeline_execution(PipelineExecutionArn=first["execution_arn"])[
        "PipelineExecutionStatus"] == "Stopped"


def test_a_timeout_during_the_start_is_not_swallowed_by_the_sdk(
    env: Env, package: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Airflow's execution timeout (a BaseException) raised as the start returns reaches Airflow: the SDK's
    telemetry decorator around ``evaluate()`` returns from ``finally`` and would swallow it."""
    from airflow.sdk.exceptions import AirflowTaskTimeout

    from airflow_provider_smtrain.sdk import evaluation_pipeline

    start = evaluation_pipeline.start_execution

    def start_then_time_out(*args: Any, **kwargs: Any) -> str:
        start(*args, **kwargs)
        raise AirflowTaskTimeout()

    monkeypatch.setattr(evaluation_pipeline, "start_execution", start_then_time_out)
    operator = build(BenchMarkEvaluatorOperator, env, model=package, **arguments(env, "benchmark"))
    with pytest.raises(AirflowTaskTimeout):
        run_operator(operator, FakeTI(task_id="evaluate"), MemoryStateStore())
    assert len(env.sm.requests(operation="StartPipelineExecution")) == 1
    assert env.sm.requests(operation="ListPipelineExecutions") == []  # nothing ran after the timeout


def test_a_timeout_during_the_upload_inside_evaluate_is_not_swallowed_by_the_sdk(
    env: Env, package: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Airflow's execution timeout rings inside ``LLMAsJudgeEvaluator.evaluate()`` while it uploads to S3 (well
    before the start): the task fails with it, not with "evaluate() returned without starting", and the SDK
    carrying on after its telemetry decorator swallowed it sends nothing more."""
    from airflow.sdk.exceptions import AirflowTaskTimeout

    before = len(operations(env))
    metrics = [{"name": "Brevity", "prompt": "Is the answer short? {{prediction}}"}]  # uploaded to S3 by the SDK
    operator = build(LLMAsJudgeEvaluatorOperator, env, model=package, custom_metrics=metrics,
                     **arguments(env, "llm_as_judge"))
    with armed_execution_timeout() as ring:
        ring_at_request(monkeypatch, "PutObject", ring, after_response=False)
        with pytest.raises(AirflowTaskTimeout):
            run_operator(operator, FakeTI(task_id="evaluate"), MemoryStateStore())
    sent = operations(env)[before:]
    assert sent and not {"PutObject", "CreatePipeline", "UpdatePipeline", "StartPipelineExecution"} & set(sent), sent

"""The four evaluator operators (benchmark, custom scorer, LLM-as-judge, multi-turn RL) in parallel in one DAG run
through a real Airflow 3 (scheduler, triggerer, LocalExecutor workers) against the local SageMaker: each task
defers, its trigger waits for the pipeline execution, and the metrics in XCom are the planted numbers and the
numbers in the result files the execution wrote to S3, base and tuned side by side."""

from __future__ import annotations

import json
import math
from typing import Any, NamedTuple

import pytest

from tests.integration.provider_fixtures import AMBIENT_KEY, BUCKET, CONNECTION_KEY, Ctx
from tests.operators.conftest import Env
from tests.operators.evaluation_env import prepare
from tests.operators.test_evaluator_operators import result_document

pytestmark = pytest.mark.integration

DAG_ID = "it_evaluators"


class Planted(NamedTuple):
    """What one task's rule plants in its pipeline execution's result files."""

    kind: str  #: evaluation type
    prefix: str  #: the task's job name prefix (the rule matches the execution's display name on it)
    metrics: dict[str, tuple[float, float]]  #: metric -> (tuned value, base value)
    subtasks: tuple[str, ...] = ()  #: benchmark subtasks the task asks for (each gets the planted values)
    #: seconds each job step runs (None: the fixture's 7 s); the judge runs two stages (inference, then metrics),
    #: 3.5 s each: 7 s in all like the others, as far past the ~5 s between a task deferring and its worker exiting
    seconds: float | None = None


PLANTED = {
    "custom_scorer": Planted("custom_scorer", "it-scorer", {"exact_match": (0.6875, 0.3125)}),
    "multi_turn_rl": Planted("multi_turn_rl", "it-mtrl-eval", {"success_rate": (0.9375, 0.5625)}),
    "benchmark": Planted("benchmark", "it-bench", {"accuracy": (0.8125, 0.4375)}, ("abstract_algebra", "anatomy")),
    # two built-in judge metrics and the DAG's custom one (Brevity), which the tuned model does worse on
    "llm_as_judge": Planted(
        "llm_as_judge", "it-judge", {"Correctness": (0.875, 0.5), "Helpfulness": (0.75, 0.625), "Brevity": (0.25, 0.625)},
        seconds=3.5,
    ),
}


def file_metrics(document: dict[str, Any], kind: str) -> dict[tuple[str | None, str], tuple[float, float | None]]:
    """``{(subtask or None, metric): (value, stderr)}`` as a result file in S3 holds them."""
    results: dict[str, Any] = document["results"]
    if kind == "llm_as_judge":  # bedrock_llm_judge_results.json: the stderr is std_deviation / sqrt(n)
        return {
            (None, name): (entry["score"], entry["std_deviation"] / math.sqrt(entry["total_evaluations"]))
            for name, entry in results.items()
        }
    overall = "all" if "all" in results else next(iter(results))  # a custom scorer's one gen_qa entry
    return {
        (None if group == overall else group, name): (value, values.get(f"{name}_stderr"))
        for group, values in results.items()
        for name, value in values.items()
        if not name.endswith("_stderr")
    }


def test_every_evaluator_defers_and_returns_the_planted_metrics_of_its_s3_result_files(ctx: Ctx) -> None:
    env = Env(sm=ctx.sm, conn_id="aws_default", bucket=BUCKET, role_arn=ctx.role_arn)
    package = prepare(env)
    for planted in PLANTED.values():
        ctx.sm.add_rule(
            kind="pipeline_execution", name_glob=f"*{planted.prefix}-*", outcome="Succeeded", seconds=planted.seconds,
            metrics={m: tuned for m, (tuned, _) in planted.metrics.items()},
            base_metrics={m: base for m, (_, base) in planted.metrics.items()},
        )
    ctx.af.wait_for_dag(DAG_ID, timeout=120)
    ctx.sm.clear_requests()

    run_id = ctx.af.trigger(DAG_ID, conf={"bucket": BUCKET, "role_arn": ctx.role_arn, "model": package})
    state = ctx.af.wait_for_run(DAG_ID, run_id, timeout=120)
    assert state == "success", ctx.af.component_logs(tail=120)
    # every request of every process (workers, triggerer), before the test reads anything itself
    signers = {r["access_key_id"] for r in ctx.sm.requests() if r["service"] != "local"}
    assert signers == {CONNECTION_KEY} and AMBIENT_KEY not in signers, signers
    assert len(ctx.sm.requests(operation="StartPipelineExecution")) == len(PLANTED)

    results: dict[str, dict[str, Any]] = {}
    for task_id, planted in PLANTED.items():
        ti = ctx.af.ti(DAG_ID, run_id, task_id)
        assert (ti["state"], ti["try_number"]) == ("success", 1), ti
        assert "Deferring" in ctx.af.task_log(DAG_ID, run_id, task_id, try_number=1)
        results[task_id] = result = ctx.af.xcom(DAG_ID, run_id, task_id)
        triggered = ctx.af.trigger_logs(DAG_ID, run_id, task_id, try_number=1)
        assert any(result["execution_arn"] in text for text in triggered.values()), f"{task_id}: no trigger ran"
        assert (result["evaluation_type"], result["status"], result["model"]) == (planted.kind, "Succeeded", package)
        assert result["mlflow"]["resource_arn"] is None
        started = ctx.sm.requests(operation="StartPipelineExecution", name=result["pipeline_name"])
        assert len(started) == 1, (task_id, started)

        rows = {(row["subtask"], row["metric"]): row for row in result["metrics"]}
        expected = {(subtask, metric) for subtask in (None, *planted.subtasks) for metric in planted.metrics}
        assert set(rows) == expected, task_id
        files = {side: file_metrics(result_document(env, result["report_s3_uris"][side]), planted.kind)
                 for side in ("tuned", "base")}
        for side, index in (("tuned", 0), ("base", 1)):
            assert set(files[side]) == expected, (task_id, side)
            for key, row in rows.items():
                value, stderr = files[side][key]
                assert row[side] == value == planted.metrics[key[1]][index], (task_id, side, key)
                assert row[f"{side}_stderr"] == pytest.approx(stderr), (task_id, side, key)
        for (_, metric), row in rows.items():
            tuned, base = planted.metrics[metric]
            assert row["delta"] == pytest.approx(tuned - base), (task_id, metric)
            address = f"{row['benchmark']}/{row['subtask'] or 'all'}/{metric}"
            assert result["summary"][address] == {"base": base, "tuned": tuned, "delta": pytest.approx(tuned - base)}

    _check_the_judge_ran_the_custom_metric(ctx, results["llm_as_judge"])


def _check_the_judge_ran_the_custom_metric(ctx: Ctx, result: dict[str, Any]) -> None:
    """The judge's execution got the DAG's custom metric definition (uploaded to S3, named by its steps), its
    Bedrock placeholders intact through the templating, and its built-in metrics."""
    client = ctx.sm.boto3_client("sagemaker")
    definition = json.loads(
        client.describe_pipeline_definition_for_execution(PipelineExecutionArn=result["execution_arn"])[
            "PipelineDefinition"
        ]
    )
    metric_steps = [s for s in definition["Steps"] if s["Name"].endswith("ModelMetrics")]
    assert len(metric_steps) == 2, [s["Name"] for s in definition["Steps"]]  # base and tuned
    for step in metric_steps:
        hyperparameters = step["Arguments"]["HyperParameters"]
        assert json.loads(hyperparameters["llmaj_metrics"]) == ["Correctness", "Helpfulness"]
        bucket, _, key = hyperparameters["custom_metrics"][len("s3://"):].partition("/")
        uploaded = json.loads(ctx.sm.boto3_client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())
        (custom,) = uploaded
        assert custom["customMetricDefinition"]["name"] == "Brevity"
        assert custom["customMetricDefinition"]["instructions"].endswith("Prompt: {{prompt}}\nResponse: {{prediction}}")

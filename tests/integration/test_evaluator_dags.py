"""CustomScorerEvaluatorOperator and MultiTurnRLEvaluatorOperator through a real Airflow 3 (scheduler, triggerer,
LocalExecutor workers) against the local SageMaker: each task defers, its trigger waits for the pipeline
execution, and the metrics in XCom are the numbers in the result files the execution wrote to S3.
(BenchMark and LLM-as-judge run through the flagship DAG: ``test_example_evaluate_deploy.py``.)"""

from __future__ import annotations

import pytest

from tests.integration.provider_fixtures import AMBIENT_KEY, BUCKET, CONNECTION_KEY, Ctx
from tests.operators.conftest import Env
from tests.operators.evaluation_env import prepare
from tests.operators.test_evaluator_operators import file_value, result_document

pytestmark = pytest.mark.integration

DAG_ID = "it_evaluators"
#: task id -> (evaluation type, its job name prefix, the metric a rule plants, tuned value, base value)
PLANTED = {
    "custom_scorer": ("custom_scorer", "it-scorer", "exact_match", 0.6875, 0.3125),
    "multi_turn_rl": ("multi_turn_rl", "it-mtrl-eval", "success_rate", 0.9375, 0.5625),
}


def test_custom_scorer_and_multi_turn_rl_evaluators_defer_and_return_the_files_metrics(ctx: Ctx) -> None:
    env = Env(sm=ctx.sm, conn_id="aws_default", bucket=BUCKET, role_arn=ctx.role_arn)
    package = prepare(env)
    for _, prefix, metric, tuned, base in PLANTED.values():
        ctx.sm.add_rule(kind="pipeline_execution", name_glob=f"*{prefix}-*", outcome="Succeeded",
                        metrics={metric: tuned}, base_metrics={metric: base})
    ctx.af.wait_for_dag(DAG_ID, timeout=120)
    ctx.sm.clear_requests()

    run_id = ctx.af.trigger(DAG_ID, conf={"bucket": BUCKET, "role_arn": ctx.role_arn, "model": package})
    state = ctx.af.wait_for_run(DAG_ID, run_id, timeout=120)
    assert state == "success", ctx.af.component_logs(tail=120)
    # every request of every process (workers, triggerer), before the test reads anything itself
    signers = {r["access_key_id"] for r in ctx.sm.requests() if r["service"] != "local"}
    assert signers == {CONNECTION_KEY} and AMBIENT_KEY not in signers, signers
    assert len(ctx.sm.requests(operation="StartPipelineExecution")) == 2

    for task_id, (kind, _, metric, tuned, base) in PLANTED.items():
        ti = ctx.af.ti(DAG_ID, run_id, task_id)
        assert (ti["state"], ti["try_number"]) == ("success", 1), ti
        assert "Deferring" in ctx.af.task_log(DAG_ID, run_id, task_id)
        result = ctx.af.xcom(DAG_ID, run_id, task_id)
        triggered = ctx.af.trigger_logs(DAG_ID, run_id, task_id)
        assert any(result["execution_arn"] in text for text in triggered.values()), f"{task_id}: no trigger ran"
        assert (result["evaluation_type"], result["status"], result["model"]) == (kind, "Succeeded", package)
        assert result["mlflow"]["resource_arn"] is None
        row = next(r for r in result["metrics"] if r["metric"] == metric and r["subtask"] is None)
        for side, planted in (("tuned", tuned), ("base", base)):
            value, stderr = file_value(result_document(env, result["report_s3_uris"][side]), kind, metric)
            assert row[side] == value == planted, (task_id, side)
            if stderr is not None:
                assert row[f"{side}_stderr"] == stderr
        assert row["delta"] == pytest.approx(tuned - base)

"""The flagship DAG through a real Airflow 3 and the local SageMaker: fine-tune → evaluate base and tuned
(benchmark and LLM-as-judge, in parallel) → gate → approve → deploy, on the gate's pass and fail paths."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.integration.provider_fixtures import AMBIENT_KEY, BUCKET, CONNECTION_KEY, Ctx

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

DAG_ID = "smtrain_finetune_evaluate_deploy"


def _run(ctx: Ctx, endpoint: str) -> str:
    ctx.sm.clear_requests()
    run_id = ctx.af.trigger(DAG_ID, conf={"role_arn": ctx.role_arn, "bucket": BUCKET, "endpoint_name": endpoint})
    state = ctx.af.wait_for_run(DAG_ID, run_id, timeout=480)
    assert state == "success", ctx.af.component_logs(tail=120)
    # every request of every process (workers, triggerer) before the test reads anything itself
    signers = {r["access_key_id"] for r in ctx.sm.requests() if r["service"] != "local"}
    assert signers == {CONNECTION_KEY} and AMBIENT_KEY not in signers, signers
    return run_id


def _s3_json(ctx: Ctx, folder: str) -> dict[str, Any]:
    """The one result file under an S3 folder the evaluation result names."""
    bucket, _, prefix = folder[5:].partition("/")
    s3 = ctx.sm.boto3_client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])]
    (key,) = [k for k in keys if k.endswith(".json")]
    return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


def _states(ctx: Ctx, run_id: str) -> dict[str, str]:
    return {t: ctx.af.ti(DAG_ID, run_id, t)["state"] for t in ("gate", "approve", "deploy", "reject")}


def _prepare(ctx: Ctx) -> None:
    ctx.sm.boto3_client("sagemaker").create_model_package_group(ModelPackageGroupName="smtrain-finetuned")
    ctx.af.wait_for_dag(DAG_ID, timeout=120)


def test_gate_passes_then_the_model_is_approved_and_deployed(ctx: Ctx) -> None:
    _prepare(ctx)
    _check_pass_path(ctx, _run(ctx, "it-flagship-pass"))


def test_gate_fails_then_nothing_is_approved_or_deployed(ctx: Ctx) -> None:
    _prepare(ctx)
    # planted: the benchmark's fine-tuned model does worse than its base model
    ctx.sm.add_rule(
        kind="pipeline_execution", name_glob="benchmark-*", outcome=None,
        metrics={"accuracy": 0.31}, base_metrics={"accuracy": 0.52},
    )
    _check_fail_path(ctx, _run(ctx, "it-flagship-fail"))


def _check_pass_path(ctx: Ctx, run_id: str) -> None:
    assert _states(ctx, run_id) == {"gate": "success", "approve": "success", "deploy": "success", "reject": "skipped"}

    benchmark, judge = (ctx.af.xcom(DAG_ID, run_id, t) for t in ("benchmark", "judge"))
    assert (benchmark["evaluation_type"], judge["evaluation_type"]) == ("benchmark", "llm_as_judge")
    for result in (benchmark, judge):
        assert result["status"] == "Succeeded" and result["metrics"], result
        assert all(row["base"] is not None and row["tuned"] is not None for row in result["metrics"])
    # the metrics in XCom are the numbers in the result files in S3
    tuned_file = _s3_json(ctx, benchmark["report_s3_uris"]["tuned"])
    overall = next(r for r in benchmark["metrics"] if r["subtask"] is None)
    assert tuned_file["results"]["all"][overall["metric"]] == overall["tuned"]
    base_judge = _s3_json(ctx, judge["report_s3_uris"]["base"])
    for row in judge["metrics"]:
        assert base_judge["results"][row["metric"]]["score"] == row["base"]

    gate = ctx.af.xcom(DAG_ID, run_id, "gate")
    assert gate["passed"] is True and len(gate["checks"]) == len(benchmark["metrics"]) + len(judge["metrics"]) + 1
    log = ctx.af.task_log(DAG_ID, run_id, "gate")
    assert "Evaluation gate PASSED" in log and "llm_as_judge/all/Correctness" in log

    sft = ctx.af.xcom(DAG_ID, run_id, "sft")
    deploy = ctx.af.xcom(DAG_ID, run_id, "deploy")
    assert deploy["status"] == "InService", deploy
    client = ctx.sm.boto3_client("sagemaker")
    package = client.describe_model_package(ModelPackageName=sft["model_package_arn"])
    assert package["ModelApprovalStatus"] == "Approved"
    assert client.describe_endpoint(EndpointName="it-flagship-pass")["EndpointStatus"] == "InService"


def _check_fail_path(ctx: Ctx, run_id: str) -> None:
    assert _states(ctx, run_id) == {"gate": "success", "approve": "skipped", "deploy": "skipped", "reject": "success"}
    benchmark = ctx.af.xcom(DAG_ID, run_id, "benchmark")
    address = f"{benchmark['benchmark']}/all/accuracy"
    assert benchmark["summary"][address] == {"base": 0.52, "tuned": 0.31, "delta": pytest.approx(-0.21)}
    gate = ctx.af.xcom(DAG_ID, run_id, "gate")
    failed = [(c["address"], c["bound"]) for c in gate["checks"] if not c["passed"]]
    assert gate["passed"] is False and failed == [(address, "min_delta")], gate
    assert "FAIL" in ctx.af.task_log(DAG_ID, run_id, "gate")
    assert ctx.af.xcom(DAG_ID, run_id, "reject") == [f"{address} delta min_delta"]
    assert ctx.sm.requests(operation="CreateEndpoint") == [] and ctx.sm.requests(operation="UpdateEndpoint") == []
    client = ctx.sm.boto3_client("sagemaker")
    sft = ctx.af.xcom(DAG_ID, run_id, "sft")
    status = client.describe_model_package(ModelPackageName=sft["model_package_arn"])["ModelApprovalStatus"]
    assert status != "Approved"

"""The nightly benchmark DAG on its schedule (every minute here): the second scheduled run compares itself with
the first and flags the regression planted in it; each run writes its report and emits an Asset event."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.integration.provider_fixtures import CONNECTION_KEY, Ctx

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

DAG_ID = "smtrain_nightly_benchmarks"
BUCKET = "smtrain-benchmarks"  # the DAG's default params: scheduled runs have no conf
PAIRS = 4  # 2 models x 2 benchmarks


def _scheduled_runs(ctx: Ctx) -> list[dict[str, Any]]:
    resp = ctx.af.request("GET", f"/dags/{DAG_ID}/dagRuns", params={"order_by": "run_after"})
    return [run for run in resp.json()["dag_runs"] if run["run_type"] == "scheduled"]


def _wait_for_two_finished_runs(ctx: Ctx, timeout: float) -> list[dict[str, Any]]:
    deadline = time.time() + timeout
    while time.time() < deadline:
        runs = _scheduled_runs(ctx)
        if len(runs) >= 2 and all(run["state"] in {"success", "failed"} for run in runs[:2]):
            return runs[:2]
        time.sleep(1)
    raise AssertionError(f"two scheduled runs did not finish in {timeout}s: {_scheduled_runs(ctx)}")


@pytest.mark.timeout(480)  # two scheduled runs, one minute apart at least
def test_second_night_flags_the_planted_regression(ctx: Ctx) -> None:
    ctx.sm.create_bucket(BUCKET)
    # first night: model 0 scores 0.95 on mmlu; later nights get the usual (lower, deterministic) values
    ctx.sm.add_rule(
        kind="pipeline_execution", name_glob="nightly-0-mmlu-*", outcome=None, metrics={"accuracy": 0.95}, times=1
    )
    ctx.sm.clear_requests()
    try:
        ctx.af.wait_for_dag(DAG_ID, timeout=120)  # unpaused: the scheduler runs it every minute
        first, second = _wait_for_two_finished_runs(ctx, timeout=420)
    finally:
        ctx.af.request("PATCH", f"/dags/{DAG_ID}", json={"is_paused": True})
    assert (first["state"], second["state"]) == ("success", "success"), ctx.af.component_logs(tail=80)
    signers = {r["access_key_id"] for r in ctx.sm.requests() if r["service"] != "local"}
    assert signers == {CONNECTION_KEY}, signers

    night1 = ctx.af.xcom(DAG_ID, first["dag_run_id"], "report")
    night2 = ctx.af.xcom(DAG_ID, second["dag_run_id"], "report")
    assert night1["regressions"] == [] and night1["previous_created_at"] is None
    assert night2["previous_created_at"] is not None
    assert [(r["model"], r["benchmark"], r["metric"], r["kind"], r["previous"]) for r in night2["regressions"]] == [
        ("huggingface-llm-qwen2-5-7b-instruct", "mmlu", "accuracy", "worse", 0.95)
    ]
    assert night2["metrics"] == night1["metrics"] >= PAIRS
    for map_index in range(PAIRS):  # one evaluation per model x benchmark, waiting in the triggerer
        assert ctx.af.ti(DAG_ID, second["dag_run_id"], "benchmark", map_index=map_index)["state"] == "success"

    s3 = ctx.sm.boto3_client("s3")
    report_key = night2["report_uri"].split(f"s3://{BUCKET}/", 1)[1]
    report = json.loads(s3.get_object(Bucket=BUCKET, Key=report_key)["Body"].read())
    assert report["regressions"] == night2["regressions"] and len(report["rows"]) == night2["metrics"]
    csv_text = s3.get_object(Bucket=BUCKET, Key=night2["csv_uri"].split(f"s3://{BUCKET}/", 1)[1])["Body"].read()
    flagged = [line for line in csv_text.decode().splitlines() if line.endswith(",True")]
    assert len(flagged) == 1 and flagged[0].startswith("huggingface-llm-qwen2-5-7b-instruct,mmlu,,accuracy,")
    log = ctx.af.task_log(DAG_ID, second["dag_run_id"], "report")
    assert "REGRESSION huggingface-llm-qwen2-5-7b-instruct mmlu/all/accuracy: 0.9500 ->" in log

    events = ctx.af.request("GET", "/assets/events", params={"source_dag_id": DAG_ID}).json()["asset_events"]
    extras = {event["source_run_id"]: event["extra"] for event in events}
    assert extras[second["dag_run_id"]]["report_uri"] == night2["report_uri"]
    assert len(extras[second["dag_run_id"]]["regressions"]) == 1

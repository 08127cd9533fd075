"""Sentinel credentials on every evaluation, gate and deploy path.

The task's connection carries a canary secret key and session token; the worker's environment carries
ambient credentials whose secret and session token are canaries too. Each evaluator (the MultiTurnRL one
builds its own ``boto3.client("sagemaker")`` and ignores the SDK session), the quality gates, approval and
deploy run against the local SageMaker, deferrable where they can: every request in the local SageMaker's
log is signed by the connection's access key, and no canary is in the task log, the result, XCom, the
task state store, the serialized trigger or the rendered template fields. The MultiTurnRL evaluator
writes nothing into the worker's working directory.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG
from airflow.sdk.exceptions import DownstreamTasksSkipped

from airflow_provider_smtrain.operators.deploy import DeployModelOperator
from airflow_provider_smtrain.operators.gate import EvaluationGateBranchOperator, EvaluationGateOperator
from airflow_provider_smtrain.operators.model_package import ApproveModelPackageOperator
from tests.operators.conftest import Env
from tests.operators.evaluation_env import prepare
from tests.operators.runner import FakeTI, MemoryStateStore, run_operator
from tests.operators.test_deploy_operators import GROUP, register
from tests.operators.test_evaluator_operators import OPERATORS, arguments
from tests.operators.test_no_secret_leaks import CANARIES, CONN_ID, canary, rendered_fields, run_deferrable

__all__ = ["canary"]  # the fixture, shared with test_no_secret_leaks

CONNECTION_KEY = "AKIACANARYCONN000001"  # the canary connection's access key
AMBIENT_SECRET = "AmbientSecretCanaryQ2w9Xr4TbZ7k"
AMBIENT_TOKEN = "AmbientTokenCanaryLm3Vc8Hy1Ns6Fd"
SENTINELS = (*CANARIES, AMBIENT_SECRET, AMBIENT_TOKEN)


@pytest.fixture
def sentinel(canary: Env, monkeypatch: pytest.MonkeyPatch, ambient_access_key: str) -> Env:
    """The canary connection, and ambient environment credentials that must never be used or shown."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ambient_access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", AMBIENT_SECRET)
    monkeypatch.setenv("AWS_SESSION_TOKEN", AMBIENT_TOKEN)
    canary.sm.configure(endpoint_seconds=0.3)
    canary.sm.add_rule(kind="pipeline_execution", name_glob="*", outcome="Succeeded", seconds=0.3)
    return canary


def signers(env: Env) -> set[str]:
    """The access keys that signed the requests the code under test made (the local control API left out)."""
    return {r["access_key_id"] for r in env.sm.requests() if r["service"] != "local"}


def assert_no_sentinel(where: str, value: Any) -> None:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    for sentinel in SENTINELS:
        assert sentinel not in text, f"{where} holds a credential: ...{text[max(text.find(sentinel) - 200, 0):][:400]}"


def task_log(capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> str:
    captured = capsys.readouterr()
    return captured.out + captured.err + "\n".join(f"{r.getMessage()} {r.args!r}" for r in caplog.records)


def assert_left_nothing(log: str, operator: Any, result: Any, ti: FakeTI, store: MemoryStateStore | None,
                        triggers: list[Any]) -> None:
    for where, value in (("the task log", log), ("the result", result), ("XCom", ti.xcoms),
                         ("the task state store", store.data if store else {}),
                         ("the serialized trigger", triggers), ("the rendered template fields",
                                                                rendered_fields(operator))):
        assert_no_sentinel(where, value)


@pytest.mark.parametrize("kind", list(OPERATORS))
def test_evaluator_is_signed_by_the_connection_only_and_leaks_nothing(
    sentinel: Env, kind: str, ambient_access_key: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture,
) -> None:
    package = prepare(sentinel)
    monkeypatch.chdir(tmp_path)  # the worker's working directory
    caplog.set_level(logging.INFO)
    with DAG(dag_id="dag", schedule=None, start_date=datetime(2026, 1, 1)):
        operator = OPERATORS[kind](
            task_id="evaluate", aws_conn_id=CONN_ID, deferrable=True, poll_interval=0.2, model=package,
            role=sentinel.role_arn, s3_output_path=f"s3://{sentinel.bucket}/eval-out", evaluate_base_model=True,
            **arguments(sentinel, kind),
        )
    ti, store = FakeTI(task_id="evaluate"), MemoryStateStore()
    result, triggers = run_deferrable(operator, ti, store)

    assert result["status"] == "Succeeded" and result["metrics"]
    operations = {r["operation"] for r in sentinel.sm.requests() if r["service"] != "local"}
    assert {"CreatePipeline", "StartPipelineExecution", "DescribePipelineExecution", "GetObject"} <= operations
    assert signers(sentinel) == {CONNECTION_KEY} and ambient_access_key not in signers(sentinel)
    assert triggers, "the task deferred: its trigger was checked"
    log = task_log(capsys, caplog)
    assert "Deferring" in log, "the task log was captured"
    assert_left_nothing(log, operator, result, ti, store, triggers)
    assert os.listdir(tmp_path) == []  # MultiTurnRL's definition dump went elsewhere


def test_gates_make_no_aws_call_and_leak_nothing(
    sentinel: Env, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    package = prepare(sentinel)
    caplog.set_level(logging.INFO)
    result = run_operator(
        OPERATORS["benchmark"](task_id="evaluate", aws_conn_id=CONN_ID, deferrable=False, poll_interval=0.2,
                               model=package, role=sentinel.role_arn, evaluate_base_model=True,
                               s3_output_path=f"s3://{sentinel.bucket}/eval-out", **arguments(sentinel, "benchmark")),
        FakeTI(task_id="evaluate"), MemoryStateStore(),
    )
    sentinel.sm.clear_requests()
    capsys.readouterr()
    caplog.clear()
    thresholds = {"accuracy": {"min_delta": -1.0}}
    gates: list[Callable[[], Any]] = [
        lambda: EvaluationGateOperator(task_id="gate", results=[result], thresholds=thresholds),
        lambda: EvaluationGateBranchOperator(task_id="gate", results=result, thresholds=thresholds,
                                             pass_task_ids="approve", fail_task_ids="reject"),
    ]
    for factory in gates:
        with DAG(dag_id="gate_dag", schedule=None, start_date=datetime(2026, 1, 1)):
            gate = factory()
            gate >> [EmptyOperator(task_id=t) for t in ("approve", "reject")]
        ti = FakeTI(task_id="gate")
        ti.task = gate  # type: ignore[attr-defined]
        try:
            verdict = gate.execute({"ti": ti, "task_instance": ti, "params": {}})  # type: ignore[arg-type]
        except DownstreamTasksSkipped:
            verdict = ti.xcoms["return_value"]
        assert verdict["passed"] is True and verdict["checks"]
        assert_left_nothing(task_log(capsys, caplog), gate, verdict, ti, None, [])
    assert signers(sentinel) == set(), "a gate reads XCom only: no AWS request at all"


def test_approve_and_deploy_are_signed_by_the_connection_only_and_leak_nothing(
    sentinel: Env, ambient_access_key: str, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    sentinel.sm.boto3_client("sagemaker").create_model_package_group(ModelPackageGroupName=GROUP)
    package = register(sentinel)
    sentinel.sm.clear_requests()
    caplog.set_level(logging.INFO)
    with DAG(dag_id="approve_dag", schedule=None, start_date=datetime(2026, 1, 1)):
        approve = ApproveModelPackageOperator(task_id="approve", aws_conn_id=CONN_ID, model_package_arn=package)
    with DAG(dag_id="deploy_dag", schedule=None, start_date=datetime(2026, 1, 1)):
        deploy = DeployModelOperator(task_id="deploy", aws_conn_id=CONN_ID, endpoint_name="canary-endpoint",
                                     role=sentinel.role_arn, instance_type="ml.g5.2xlarge", model_package_arn=package,
                                     deferrable=True, poll_interval=0.2)
    approve_ti = FakeTI(task_id="approve")
    approved = run_operator(approve, approve_ti, MemoryStateStore())
    assert approved["status"] == "Approved" and approved["changed"] is True
    assert_left_nothing(task_log(capsys, caplog), approve, approved, approve_ti, None, [])

    ti, store = FakeTI(task_id="deploy"), MemoryStateStore()
    deployed, triggers = run_deferrable(deploy, ti, store)
    assert deployed["status"] == "InService" and triggers
    operations = {r["operation"] for r in sentinel.sm.requests() if r["service"] != "local"}
    assert {"DescribeModelPackage", "UpdateModelPackage", "CreateModel", "CreateEndpointConfig", "CreateEndpoint",
            "DescribeEndpoint"} <= operations, operations
    assert signers(sentinel) == {CONNECTION_KEY} and ambient_access_key not in signers(sentinel)
    assert_left_nothing(task_log(capsys, caplog), deploy, deployed, ti, store, triggers)

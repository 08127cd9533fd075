"""Credentials never leave the connection: not in the task log, XCom, the result, the state store, the
trigger's serialized kwargs (both stored in the metadata database) or the rendered template fields.

The connection carries a distinctive secret key and session token; the fine-tuning operator (SFT) and the
AI Registry operator (CreateDataSetOperator) run deferrably against the local SageMaker, and everything
they left behind is searched for both strings.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk import DAG
from airflow.sdk.exceptions import TaskDeferred

from airflow_provider_smtrain.operators.finetune import SFTTrainerOperator
from airflow_provider_smtrain.operators.registry import CreateDataSetOperator
from tests.operators.conftest import Env
from tests.operators.finetune_env import GROUP, MODEL, data, prepare
from tests.operators.runner import FakeTI, MemoryStateStore, first_event, make_context, rebuild_trigger

SECRET_KEY = "SecretCanary7f3aQ9zLw2xVb8NmK4pR"
SESSION_TOKEN = "TokenCanaryGh5TjX0uYe3oWq6ZsD1c"
CONN_ID = "smtrain_canary"
CANARIES = (SECRET_KEY, SESSION_TOKEN)


@pytest.fixture
def canary(env: Env, monkeypatch: pytest.MonkeyPatch) -> Env:
    monkeypatch.setenv(
        f"AIRFLOW_CONN_{CONN_ID.upper()}",
        env.sm.airflow_connection_json(
            access_key_id="AKIACANARYCONN000001", secret_access_key=SECRET_KEY, session_token=SESSION_TOKEN
        ),
    )
    env.sm.configure(training_seconds=3600, hub_import_seconds=0.3)  # a job ends when the test says
    return env


def run_deferrable(
    operator: Any, ti: FakeTI, store: MemoryStateStore, finish: Any = None
) -> tuple[Any, list[Any]]:
    """
    Execute, defer, (``finish(job_name)``), run the rebuilt trigger, resume a fresh copy; the result and
    the serialized trigger with the deferral's kwargs.
    """
    context = make_context(ti, store)
    operator.render_template_fields(context)
    pristine = copy.deepcopy(operator)
    try:
        return operator.execute(context), []
    except TaskDeferred as deferred:
        serialized = deferred.trigger.serialize()
        if finish is not None:
            finish(serialized[1]["job_name"])
        event = asyncio.run(first_event(rebuild_trigger(deferred.trigger)))
        resumed = copy.deepcopy(pristine)
        result = resumed.resume_execution(deferred.method_name, {"event": event}, context)
        return result, [serialized, deferred.kwargs]


def rendered_fields(operator: Any) -> dict[str, Any]:
    return {field: getattr(operator, field, None) for field in operator.template_fields}


def assert_no_canary(where: str, text: str) -> None:
    for canary in CANARIES:
        assert canary not in text, f"{where} holds a credential: ...{text[max(text.find(canary) - 200, 0):][:400]}"


def assert_nothing_leaked(
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    operator: Any,
    result: Any,
    ti: FakeTI,
    store: MemoryStateStore,
    triggers: list[Any],
) -> None:
    captured = capsys.readouterr()
    logged = captured.out + captured.err + "\n".join(
        f"{record.getMessage()} {record.args!r}" for record in caplog.records
    )
    assert "Deferring" in logged or "Importing" in logged or "Reusing" in logged, "the task log was not captured"
    assert_no_canary("the task log", logged)
    assert_no_canary("the result", json.dumps(result, default=str))
    assert_no_canary("XCom", json.dumps(ti.xcoms, default=str))
    assert_no_canary("the task state store", json.dumps(store.data))
    assert_no_canary("the serialized trigger", json.dumps(triggers, default=str))
    assert_no_canary("the rendered template fields", json.dumps(rendered_fields(operator), default=str))
    assert triggers, "the task deferred: its trigger was checked"


def test_sft_leaks_no_credential(
    canary: Env, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    prepare(canary)
    caplog.set_level(logging.INFO)
    with DAG(dag_id="dag", schedule=None, start_date=datetime(2026, 1, 1)):
        operator = SFTTrainerOperator(
            task_id="sft", aws_conn_id=CONN_ID, deferrable=True, poll_interval=0.2, model=MODEL,
            accept_eula=True, role=canary.role_arn, training_dataset=data(canary, "sft"),
            model_package_group=GROUP, s3_output_path=f"s3://{canary.bucket}/ft-out",
            hyperparameters={"learning_rate": "0.0002"},
        )
    ti, store = FakeTI(task_id="sft"), MemoryStateStore()
    result, triggers = run_deferrable(
        operator, ti, store, finish=lambda name: canary.sm.force_job("training", name, "Completed")
    )

    assert result["status"] == "Completed"
    signers = {r["access_key_id"] for r in canary.sm.requests(operation="CreateTrainingJob")}
    assert signers == {"AKIACANARYCONN000001"}, "the canary connection signed the job"
    assert_nothing_leaked(capsys, caplog, operator, result, ti, store, triggers)


def test_create_dataset_leaks_no_credential(
    canary: Env, tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "train.jsonl").write_text('{"prompt": "2+2?", "completion": "4"}\n')
    caplog.set_level(logging.INFO)
    with DAG(dag_id="dag", schedule=None, start_date=datetime(2026, 1, 1)):
        operator = CreateDataSetOperator(
            task_id="register", aws_conn_id=CONN_ID, deferrable=True, poll_interval=0.2, name="canary-data",
            source=str(tmp_path / "train.jsonl"), customization_technique="SFT", role=canary.role_arn,
            default_bucket=canary.bucket,
        )
    ti, store = FakeTI(task_id="register"), MemoryStateStore()
    result, triggers = run_deferrable(operator, ti, store)

    assert result["status"] == "Available"
    signers = {r["access_key_id"] for r in canary.sm.requests(operation="ImportHubContent")}
    assert signers == {"AKIACANARYCONN000001"}
    assert_nothing_leaked(capsys, caplog, operator, result, ti, store, triggers)

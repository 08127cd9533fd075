"""MultiTurnRLTrainerOperator's job lifecycle and result against the local SageMaker (hub, AgentRFT jobs, AgentCore)."""

from __future__ import annotations

import json
import os
from datetime import datetime
from typing import Any

import pytest
from airflow.sdk.exceptions import TaskDeferred

from airflow_provider_smtrain.exceptions import SageMakerJobFailed
from airflow_provider_smtrain.operators.base import STATE_KEY
from airflow_provider_smtrain.operators.multi_turn_rl import MultiTurnRLTrainerOperator
from tests.operators.conftest import CONNECTION_ACCESS_KEY, Env
from tests.operators.interruptions import armed_execution_timeout, ring_at_request
from tests.operators.mtrl_env import MODEL, MODEL_VERSION, creates, describe, make_operator, prepare
from tests.operators.runner import FakeTI, MemoryStateStore, WorkerDied, kill_once_running, run_operator


@pytest.fixture
def mtrl(env: Env) -> dict[str, Any]:
    """An agent runtime, a prompt dataset and two model package groups in the local SageMaker."""
    return prepare(env)


def test_blocking_run_creates_one_agent_rft_job_and_returns_the_documented_result(
    env: Env, mtrl: dict[str, Any], store: MemoryStateStore, ti: FakeTI
) -> None:
    result = run_operator(
        make_operator(env, mtrl, hyperparameters={"learning_rate": "2e-4", "max_turns": 4}), ti, store
    )

    assert json.loads(json.dumps(result)) == result
    assert result["kind"] == "agent_rft" and result["job_category"] == "AgentRFT"
    assert result["status"] == "Completed" and result["failure_reason"] is None
    assert result["job_name"].startswith("agent-rft-") and result["job_name"].endswith("-1")
    assert result["job_arn"].endswith(f"job/AgentRFT/{result['job_name']}")
    assert result["technique"] == "MTRL" and result["training_type"] == "LORA"
    assert result["base_model"]["id"] == MODEL and result["base_model"]["version"] == MODEL_VERSION
    assert result["model_package"]["group_arn"].endswith(":model-package-group/agents-out")
    assert result["model_package_arn"] == result["model_package"]["arn"]
    assert result["model_package_arn"].startswith(
        result["model_package"]["group_arn"].replace("-group/", "/") + "/"
    )
    assert result["checkpoint_model_package_group_arn"].endswith("/agents-checkpoints")
    assert result["output_path"] == f"s3://{env.bucket}/mtrl"
    assert result["agent_env"] == {
        "type": "bedrock_agentcore",
        "arn": mtrl["runtime_arn"],
        "qualifier": "DEFAULT",
    }
    sent = json.loads(describe(env, result["job_name"])["JobConfigDocument"])["TrainingConfig"][
        "HyperParameters"
    ]
    assert sent == {"learning_rate": "0.0002", "max_turns": "4"}, (
        "only the overrides, converted to the recipe's types"
    )
    assert "hyperparameters" not in result, "values may be secrets: never in XCom"
    assert result["mlflow"]["resource_arn"] is None, "no MLflow unless asked"
    for key in ("creation_time", "end_time", "last_modified_time"):
        datetime.fromisoformat(result[key])
    assert result["console_url"].startswith("https://us-east-1.console.aws.amazon.com/sagemaker/")

    assert len(creates(env)) == 1
    assert describe(env, result["job_name"])["JobCategory"] == "AgentRFT"
    saved = store.get(STATE_KEY)
    assert saved["job_name"] == result["job_name"] and saved["kind"] == "agent_rft"
    assert saved["arn"] == result["job_arn"]
    assert ti.xcoms["job_name"] == result["job_name"]
    assert ti.xcoms["smtrain_model_package"]["arn"] == result["model_package_arn"]


def test_an_earlier_trainer_result_is_trained_further_in_its_own_group(
    env: Env, mtrl: dict[str, Any], store: MemoryStateStore, ti: FakeTI
) -> None:
    first = run_operator(make_operator(env, mtrl), ti, store)
    env.sm.clear_requests()

    second = run_operator(
        make_operator(env, mtrl, model=first, output_model_package_group=None),
        FakeTI(run_id="manual__2"),
        MemoryStateStore(),
    )

    assert second["source_model_package_arn"] == first["model_package_arn"]
    assert second["base_model"]["id"] == MODEL
    assert second["model_package"]["group_arn"] == first["model_package"]["group_arn"], (
        "the package's own group"
    )
    assert second["model_package"]["version"] == first["model_package"]["version"] + 1
    assert env.sm.requests(operation="CreateModelPackageGroup") == []


def test_every_request_is_signed_by_the_connection_with_ambient_sentinels(
    env: Env, mtrl: dict[str, Any], store: MemoryStateStore, ti: FakeTI, ambient_access_key: str
) -> None:
    assert os.environ["AWS_ACCESS_KEY_ID"] == ambient_access_key
    run_operator(make_operator(env, mtrl, agent_env=mtrl["runtime_id"], deferrable=True), ti, store)

    requests = [r for r in env.sm.requests() if r["service"] != "local"]
    services = {r["service"] for r in requests}
    assert {"sagemaker", "s3", "iam", "sts", "bedrock-agentcore"} <= services, services
    assert {r["access_key_id"] for r in requests} == {CONNECTION_ACCESS_KEY}
    runtime_reads = [r for r in requests if r["service"] == "bedrock-agentcore"]
    assert len(runtime_reads) == 1 and runtime_reads[0]["path"] == f"/runtimes/{mtrl['runtime_id']}/"


def test_deferrable_run_defers_on_the_agent_rft_trigger(
    env: Env, mtrl: dict[str, Any], store: MemoryStateStore, ti: FakeTI
) -> None:
    operator = make_operator(env, mtrl, deferrable=True)
    with pytest.raises(TaskDeferred) as deferred:
        operator.execute({"ti": ti, "task_state_store": store, "params": {}})
    classpath, kwargs = deferred.value.trigger.serialize()
    assert classpath.endswith("AgentRFTJobTrigger")
    assert kwargs["job_name"] == ti.xcoms["job_name"] and kwargs["aws_conn_id"] == env.conn_id

    result = run_operator(make_operator(env, mtrl, deferrable=True), ti, store)
    assert result["status"] == "Completed" and len(creates(env)) == 1


class CrashAfterSubmit(MultiTurnRLTrainerOperator):
    """Dies right after the SDK submitted the job, as a worker lost at the worst moment would."""

    def submit_job(self, spec: Any, name: str, context: Any) -> None:
        super().submit_job(spec, name, context)
        raise WorkerDied("worker lost right after CreateJob")


def test_retry_after_a_crash_reattaches_without_a_second_create_job(
    env: Env, mtrl: dict[str, Any], store: MemoryStateStore, ti: FakeTI
) -> None:
    env.sm.configure(training_seconds=2.0)
    with pytest.raises(WorkerDied):
        run_operator(make_operator(env, mtrl, cls=CrashAfterSubmit), ti, store)
    assert len(creates(env)) == 1
    env.sm.clear_requests()

    ti.retry()
    result = run_operator(make_operator(env, mtrl, deferrable=True), ti, store)

    assert result["status"] == "Completed"
    assert creates(env) == [], "the retry re-attaches: no second CreateJob"
    assert not env.sm.requests(operation="DescribeHubContent"), "re-attaching constructs no SDK trainer"


def test_on_kill_stops_the_job(env: Env, mtrl: dict[str, Any], store: MemoryStateStore, ti: FakeTI) -> None:
    env.sm.configure(training_seconds=60)
    operator = make_operator(env, mtrl)
    errors = kill_once_running(operator, ti, store)

    assert [r["status_code"] for r in env.sm.requests(operation="StopJob")] == [200]
    assert describe(env, ti.xcoms["job_name"])["JobStatus"] in ("Stopping", "Stopped")
    assert errors and "Stopped" in str(errors[0])


def test_deferrable_deadline_stops_the_job(
    env: Env, mtrl: dict[str, Any], store: MemoryStateStore, ti: FakeTI
) -> None:
    env.sm.configure(training_seconds=60)
    with pytest.raises(SageMakerJobFailed, match="deadline"):
        run_operator(make_operator(env, mtrl, deferrable=True, max_wait=1.0), ti, store)
    assert len(env.sm.requests(operation="StopJob")) == 1


@pytest.mark.parametrize("deferrable", [False, True])
def test_a_failed_job_fails_the_task_with_its_failure_reason(
    env: Env, mtrl: dict[str, Any], store: MemoryStateStore, ti: FakeTI, deferrable: bool
) -> None:
    env.sm.add_rule(
        kind="agent_rft",
        name_glob="*",
        outcome="Failed",
        failure_reason="ClientError: agent runtime timed out",
    )
    with pytest.raises(SageMakerJobFailed, match="ended Failed: ClientError: agent runtime timed out"):
        run_operator(make_operator(env, mtrl, deferrable=deferrable), ti, store)


def test_a_job_the_sdk_named_otherwise_is_stopped_and_the_task_fails(
    env: Env, mtrl: dict[str, Any], store: MemoryStateStore, ti: FakeTI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Should a new SDK ignore the pinned name, its job would be found by no retry: stop it, fail clearly."""
    import contextlib

    import airflow_provider_smtrain.sdk.multi_turn_rl as adapter
    from airflow_provider_smtrain.exceptions import SageMakerSubmitError

    monkeypatch.setattr(adapter, "fixed_unique_name", lambda module, name: contextlib.nullcontext())
    env.sm.configure(training_seconds=60)
    with pytest.raises(SageMakerSubmitError, match="did not start Agent RFT job"):
        run_operator(make_operator(env, mtrl), ti, store)
    [created] = creates(env)
    assert created["name"].startswith(f"{MODEL}-mtrl-")
    stopped = [r["name"] for r in env.sm.requests(operation="StopJob") if r["status_code"] == 200]
    assert stopped == [created["name"]]


def test_a_timeout_as_the_job_is_created_is_not_swallowed_by_the_sdk(
    env: Env, mtrl: dict[str, Any], store: MemoryStateStore, ti: FakeTI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Airflow's execution timeout rings inside ``MultiTurnRLTrainer.train()`` as CreateJob is answered: the
    task fails with it (the SDK's telemetry decorator would swallow it and the task attach to the job), and
    nothing more is sent."""
    from airflow.sdk.exceptions import AirflowTaskTimeout

    with armed_execution_timeout() as ring:
        ring_at_request(monkeypatch, "CreateJob", ring, after_response=True)
        with pytest.raises(AirflowTaskTimeout):
            run_operator(make_operator(env, mtrl), ti, store)
    sent = [r["operation"] for r in env.sm.requests() if r["service"] != "local"]
    assert sent[-1] == "CreateJob" and len(creates(env)) == 1, sent

"""MultiTurnRLTrainerOperator against the local SageMaker (public hub, AgentRFT jobs, AgentCore), in-process."""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk import DAG
from airflow.sdk.exceptions import TaskDeferred

from airflow_provider_smtrain.exceptions import SageMakerJobFailed
from airflow_provider_smtrain.operators.base import STATE_KEY
from airflow_provider_smtrain.operators.multi_turn_rl import MultiTurnRLTrainerOperator
from airflow_provider_smtrain.specs import SpecValidationError
from tests.operators.conftest import CONNECTION_ACCESS_KEY, Env
from tests.operators.runner import FakeTI, MemoryStateStore, WorkerDied, run_operator

MODEL = "huggingface-llm-qwen2-5-7b-instruct"
MODEL_VERSION = "1.1.0"
TASK_OPTIONS = (
    "max_wait",
    "stop_job_on_kill",
    "poll_interval",
    "wait_for_completion",
    "execution_timeout",
    "region_name",
)


@pytest.fixture
def mtrl(env: Env) -> dict[str, Any]:
    """An agent runtime, a prompt dataset and two model package groups in the local SageMaker."""
    env.sm.put_object(env.bucket, "prompts/train.jsonl", b'{"prompt": "Book a flight to Paris"}\n')
    agentcore = env.sm.boto3_client("bedrock-agentcore-control")
    runtime = agentcore.create_agent_runtime(
        agentRuntimeName="travelAgent",
        agentRuntimeArtifact={
            "containerConfiguration": {"containerUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/a:1"}
        },
        roleArn=env.role_arn,
        networkConfiguration={"networkMode": "PUBLIC"},
    )
    sagemaker = env.sm.boto3_client("sagemaker")
    for group in ("agents-out", "agents-checkpoints"):
        sagemaker.create_model_package_group(ModelPackageGroupName=group)
    env.sm.clear_requests()
    return {"runtime_id": runtime["agentRuntimeId"], "runtime_arn": runtime["agentRuntimeArn"]}


def mtrl_args(env: Env, mtrl: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    args: dict[str, Any] = {
        "model": MODEL,
        "agent_env": mtrl["runtime_arn"],
        "role": env.role_arn,
        "training_dataset": f"s3://{env.bucket}/prompts/",
        "s3_output_path": f"s3://{env.bucket}/mtrl",
        "output_model_package_group": "agents-out",
        "intermediate_checkpoint_model_package_group": "agents-checkpoints",
    }
    args.update(overrides)
    return {k: v for k, v in args.items() if v is not None}


def make_operator(
    env: Env,
    mtrl: dict[str, Any],
    *,
    deferrable: bool = False,
    cls: type = MultiTurnRLTrainerOperator,
    **overrides: Any,
) -> MultiTurnRLTrainerOperator:
    options = {key: overrides.pop(key) for key in TASK_OPTIONS if key in overrides}
    options.setdefault("poll_interval", 0.2)
    with DAG(dag_id="dag", schedule=None, start_date=datetime(2026, 1, 1)):
        operator: MultiTurnRLTrainerOperator = cls(
            task_id="agent_rft",
            aws_conn_id=env.conn_id,
            deferrable=deferrable,
            **options,
            **mtrl_args(env, mtrl, **overrides),
        )
    return operator


def creates(env: Env) -> list[dict[str, Any]]:
    return env.sm.requests(operation="CreateJob")


def describe(env: Env, name: str) -> dict[str, Any]:
    response: dict[str, Any] = env.sm.boto3_client("sagemaker").describe_job(
        JobName=name, JobCategory="AgentRFT"
    )
    return response


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


def test_named_groups_are_only_described_and_no_mlflow_or_group_is_created(
    env: Env, mtrl: dict[str, Any], store: MemoryStateStore, ti: FakeTI
) -> None:
    run_operator(make_operator(env, mtrl), ti, store)

    operations = [r["operation"] for r in env.sm.requests() if r["service"] == "sagemaker"]
    assert "CreateModelPackageGroup" not in operations
    assert not [op for op in operations if "Mlflow" in op], operations
    assert operations.count("CreateJob") == 1


def test_unnamed_groups_are_get_or_created_once_under_the_sdk_names(
    env: Env, mtrl: dict[str, Any], store: MemoryStateStore, ti: FakeTI
) -> None:
    unnamed = {"output_model_package_group": None, "intermediate_checkpoint_model_package_group": None}
    first = run_operator(make_operator(env, mtrl, **unnamed), ti, store)
    second = run_operator(make_operator(env, mtrl, **unnamed), FakeTI(run_id="manual__2"), MemoryStateStore())

    created = env.sm.requests(operation="CreateModelPackageGroup")
    assert len(created) == 2, "one output and one checkpoint group, reused by the second run"
    assert first["model_package"]["group_arn"].endswith(f"/{MODEL}-mtrl-mpg")
    assert second["checkpoint_model_package_group_arn"].endswith(f"/{MODEL}-mtrl-checkpoint-mpg")


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
    errors: list[BaseException] = []

    def run() -> None:
        try:
            run_operator(operator, ti, store)
        except BaseException as err:
            errors.append(err)

    worker = threading.Thread(target=run)
    worker.start()
    deadline = time.time() + 30
    while "job_name" not in ti.xcoms and time.time() < deadline:
        time.sleep(0.1)
    operator.on_kill()
    worker.join(30)

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


def test_nothing_is_written_to_the_working_directory_or_left_in_the_temp_dir(
    env: Env,
    mtrl: dict[str, Any],
    store: MemoryStateStore,
    ti: FakeTI,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    before = set(os.listdir(tempfile.gettempdir()))
    run_operator(make_operator(env, mtrl, hyperparameters={"max_turns": 4}), ti, store)
    assert list(workdir.iterdir()) == []
    leftovers = [
        name for name in set(os.listdir(tempfile.gettempdir())) - before if "recipe" in name or "mtrl" in name
    ]
    assert leftovers == []


BAD_INPUTS = [
    ({"agent_env": "not a runtime"}, "agent_env"),
    ({"model": "s3://bucket/model"}, "model"),
    ({"training_dataset": "/local/prompts.jsonl"}, "training_dataset"),
    ({"role": "AgentRole"}, "role"),
    (
        {"intermediate_checkpoint_model_package_group": "agents-out"},
        "intermediate_checkpoint_model_package_group",
    ),
    ({"mlflow_run_name": "run-1"}, "mlflow_run_name"),
    ({"networking": {"subnets": ["subnet-1"]}}, "networking.security_group_ids"),
    ({"hyperparameters": {"max_turns": [4]}}, "hyperparameters.max_turns"),
]


@pytest.mark.parametrize(("override", "field"), BAD_INPUTS, ids=[f for _, f in BAD_INPUTS])
def test_bad_input_is_rejected_before_any_aws_call(
    env: Env, mtrl: dict[str, Any], store: MemoryStateStore, ti: FakeTI, override: dict[str, Any], field: str
) -> None:
    with pytest.raises(SpecValidationError) as err:
        run_operator(make_operator(env, mtrl, **override), ti, store)
    assert any(e["field"] == field for e in err.value.errors), err.value.errors
    assert env.sm.requests() == [], "validation comes before any AWS call"
    assert store.data == {}


RECIPE_BAD_INPUTS = [
    ({"hyperparameters": {"max_turns": 100}}, "hyperparameters.max_turns", "must be <= 64"),
    ({"hyperparameters": {"max_turn": 4}}, "hyperparameters.max_turn", "did you mean 'max_turns'?"),
    ({"hyperparameters": {"learning_rate": "fast"}}, "hyperparameters.learning_rate", "must be a number"),
    ({"model": "huggingface-llm-no-such-model"}, "model", "no such model"),
    ({"model": "meta-textgeneration-llama-3-1-8b-instruct"}, "model", "no recipe"),
]


@pytest.mark.parametrize(
    ("override", "field", "message"), RECIPE_BAD_INPUTS, ids=[f for _, f, _ in RECIPE_BAD_INPUTS]
)
def test_inputs_that_need_the_recipe_are_rejected_before_the_job_is_created(
    env: Env,
    mtrl: dict[str, Any],
    store: MemoryStateStore,
    ti: FakeTI,
    override: dict[str, Any],
    field: str,
    message: str,
) -> None:
    with pytest.raises(SpecValidationError) as err:
        run_operator(make_operator(env, mtrl, **override), ti, store)
    found = {e["field"]: e["message"] for e in err.value.errors}
    assert field in found and message in found[field], found
    assert creates(env) == []


def test_a_region_outside_the_models_regions_is_rejected_before_any_aws_call(
    env: Env, mtrl: dict[str, Any], store: MemoryStateStore, ti: FakeTI
) -> None:
    with pytest.raises(SpecValidationError) as err:
        run_operator(make_operator(env, mtrl, region_name="sa-east-1"), ti, store)
    assert err.value.errors[0]["field"] == "region_name"
    assert "us-east-1" in err.value.errors[0]["message"]
    assert env.sm.requests() == [] and store.data == {}


def test_the_sdks_temporary_files_go_to_a_directory_removed_afterwards() -> None:
    from airflow_provider_smtrain.sdk.multi_turn_rl import private_tempdir

    before = tempfile.gettempdir()
    with private_tempdir() as path:
        leaked = tempfile.NamedTemporaryFile(prefix="smtj_recipe_", delete=False)  # as the SDK does
        leaked.close()
        assert os.path.dirname(leaked.name) == path
    assert not os.path.exists(leaked.name) and not os.path.exists(path)
    assert tempfile.gettempdir() == before


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


def test_an_mlflow_app_given_by_arn_is_reported_and_linked(
    env: Env, mtrl: dict[str, Any], store: MemoryStateStore, ti: FakeTI
) -> None:
    app = env.sm.boto3_client("sagemaker").create_mlflow_app(
        Name="agents", ArtifactStoreUri=f"s3://{env.bucket}/mlflow", RoleArn=env.role_arn
    )["Arn"]
    env.sm.clear_requests()
    result = run_operator(
        make_operator(env, mtrl, mlflow_app_arn=app, mlflow_experiment_name="agents", mlflow_run_name="r1"),
        ti,
        store,
    )

    mlflow = result["mlflow"]
    assert (mlflow["resource_arn"], mlflow["experiment_name"], mlflow["run_name"]) == (app, "agents", "r1")
    assert (
        mlflow["experiment_id"]
        and mlflow["run_id"]
        and mlflow["ui_path"].endswith(f"/runs/{mlflow['run_id']}")
    )
    assert ti.xcoms["smtrain_mlflow"]["arn"] == app
    assert not [r for r in env.sm.requests() if "Mlflow" in str(r["operation"])], (
        "an ARN needs no MLflow lookup"
    )


def test_mlflow_default_uses_the_accounts_app_without_creating_one(
    env: Env, mtrl: dict[str, Any], store: MemoryStateStore, ti: FakeTI
) -> None:
    app = env.sm.boto3_client("sagemaker").create_mlflow_app(
        Name="default-app",
        ArtifactStoreUri=f"s3://{env.bucket}/mlflow",
        RoleArn=env.role_arn,
        AccountDefaultStatus="ENABLED",
    )["Arn"]
    env.sm.clock.advance(3600)  # the app is Created
    env.sm.clear_requests()
    result = run_operator(make_operator(env, mtrl, mlflow_app_arn="default"), ti, store)

    assert result["mlflow"]["resource_arn"] == app
    operations = [r["operation"] for r in env.sm.requests()]
    assert "ListMlflowApps" in operations and "CreateMlflowApp" not in operations
    listing = env.sm.requests(operation="ListMlflowApps")
    assert {r["access_key_id"] for r in listing} == {CONNECTION_ACCESS_KEY}, "the SDK's own client, pinned"

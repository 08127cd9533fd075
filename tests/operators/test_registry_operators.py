"""CreateDataSetOperator and CreateEvaluatorOperator against the local SageMaker (create-or-reuse, waits, retries)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk import DAG
from airflow.sdk.exceptions import TaskDeferred

from airflow_provider_smtrain.exceptions import SageMakerJobFailed
from airflow_provider_smtrain.jobs.identity import STATE_KEY
from airflow_provider_smtrain.operators.registry import CreateDataSetOperator, CreateEvaluatorOperator
from tests.operators.conftest import CONNECTION_ACCESS_KEY, Env
from tests.operators.interruptions import armed_execution_timeout, ring_at_request
from tests.operators.runner import FakeTI, MemoryStateStore, WorkerDied, rebuild_trigger, run_operator

ROWS = [
    {"messages": [{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "4"}]},
    {"messages": [{"role": "user", "content": "3+3?"}, {"role": "assistant", "content": "6"}]},
]
LAMBDA_ARN = "arn:aws:lambda:us-east-1:123456789012:function:my-reward"


@pytest.fixture
def dag_folder(tmp_path: Path) -> Path:
    (tmp_path / "train.jsonl").write_text("\n".join(json.dumps(row) for row in ROWS) + "\n")
    (tmp_path / "reward.py").write_text("def lambda_handler(event, context):\n    return {'score': 1.0}\n")
    (tmp_path / "prompt.txt").write_text("Rate the answer from 1 to 10.\n")
    return tmp_path


@pytest.fixture
def hub_env(env: Env) -> Env:
    env.sm.configure(hub_import_seconds=0.6)
    return env


def dataset_operator(env: Env, folder: Path, **overrides: Any) -> CreateDataSetOperator:
    kwargs: dict[str, Any] = {
        "name": "chat-train",
        "source": "train.jsonl",
        "customization_technique": "SFT",
        "default_bucket": env.bucket,
        "deferrable": False,
        "poll_interval": 0.2,
    }
    kwargs.update(overrides)
    with DAG(dag_id="dag", schedule=None, start_date=datetime(2026, 1, 1)) as dag:
        dag.fileloc = str(folder / "dag.py")
        return CreateDataSetOperator(task_id="register", aws_conn_id=env.conn_id, **kwargs)


def evaluator_operator(env: Env, folder: Path, **overrides: Any) -> CreateEvaluatorOperator:
    kwargs: dict[str, Any] = {
        "name": "reward-fn",
        "type": "RewardFunction",
        "source": LAMBDA_ARN,
        "default_bucket": env.bucket,
        "deferrable": False,
        "poll_interval": 0.2,
    }
    kwargs.update(overrides)
    with DAG(dag_id="dag", schedule=None, start_date=datetime(2026, 1, 1)) as dag:
        dag.fileloc = str(folder / "dag.py")
        return CreateEvaluatorOperator(task_id="evaluator", aws_conn_id=env.conn_id, **kwargs)


def imports(env: Env) -> list[dict[str, Any]]:
    return env.sm.requests(operation="ImportHubContent")


def test_dataset_from_a_file_next_to_the_dag_is_uploaded_registered_and_waited_for(
    hub_env: Env, dag_folder: Path, store: MemoryStateStore, ti: FakeTI
) -> None:
    result = run_operator(dataset_operator(hub_env, dag_folder), ti, store)

    assert json.loads(json.dumps(result)) == result
    assert result["status"] == "Available" and result["version"] == "1.0.0"
    assert result["kind"] == "hub_content" and result["type"] == "DataSet" and result["name"] == "chat-train"
    assert result["arn"].endswith(f"hub-content/{result['hub_name']}/DataSet/chat-train/1.0.0")
    assert result["method"] == "uploaded" and result["evaluator_type"] is None
    assert len(result["content_sha256"]) == 64
    bucket, key = result["reference"][len("s3://"):].split("/", 1)
    assert bucket == hub_env.bucket and key.endswith("/train.jsonl")
    assert hub_env.sm.get_object(bucket, key) == (dag_folder / "train.jsonl").read_bytes()
    assert store.get(STATE_KEY)["job_name"] == result["arn"]
    assert ti.xcoms["job_name"] == result["arn"]
    assert len(imports(hub_env)) == 1


def test_same_content_twice_gives_one_version_and_changed_content_the_next(
    hub_env: Env, dag_folder: Path
) -> None:
    first = run_operator(dataset_operator(hub_env, dag_folder), FakeTI(), MemoryStateStore())
    # another task instance (a new DAG run), another process's state: same content, no new version
    again = run_operator(dataset_operator(hub_env, dag_folder), FakeTI(run_id="manual__2"), MemoryStateStore())
    assert again["arn"] == first["arn"] and again["version"] == "1.0.0"
    assert len(imports(hub_env)) == 1

    (dag_folder / "train.jsonl").write_text(json.dumps(ROWS[0]) + "\n")
    changed = run_operator(dataset_operator(hub_env, dag_folder), FakeTI(run_id="manual__3"), MemoryStateStore())
    assert changed["version"] == "2.0.0" and changed["content_sha256"] != first["content_sha256"]
    # an option that shapes the registered content is content too
    technique = run_operator(
        dataset_operator(hub_env, dag_folder, customization_technique="dpo"), FakeTI(run_id="m4"), MemoryStateStore()
    )
    assert technique["version"] == "3.0.0"
    # back to the first content: its version, although newer ones exist
    (dag_folder / "train.jsonl").write_text("\n".join(json.dumps(row) for row in ROWS) + "\n")
    back = run_operator(dataset_operator(hub_env, dag_folder), FakeTI(run_id="m5"), MemoryStateStore())
    assert back["arn"] == first["arn"]
    assert len(imports(hub_env)) == 3


def test_dataset_from_s3_is_registered_where_it_is(hub_env: Env, dag_folder: Path) -> None:
    hub_env.sm.put_object(hub_env.bucket, "data/chat.jsonl", (dag_folder / "train.jsonl").read_bytes())
    source = f"s3://{hub_env.bucket}/data/chat.jsonl"
    hub_env.sm.clear_requests()
    result = run_operator(dataset_operator(hub_env, dag_folder, source=source), FakeTI(), MemoryStateStore())
    assert result["reference"] == source and result["method"] == "generated"
    assert hub_env.sm.requests(operation="PutObject") == [], "nothing uploaded for an S3 source"

    hub_env.sm.put_object(hub_env.bucket, "data/chat.jsonl", b'{"messages": []}\n')  # the object changed
    changed = run_operator(dataset_operator(hub_env, dag_folder, source=source), FakeTI(), MemoryStateStore())
    assert changed["version"] == "2.0.0"


@pytest.mark.parametrize("deferrable", [False, True])
def test_import_failed_fails_the_task_with_the_reason(
    hub_env: Env, dag_folder: Path, store: MemoryStateStore, ti: FakeTI, deferrable: bool
) -> None:
    hub_env.sm.add_rule(kind="hub_content", name_glob="chat-train", outcome="Failed",
                        failure_reason="Dataset format is invalid: no messages")
    with pytest.raises(SageMakerJobFailed, match="ImportFailed: Dataset format is invalid: no messages"):
        run_operator(dataset_operator(hub_env, dag_folder, deferrable=deferrable), ti, store)
    # the retry imports the next version (a failed version is never reused)
    hub_env.sm.clear_rules()
    result = run_operator(dataset_operator(hub_env, dag_folder, deferrable=deferrable), ti.retry(), store)
    assert result["version"] == "2.0.0" and len(imports(hub_env)) == 2


def test_deferred_wait_ends_available_through_the_trigger(
    hub_env: Env, dag_folder: Path, store: MemoryStateStore, ti: FakeTI
) -> None:
    operator = evaluator_operator(hub_env, dag_folder, deferrable=True)
    with pytest.raises(TaskDeferred) as deferred:
        operator.execute({"ti": ti, "task_state_store": store, "params": {}})
    trigger = rebuild_trigger(deferred.value.trigger)
    classpath, kwargs = trigger.serialize()
    assert classpath.endswith("triggers.registry.HubContentTrigger")
    assert kwargs["job_name"] == store.get(STATE_KEY)["job_name"]
    assert kwargs["stop_on_kill"] is False and kwargs["stop_on_deadline"] is False

    result = run_operator(evaluator_operator(hub_env, dag_folder, deferrable=True), ti, store)
    assert result["status"] == "Available" and result["reference"] == LAMBDA_ARN
    assert result["evaluator_type"] == "RewardFunction" and result["method"] == "lambda"
    assert len(imports(hub_env)) == 1, "the resumed and the second run re-attached"
    assert hub_env.sm.requests(service="lambda") == [], "no Lambda call for a Lambda-ARN evaluator"


def test_a_crash_between_import_and_wait_reattaches_without_a_second_import(
    hub_env: Env, dag_folder: Path, store: MemoryStateStore, ti: FakeTI, monkeypatch: pytest.MonkeyPatch
) -> None:
    operator = dataset_operator(hub_env, dag_folder)

    def die(*args: Any, **kwargs: Any) -> None:
        raise WorkerDied

    with monkeypatch.context() as patched:
        patched.setattr(CreateDataSetOperator, "_wait_and_finish", die)
        with pytest.raises(WorkerDied):
            run_operator(operator, ti, store)
    handle = store.get(STATE_KEY)["job_name"]

    result = run_operator(dataset_operator(hub_env, dag_folder), ti.retry(), store)
    assert result["arn"] == handle and result["status"] == "Available"
    assert len(imports(hub_env)) == 1


def test_a_crash_before_the_import_imports_the_persisted_version_on_retry(
    hub_env: Env, dag_folder: Path, store: MemoryStateStore, ti: FakeTI, monkeypatch: pytest.MonkeyPatch
) -> None:
    def die(*args: Any, **kwargs: Any) -> None:
        raise WorkerDied

    with monkeypatch.context() as patched:
        patched.setattr(CreateDataSetOperator, "import_content", die)
        with pytest.raises(WorkerDied):
            run_operator(dataset_operator(hub_env, dag_folder), ti, store)
    handle = store.get(STATE_KEY)["job_name"]
    assert handle.endswith("/chat-train/1.0.0") and imports(hub_env) == []

    result = run_operator(dataset_operator(hub_env, dag_folder), ti.retry(), store)
    assert result["arn"] == handle and len(imports(hub_env)) == 1


def test_a_lost_import_response_is_reconciled_not_repeated(
    hub_env: Env, dag_folder: Path, store: MemoryStateStore, ti: FakeTI
) -> None:
    hub_env.sm.fail_next("ImportHubContent", kind="lost_response")
    result = run_operator(dataset_operator(hub_env, dag_folder), ti, store)
    assert result["status"] == "Available" and result["version"] == "1.0.0"
    versions = hub_env.sm.boto3_client("sagemaker").list_hub_content_versions(
        HubName=result["hub_name"], HubContentType="DataSet", HubContentName="chat-train"
    )["HubContentSummaries"]
    assert [v["HubContentVersion"] for v in versions] == ["1.0.0"]


def test_every_request_is_signed_by_the_connection_including_the_sdk_class_clients_and_a_local_prompt(
    hub_env: Env, dag_folder: Path, ambient_access_key: str
) -> None:
    run_operator(dataset_operator(hub_env, dag_folder), FakeTI(), MemoryStateStore())
    prompt = run_operator(
        evaluator_operator(hub_env, dag_folder, name="judge", type="rewardprompt", source="prompt.txt"),
        FakeTI(), MemoryStateStore(),
    )
    assert prompt["evaluator_type"] == "RewardPrompt" and prompt["type"] == "JsonDoc"

    requests = [r for r in hub_env.sm.requests() if r["service"] != "local"]
    operations = {r["operation"] for r in requests}
    assert {"GetCallerIdentity", "ListHubContentVersions", "DescribeHub", "CreateHub", "ImportHubContent",
            "DescribeHubContent", "PutObject"} <= operations, operations
    signers = {r["access_key_id"] for r in requests}
    assert signers == {CONNECTION_ACCESS_KEY}, [(r["operation"], r["access_key_id"]) for r in requests]
    assert ambient_access_key not in signers
    bucket, key = prompt["reference"][len("s3://"):].split("/", 1)
    assert hub_env.sm.get_object(bucket, key) == (dag_folder / "prompt.txt").read_bytes()


def test_reward_function_from_a_local_py_creates_one_lambda_for_the_same_code(
    hub_env: Env, dag_folder: Path
) -> None:
    role = hub_env.sm.create_role("RewardLambdaRole", service="lambda.amazonaws.com")
    hub_env.sm.clear_requests()

    def run(run_id: str) -> dict[str, Any]:
        operator = evaluator_operator(hub_env, dag_folder, source="reward.py", role=role)
        result: dict[str, Any] = run_operator(operator, FakeTI(run_id=run_id), MemoryStateStore())
        return result

    first = run("r1")
    assert first["method"] == "byoc" and first["evaluator_type"] == "RewardFunction"
    assert first["reference"].startswith("arn:aws:lambda:us-east-1:") and "SageMaker-evaluator-reward-fn-" in (
        first["reference"]
    )
    lambda_calls = [r for r in hub_env.sm.requests(service="lambda") if r["access_key_id"] == CONNECTION_ACCESS_KEY]
    assert len(lambda_calls) == 1, "one CreateFunction, signed by the connection"
    function = hub_env.sm.boto3_client("lambda").get_function(FunctionName=first["reference"].rsplit(":", 1)[1])
    assert function["Configuration"]["Handler"] == "lambda_function.lambda_handler"
    assert function["Configuration"]["Role"] == role

    assert run("r2")["version"] == "1.0.0", "same code: the existing version, no Lambda call"
    assert len(hub_env.sm.requests(service="lambda")) == 2  # only the get_function above was added

    (dag_folder / "reward.py").write_text("def lambda_handler(event, context):\n    return {'score': 0.0}\n")
    changed = run("r3")
    assert changed["version"] == "2.0.0" and changed["reference"] != first["reference"]


def test_bad_input_fails_before_any_aws_call(hub_env: Env, dag_folder: Path) -> None:
    from airflow_provider_smtrain.specs import SpecValidationError

    with pytest.raises(SpecValidationError, match=r"source: no such file: .*missing\.jsonl"):
        run_operator(dataset_operator(hub_env, dag_folder, source="missing.jsonl"), FakeTI(), MemoryStateStore())
    with pytest.raises(SpecValidationError, match="role: is required"):
        run_operator(evaluator_operator(hub_env, dag_folder, source="reward.py"), FakeTI(), MemoryStateStore())
    assert [r for r in hub_env.sm.requests() if r["service"] != "local"] == []


def test_a_missing_s3_source_is_reported_before_anything_is_imported(hub_env: Env, dag_folder: Path) -> None:
    source = f"s3://{hub_env.bucket}/nowhere/data.jsonl"
    with pytest.raises(ValueError, match=f"source: there is no S3 object {source}"):
        run_operator(dataset_operator(hub_env, dag_folder, source=source), FakeTI(), MemoryStateStore())
    assert imports(hub_env) == []


def test_max_wait_fails_the_task_and_leaves_the_import_running(
    hub_env: Env, dag_folder: Path, store: MemoryStateStore, ti: FakeTI
) -> None:
    hub_env.sm.configure(hub_import_seconds=60)
    with pytest.raises(SageMakerJobFailed, match="did not finish before the task's deadline"):
        run_operator(evaluator_operator(hub_env, dag_folder, max_wait=0.5), ti, store)
    calls = {r["operation"] for r in hub_env.sm.requests() if r["service"] != "local"}
    assert not {op for op in calls if op.startswith(("Stop", "Delete"))}, calls
    handle = store.get(STATE_KEY)["job_name"]
    status = hub_env.sm.boto3_client("sagemaker").describe_hub_content(
        **dict(zip(("HubName", "HubContentType", "HubContentName", "HubContentVersion"),
                   handle.split("hub-content/")[1].split("/"), strict=True))
    )["HubContentStatus"]
    assert status == "Importing"
    # the retry re-attaches to the same import
    hub_env.sm.force_job("hub_content", "reward-fn", "Available")
    assert run_operator(evaluator_operator(hub_env, dag_folder), ti.retry(), store)["arn"] == handle
    assert len(imports(hub_env)) == 1


def test_without_default_bucket_a_local_file_goes_to_the_sdks_default_bucket(hub_env: Env, dag_folder: Path) -> None:
    result = run_operator(dataset_operator(hub_env, dag_folder, default_bucket=None), FakeTI(), MemoryStateStore())
    assert result["reference"].startswith("s3://sagemaker-us-east-1-123456789012/ai-registry/datasets/chat-train/")
    signers = {r["access_key_id"] for r in hub_env.sm.requests() if r["service"] != "local"}
    assert signers == {CONNECTION_ACCESS_KEY}


def test_the_next_version_counts_every_page_of_versions(hub_env: Env, dag_folder: Path) -> None:
    from tests.sensors.test_hub_content_sensor import register_elsewhere

    for major in range(1, 102):  # more than one page of 100 (the SDK's own listing reads 10)
        register_elsewhere(hub_env, "chat-train", f"{major}.0.0")
    result = run_operator(dataset_operator(hub_env, dag_folder), FakeTI(), MemoryStateStore())
    assert result["version"] == "102.0.0"


def test_a_timeout_during_the_upload_is_not_swallowed_and_nothing_is_imported(
    hub_env: Env, dag_folder: Path, store: MemoryStateStore, ti: FakeTI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Airflow's execution timeout rings while ``AIRHub.upload_to_s3`` uploads the local dataset: the task fails
    with it. The SDK's telemetry decorator returns from ``finally`` and would swallow it: the upload would
    "return" None and the task import a version pointing at ``s3://.../None``."""
    from airflow.sdk.exceptions import AirflowTaskTimeout

    with armed_execution_timeout() as ring:
        ring_at_request(monkeypatch, "PutObject", ring, after_response=False)
        with pytest.raises(AirflowTaskTimeout):
            run_operator(dataset_operator(hub_env, dag_folder), ti, store)
    assert imports(hub_env) == []

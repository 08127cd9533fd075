"""MultiTurnRLTrainerOperator against the local SageMaker: bad input rejected before AWS, and the SDK's hazards
neutralised (model package groups, MLflow, files)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_smtrain.specs import SpecValidationError
from tests.operators.conftest import CONNECTION_ACCESS_KEY, Env
from tests.operators.mtrl_env import MODEL, creates, make_operator, prepare
from tests.operators.runner import FakeTI, MemoryStateStore, run_operator


@pytest.fixture
def mtrl(env: Env) -> dict[str, Any]:
    """An agent runtime, a prompt dataset and two model package groups in the local SageMaker."""
    return prepare(env)


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


@pytest.mark.parametrize("field", ["output_model_package_group", "intermediate_checkpoint_model_package_group"])
def test_a_named_group_that_does_not_exist_is_rejected_naming_it_before_any_job(
    env: Env, mtrl: dict[str, Any], store: MemoryStateStore, ti: FakeTI, field: str
) -> None:
    with pytest.raises(SpecValidationError) as err:
        run_operator(make_operator(env, mtrl, **{field: "no-such-group"}), ti, store)
    found = {e["field"]: e["message"] for e in err.value.errors}
    assert "no model package group called 'no-such-group'" in found[field], found
    assert creates(env) == [] and env.sm.requests(operation="CreateModelPackageGroup") == []
    assert env.sm.requests(operation="StopJob") == [], "no job was created: nothing to stop"

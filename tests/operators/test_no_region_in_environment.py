"""The new operators in a process with no AWS region in its environment (SDK_MAP §3).

The SDK's fine-tuning and registry modules build boto3 clients in class bodies at import
(``sagemaker.ai_registry.air_hub``), raising ``NoRegionError`` when the process has no region. A
worker whose region is only in the Airflow connection (``region_name`` extra) or in the operator's
``region_name`` must still run the task: the SDK is imported inside the connection's scope, whose
environment carries the region. Each case runs in a fresh process, so no earlier import hides it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.operators.conftest import REPO, Env
from tests.operators.finetune_env import GROUP, MODEL, prepare

CONN_ID = "smtrain_no_region"
AGENT_RUNTIME = "arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/travelAgent-aBcDeFgHiJ"


def child_env(env: Env, *, region_in_connection: bool) -> dict[str, str]:
    """The child's environment: no AWS region, no ambient configuration, the connection as a variable."""
    connection = json.loads(env.sm.airflow_connection_json(access_key_id="AKIANOREGION00000001"))
    if not region_in_connection:
        connection["extra"].pop("region_name")
    child = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    child.update(
        {
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_EC2_METADATA_DISABLED": "true",
            f"AIRFLOW_CONN_{CONN_ID.upper()}": json.dumps(connection),
            "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
        }
    )
    return child


def run_child(env: Env, operator: str, kwargs: dict[str, Any], *, region_in_connection: bool) -> dict[str, Any]:
    """Run ``operator`` in a fresh process without a region in its environment; its JSON report."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.operators.no_region_child", operator, json.dumps(kwargs)],
        env=child_env(env, region_in_connection=region_in_connection),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert lines, f"no report from the child (rc {done.returncode}): {done.stderr[-3000:]}"
    report: dict[str, Any] = json.loads(lines[-1])
    return report


def common(region_in_connection: bool) -> dict[str, Any]:
    options: dict[str, Any] = {"aws_conn_id": CONN_ID, "deferrable": False, "wait_for_completion": False}
    if not region_in_connection:
        options["region_name"] = "us-east-1"
    return options


@pytest.fixture
def ft(env: Env) -> Env:
    env.sm.configure(training_seconds=30, hub_import_seconds=0.2)
    prepare(env)
    return env


def test_sft_runs_with_the_region_of_its_argument(ft: Env) -> None:
    """The connection has no region either: only the operator's ``region_name``."""
    kwargs = {
        **common(False),
        "model": MODEL,
        "accept_eula": True,
        "role": ft.role_arn,
        "training_dataset": f"s3://{ft.bucket}/ft/sft/train.jsonl",
        "model_package_group": GROUP,
        "s3_output_path": f"s3://{ft.bucket}/ft-out",
    }
    report = run_child(
        ft, "airflow_provider_smtrain.operators.finetune.SFTTrainerOperator", kwargs,
        region_in_connection=False,
    )
    assert report["ok"], report["error"]
    assert report["result"]["technique"] == "SFT"
    assert [r["region"] for r in ft.sm.requests(operation="CreateTrainingJob")] == ["us-east-1"]


def test_multi_turn_rl_runs_with_the_region_of_its_connection(env: Env) -> None:
    from tests.operators.mtrl_env import mtrl_args
    from tests.operators.mtrl_env import prepare as prepare_mtrl

    env.sm.configure(training_seconds=30)
    mtrl = prepare_mtrl(env)
    kwargs = {**common(True), **mtrl_args(env, mtrl)}
    report = run_child(
        env, "airflow_provider_smtrain.operators.multi_turn_rl.MultiTurnRLTrainerOperator", kwargs,
        region_in_connection=True,
    )
    assert report["ok"], report["error"]
    assert len(env.sm.requests(operation="CreateJob")) == 1


def test_create_dataset_runs_with_the_region_of_its_connection(env: Env, tmp_path: Path) -> None:
    env.sm.configure(hub_import_seconds=0.2)
    (tmp_path / "train.jsonl").write_text('{"prompt": "2+2?", "completion": "4"}\n')
    kwargs = {
        **common(True),
        "name": "no-region-data",
        "source": str(tmp_path / "train.jsonl"),
        "default_bucket": env.bucket,
    }
    report = run_child(
        env, "airflow_provider_smtrain.operators.registry.CreateDataSetOperator", kwargs, region_in_connection=True
    )
    assert report["ok"], report["error"]
    assert report["result"]["version"] == "1.0.0"
    assert len(env.sm.requests(operation="ImportHubContent")) == 1

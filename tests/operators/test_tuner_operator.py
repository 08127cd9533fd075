"""HyperparameterTunerOperator against the local SageMaker."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from airflow.sdk import DAG

from airflow_provider_smtrain.exceptions import SageMakerJobFailed
from airflow_provider_smtrain.operators.tuner import HyperparameterTunerOperator
from airflow_provider_smtrain.specs import SpecValidationError
from tests.operators.conftest import Env
from tests.operators.runner import FakeTI, MemoryStateStore, run_operator

RANGES = {
    "learning_rate": {"type": "continuous", "min_value": 0.001, "max_value": 0.1, "scaling_type": "Logarithmic"},
    "epochs": {"type": "integer", "min_value": 5, "max_value": 50},
}


def make_tuner(env: Env, *, deferrable: bool = True, **overrides: Any) -> HyperparameterTunerOperator:
    args: dict[str, Any] = {
        "trainer": env.trainer_args(metric_definitions=[]),
        "objective_metric_name": "train:loss",
        "objective_type": "Minimize",
        "metric_definitions": [{"name": "train:loss", "regex": "train:loss=([0-9\\.]+)"}],
        "hyperparameter_ranges": RANGES,
        "strategy": "Random",
        "max_jobs": 4,
        "max_parallel_jobs": 2,
    }
    args.update(overrides)
    with DAG(dag_id="dag", schedule=None, start_date=datetime(2026, 1, 1)):
        return HyperparameterTunerOperator(
            task_id="tune", aws_conn_id=env.conn_id, deferrable=deferrable, poll_interval=0.2, **args
        )


@pytest.mark.parametrize("deferrable", [True, False])
def test_tuning_returns_best_job_and_counters(
    env: Env, store: MemoryStateStore, ti: FakeTI, deferrable: bool
) -> None:
    ti.task_id = "tune"
    result = run_operator(make_tuner(env, deferrable=deferrable), ti, store)

    assert json.loads(json.dumps(result)) == result
    assert result["kind"] == "tuning" and result["status"] == "Completed"
    assert len(result["job_name"]) <= 32
    assert result["objective"] == {"metric_name": "train:loss", "type": "Minimize"}
    assert result["strategy"] == "Random"
    assert result["training_job_counters"]["Completed"] == 4
    best = result["best_training_job"]
    assert best["job_name"].startswith(result["job_name"])
    assert set(best["hyperparameters"]) == {"learning_rate", "epochs"}
    assert 0.001 <= float(best["hyperparameters"]["learning_rate"]) <= 0.1
    assert isinstance(best["objective_value"], float)
    assert best["model_artifacts"].endswith(f"{best['job_name']}/output/model.tar.gz")
    assert len(env.sm.requests(operation="CreateHyperParameterTuningJob")) == 1
    request_keys = {r["access_key_id"] for r in env.sm.requests()}
    assert request_keys == {"AKIACONNECTIONKEY001"}


def test_tuning_retry_after_success_does_not_resubmit(env: Env, store: MemoryStateStore, ti: FakeTI) -> None:
    ti.task_id = "tune"
    first = run_operator(make_tuner(env), ti, store)
    ti.try_number = 2
    second = run_operator(make_tuner(env), ti, store)
    assert second["job_name"] == first["job_name"]
    assert len(env.sm.requests(operation="CreateHyperParameterTuningJob")) == 1


def test_failed_tuning_job_fails_the_task_with_reason(env: Env, store: MemoryStateStore, ti: FakeTI) -> None:
    env.sm.add_rule(kind="tuning", name_glob="*", outcome="Failed", failure_reason="No training job succeeded")
    with pytest.raises(SageMakerJobFailed, match="No training job succeeded"):
        run_operator(make_tuner(env), ti, store)


def test_tuning_deadline_stops_the_tuning_job(env: Env, store: MemoryStateStore, ti: FakeTI) -> None:
    env.sm.configure(tuning_seconds=60)
    with DAG(dag_id="dag", schedule=None, start_date=datetime(2026, 1, 1)):
        operator = HyperparameterTunerOperator(
            task_id="tune",
            aws_conn_id=env.conn_id,
            poll_interval=0.2,
            max_wait=1.0,
            trainer=env.trainer_args(),
            objective_metric_name="train:loss",
            metric_definitions=[{"name": "train:loss", "regex": "train:loss=([0-9\\.]+)"}],
            hyperparameter_ranges=RANGES,
        )
    with pytest.raises(SageMakerJobFailed, match="deadline"):
        run_operator(operator, ti, store)
    assert len(env.sm.requests(operation="StopHyperParameterTuningJob")) == 1


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"objective_type": "Biggest"}, "objective_type"),
        ({"hyperparameter_ranges": {"lr": {"type": "continuous", "min_value": 1, "max_value": 0.5}}}, "hyperparameter_ranges.lr"),
        ({"max_parallel_jobs": 10}, "max_parallel_jobs"),
        ({"metric_definitions": [{"name": "other", "regex": "other=(.*)"}]}, "objective_metric_name"),
        ({"strategy": "Grid"}, "hyperparameter_ranges"),
    ],
)
def test_bad_tuning_input_is_rejected_before_any_aws_call(
    env: Env, store: MemoryStateStore, ti: FakeTI, override: dict[str, Any], field: str
) -> None:
    with pytest.raises(SpecValidationError) as err:
        run_operator(make_tuner(env, **override), ti, store)
    assert field in str(err.value)
    assert env.sm.requests() == []


def test_hyperband_config_and_base_tuning_job_name_reach_the_tuning_job(
    env: Env, store: MemoryStateStore, ti: FakeTI
) -> None:
    operator = make_tuner(
        env,
        strategy="Hyperband",
        max_jobs=2,
        hyperband_strategy_config={"min_resource": 2, "max_resource": 9},
        base_tuning_job_name="{{ 'hb' }}-search",
    )
    assert {"hyperband_strategy_config", "base_tuning_job_name"} <= set(operator.template_fields)
    operator.render_template_fields({"params": {}})

    result = run_operator(operator, ti, store)

    assert result["status"] == "Completed" and result["strategy"] == "Hyperband"
    assert result["job_name"].startswith("hb-search-") and len(result["job_name"]) <= 32
    assert len(env.sm.requests(operation="CreateHyperParameterTuningJob")) == 1
    created = env.sm.boto3_client("sagemaker").describe_hyper_parameter_tuning_job(
        HyperParameterTuningJobName=result["job_name"]
    )
    config = created["HyperParameterTuningJobConfig"]
    assert config["Strategy"] == "Hyperband"
    assert config["StrategyConfig"] == {"HyperbandStrategyConfig": {"MinResource": 2, "MaxResource": 9}}


def test_job_name_prefix_wins_over_base_tuning_job_name(env: Env) -> None:
    from airflow_provider_smtrain.specs import HyperparameterTunerSpec

    operator = make_tuner(env, base_tuning_job_name="base", job_name_prefix="explicit")
    spec = operator.build_spec()
    assert isinstance(spec, HyperparameterTunerSpec) and spec.base_tuning_job_name == "base"
    assert operator.name_prefix(spec) == "explicit"

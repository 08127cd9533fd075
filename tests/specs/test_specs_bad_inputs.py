"""Every bad input is rejected with the exact field path and what is accepted."""

from __future__ import annotations

from typing import Any

import pytest
from spec_inputs import trainer_args, tuner_args

from airflow_provider_smtrain.specs import (
    HyperparameterTunerSpec,
    ModelTrainerSpec,
    SpecValidationError,
    parse_spec,
)


def _errors(model: type, args: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(SpecValidationError) as info:
        parse_spec(model, args, owner="TestOperator")
    assert str(info.value).startswith("Invalid arguments for TestOperator:\n  - ")
    return {e["field"]: e["message"] for e in info.value.errors}


def _ranges(**ranges: Any) -> dict[str, Any]:
    return {"hyperparameter_ranges": ranges}


SPOT = {"instance_type": "ml.g5.xlarge", "enable_managed_spot_training": True}

TRAINER_CASES = [
    ({"compute": {"instance_count": 0}}, "compute.instance_count", "must be >= 1 (got 0)"),
    (
        {"compute": {"instance_type": "m5.xlarge"}},
        "compute.instance_type",
        "like ml.m5.xlarge (got 'm5.xlarge')",
    ),
    ({"compute": {"volume_size_in_gb": 0}}, "compute.volume_size_in_gb", "must be >= 1"),
    (
        {"compute": {"keep_alive_period_in_seconds": 4000}},
        "compute.keep_alive_period_in_seconds",
        "must be <= 3600",
    ),
    ({"compute": {"instance_cnt": 2}}, "compute.instance_cnt", "did you mean 'instance_count'?"),
    (
        {"output_path": "bucket/x"},
        "output_path",
        "must be an S3 URI like s3://bucket/prefix (got 'bucket/x')",
    ),
    ({"output_path": None}, "output_path", "must be a string"),
    ({"role": "SageMakerRole"}, "role", "must be an IAM role ARN like arn:aws:iam::123456789012:role/"),
    ({"algorithm_name": "xgboost"}, "training_image", "exactly one of training_image or algorithm_name"),
    ({"training_image": None}, "training_image", "(got neither)"),
    ({"input_data": {"code": "s3://my-bucket/c"}}, "input_data.code", "'code' and 'sm_drivers' are reserved"),
    (
        {"input_data": {"train data": "s3://my-bucket/c"}},
        "input_data.train data",
        "letters, digits, '.', '-' or '_'",
    ),
    (
        {"input_data": {"train": "gs://my-bucket/c"}},
        "input_data.train",
        "S3 URI like s3://bucket/prefix or a local path",
    ),
    (
        {"input_data": {"train": {"data_source": "s3://my-bucket/t", "content": "text/csv"}}},
        "input_data.train.content",
        "accepted: channel_name, data_source, content_type",
    ),
    (
        {
            "input_data": [
                {"channel_name": "train", "data_source": "s3://bkt/a"},
                {"channel_name": "train", "data_source": "s3://bkt/b"},
            ]
        },
        "input_data[1].channel_name",
        "duplicate name 'train'",
    ),
    (
        {"input_data": [{"channel_name": "sm_drivers", "data_source": "/data"}]},
        "input_data[0].channel_name",
        "reserved",
    ),
    ({"input_data": [{"data_source": "/data"}]}, "input_data[0].channel_name", "is required"),
    ({"input_data": 5}, "input_data", "must be a list"),
    (
        {
            "stopping_condition": {"max_runtime_in_seconds": 7200, "max_wait_time_in_seconds": 3600},
            "compute": SPOT,
        },
        "stopping_condition.max_wait_time_in_seconds",
        "must be >= max_runtime_in_seconds (7200) (got 3600)",
    ),
    (
        {"stopping_condition": {"max_wait_time_in_seconds": 90000}},
        "stopping_condition.max_wait_time_in_seconds",
        "only accepted when compute.enable_managed_spot_training is true",
    ),
    (
        {"compute": SPOT},
        "stopping_condition.max_wait_time_in_seconds",
        "is required when compute.enable_managed_spot",
    ),
    (
        {"stopping_condition": {"max_runtime_in_seconds": 0}},
        "stopping_condition.max_runtime_in_seconds",
        "must be >= 1",
    ),
    (
        {"stopping_condition": {"max_runtime_in_seconds": 2419201}},
        "stopping_condition.max_runtime_in_seconds",
        "<= 2419200",
    ),
    (
        {"stopping_condition": {"max_pending_time_in_seconds": 60}},
        "stopping_condition.max_pending_time_in_seconds",
        ">= 7200",
    ),
    (
        {"source_code": {"source_dir": "./src", "entry_script": "train.py", "command": "python train.py"}},
        "source_code.entry_script",
        "exactly one of entry_script or command must be set when source_dir is given (got both)",
    ),
    ({"source_code": {"entry_script": "train.py"}}, "source_code.entry_script", "requires source_dir"),
    ({"source_code": {"source_dir": "https://x/y", "command": "x"}}, "source_code.source_dir", "local path"),
    (
        {"source_code": {"source_dir": "./s", "entry_script": "t.py", "args": ["--x"]}},
        "source_code.args",
        "only accepted together with command",
    ),
    ({"networking": {"subnets": ["subnet-0abc"]}}, "networking.security_group_ids", "must be given together"),
    (
        {"networking": {"subnets": ["net-1"], "security_group_ids": ["sg-1"]}},
        "networking.subnets[0]",
        "a subnet id like subnet-",
    ),
    ({"distributed": {"type": "horovod"}}, "distributed", "'type' must be one of 'torchrun', 'mpi'"),
    ({"distributed": {"process_count_per_node": 8}}, "distributed", "'type' field ('torchrun', 'mpi')"),
    (
        {
            "distributed": {"type": "torchrun", "smp": {"tensor_parallel_degree": 0}},
            "source_code": {"source_dir": "./s", "entry_script": "t.py"},
        },
        "distributed.smp.tensor_parallel_degree",
        "must be >= 1",
    ),
    ({"distributed": {"type": "mpi"}}, "source_code.entry_script", "required when distributed (mpi) is set"),
    ({"tags": {"aws:owner": "me"}}, "tags.aws:owner", "reserved prefix 'aws:'"),
    ({"tags": [{"Key": "k"}]}, "tags[0]", "{'Key': ..., 'Value': ...}"),
    ({"tags": {f"k{i}": "v" for i in range(51)}}, "tags", "at most 50 tags"),
    ({"tags": {"k": "v" * 257}}, "tags.k", "at most 256"),
    (
        {"base_job_name": "my_job"},
        "base_job_name",
        "letters, digits and hyphens, not starting or ending with '-' (got 'my_job')",
    ),
    ({"base_job_name": "a" * 64}, "base_job_name", "at most 63 characters"),
    (
        {"training_input_mode": "Stream"},
        "training_input_mode",
        "must be one of 'File', 'Pipe', 'FastFile' (got 'Stream')",
    ),
    (
        {"metric_definitions": [{"name": "loss", "regex": "loss=([0-9.]+"}]},
        "metric_definitions[0].regex",
        "valid regular expression",
    ),
    (
        {"metric_definitions": [{"name": "loss", "regex": "loss=[0-9.]+"}]},
        "metric_definitions[0].regex",
        "capture group",
    ),
    ({"hyperparameters": {f"h{i}": i for i in range(101)}}, "hyperparameters", "at most 100 entries"),
    ({"hyperparameters": "{not json"}, "hyperparameters", "must be a mapping (or a JSON object string)"),
    ({"environment": {f"E{i}": "x" for i in range(49)}}, "environment", "at most 48 entries"),
    ({"environment": {"MY-VAR": "x"}}, "environment.MY-VAR", "environment variable name"),
    (
        {"checkpoint": {"s3_uri": "s3://bkt/ck", "local_path": "ckpt"}},
        "checkpoint.local_path",
        "absolute container path",
    ),
    ({"checkpoint": {}}, "checkpoint.s3_uri", "is required"),
    ({"tensorboard_output_path": "/tmp/tb"}, "tensorboard_output_path", "S3 URI"),
    ({"compute": 5}, "compute", "must be an object with fields instance_type, instance_count"),
    (
        {"unknown_knob": 1},
        "unknown_knob",
        "is not an accepted field (accepted: training_image, algorithm_name, role",
    ),
]


@pytest.mark.parametrize(
    ("overrides", "field", "message"), TRAINER_CASES, ids=[c[1] + ":" + c[2][:20] for c in TRAINER_CASES]
)
def test_trainer_rejects(overrides: dict[str, Any], field: str, message: str) -> None:
    errors = _errors(ModelTrainerSpec, trainer_args(**overrides))
    assert field in errors, errors
    assert message in errors[field]


TUNER_CASES = [
    ({"objective_type": "best"}, "objective_type", "must be one of 'Maximize', 'Minimize' (got 'best')"),
    (
        {"metric_definitions": []},
        "metric_definitions",
        "is required (a list of {name, regex}) unless trainer.algorithm_name",
    ),
    (
        {"objective_metric_name": "loss"},
        "objective_metric_name",
        "must be one of the metric_definitions names: 'validation:accuracy' (got 'loss')",
    ),
    (
        _ranges(lr={"type": "continuous", "min_value": 1, "max_value": 1}),
        "hyperparameter_ranges.lr.max_value",
        "greater than min_value (1.0)",
    ),
    (
        _ranges(lr={"type": "continuous", "min_value": 0, "max_value": 1, "scaling_type": "logarithmic"}),
        "hyperparameter_ranges.lr.min_value",
        "must be > 0 with scaling_type Logarithmic",
    ),
    (
        _ranges(
            m={"type": "continuous", "min_value": 0.5, "max_value": 1.0, "scaling_type": "ReverseLogarithmic"}
        ),
        "hyperparameter_ranges.m.max_value",
        "0 <= min_value < max_value < 1",
    ),
    (
        _ranges(bs={"type": "integer", "min_value": 1, "max_value": 8, "scaling_type": "ReverseLogarithmic"}),
        "hyperparameter_ranges.bs.scaling_type",
        "must be one of 'Auto', 'Linear', 'Logarithmic'",
    ),
    (
        _ranges(bs={"type": "integer", "min_value": 1.5, "max_value": 8}),
        "hyperparameter_ranges.bs.min_value",
        "whole number",
    ),
    (
        _ranges(opt={"type": "categorical", "values": []}),
        "hyperparameter_ranges.opt.values",
        "at least 1 entry",
    ),
    (
        _ranges(opt={"type": "categorical", "values": ["a", "a"]}),
        "hyperparameter_ranges.opt.values[1]",
        "duplicate",
    ),
    (
        _ranges(opt={"type": "choice", "values": ["a"]}),
        "hyperparameter_ranges.opt",
        "'continuous', 'integer', 'categorical'",
    ),
    (
        _ranges(opt={"values": ["a"]}),
        "hyperparameter_ranges.opt",
        "'type' field ('continuous', 'integer', 'categorical')",
    ),
    ({"hyperparameter_ranges": {}}, "hyperparameter_ranges", "at least 1 entry"),
    (
        {"hyperparameter_ranges": {f"p{i}": {"type": "categorical", "values": [1, 2]} for i in range(31)}},
        "hyperparameter_ranges",
        "at most 30 entries",
    ),
    (
        {"strategy": "grid"},
        "hyperparameter_ranges.learning_rate",
        "strategy Grid only accepts categorical ranges",
    ),
    ({"strategy": "Grid", "max_jobs": 4}, "max_jobs", "must be omitted with strategy Grid"),
    ({"strategy": "Genetic"}, "strategy", "'Bayesian', 'Random', 'Hyperband', 'Grid'"),
    ({"max_jobs": 2, "max_parallel_jobs": 3}, "max_parallel_jobs", "must be <= max_jobs (2) (got 3)"),
    ({"max_parallel_jobs": 2}, "max_parallel_jobs", "must be <= max_jobs (1)"),
    ({"max_jobs": 0}, "max_jobs", "must be >= 1"),
    ({"early_stopping_type": "On"}, "early_stopping_type", "'Off', 'Auto'"),
    (
        {"strategy": "Hyperband", "early_stopping_type": "Auto"},
        "early_stopping_type",
        "must be 'Off' with strategy Hyperband",
    ),
    (
        {"hyperband_strategy_config": {"max_resource": 10}},
        "hyperband_strategy_config",
        "only accepted with strategy Hyperband",
    ),
    (
        {"warm_start": {"type": "Clone", "parents": ["p"]}},
        "warm_start.type",
        "'IdenticalDataAndAlgorithm', 'TransferLearning'",
    ),
    (
        {"warm_start": {"type": "TransferLearning", "parents": [f"p{i}" for i in range(6)]}},
        "warm_start.parents",
        "at most 5",
    ),
    (
        {"warm_start": {"type": "TransferLearning", "parents": ["bad_name"]}},
        "warm_start.parents[0]",
        "tuning job name",
    ),
    (
        {"completion_criteria": {"max_number_of_training_jobs_not_improving": 2}},
        "completion_criteria.max_number_of_training_jobs_not_improving",
        "must be >= 3",
    ),
    ({"completion_criteria": {}}, "completion_criteria", "set at least one of"),
    ({"random_seed": -1}, "random_seed", "must be >= 0"),
    ({"max_runtime_in_seconds": 60}, "max_runtime_in_seconds", "must be >= 120"),
    (
        {"trainer": trainer_args(compute={"instance_count": 0})},
        "trainer.compute.instance_count",
        "must be >= 1 (got 0)",
    ),
    ({"trainer": None}, "trainer", "must be an object with fields training_image"),
]


@pytest.mark.parametrize(
    ("overrides", "field", "message"), TUNER_CASES, ids=[c[1] + ":" + c[2][:20] for c in TUNER_CASES]
)
def test_tuner_rejects(overrides: dict[str, Any], field: str, message: str) -> None:
    errors = _errors(HyperparameterTunerSpec, tuner_args(**overrides))
    assert field in errors, errors
    assert message in errors[field]


def test_all_problems_reported_at_once() -> None:
    errors = _errors(
        ModelTrainerSpec,
        trainer_args(compute={"instance_count": 0}, output_path="bucket/x", base_job_name="-x"),
    )
    assert set(errors) == {"compute.instance_count", "output_path", "base_job_name"}

"""Valid inputs: full examples, both channel forms, Jinja-rendered strings, JSON round trips."""

from __future__ import annotations

import json
from typing import Any

import pytest
from spec_inputs import ROLE, trainer_args, tuner_args

from airflow_provider_smtrain.specs import (
    CategoricalRangeSpec,
    ContinuousRangeSpec,
    HyperparameterTunerSpec,
    InputChannelSpec,
    IntegerRangeSpec,
    ModelTrainerSpec,
    MpiSpec,
    SpecValidationError,
    TorchrunSpec,
    parse_spec,
)

FULL_TRAINER: dict[str, Any] = {
    "training_image": "763104351884.dkr.ecr.us-west-2.amazonaws.com/pytorch-training:2.0-gpu-py310",
    "role": ROLE,
    "compute": {
        "instance_type": "ml.p4d.24xlarge",
        "instance_count": 2,
        "volume_size_in_gb": 200,
        "volume_kms_key_id": "arn:aws:kms:us-west-2:123456789012:key/abcd",
        "keep_alive_period_in_seconds": 0,
        "enable_managed_spot_training": True,
    },
    "output_path": "s3://my-bucket/output",
    "source_code": {
        "source_dir": "./code",
        "entry_script": "train.py",
        "requirements": "requirements.txt",
        "ignore_patterns": ["*.pyc", ".git"],
    },
    "input_data": [
        {"channel_name": "train", "data_source": "s3://my-bucket/train", "content_type": "application/json"},
        {"channel_name": "validation", "data_source": "/data/val"},
    ],
    "hyperparameters": {"epochs": 10, "lr": 0.001, "layers": [64, 32], "opt": {"name": "adam"}},
    "environment": {"LOG_LEVEL": "INFO"},
    "stopping_condition": {
        "max_runtime_in_seconds": 3600,
        "max_wait_time_in_seconds": 7200,
        "max_pending_time_in_seconds": 7200,
    },
    "checkpoint": {"s3_uri": "s3://my-bucket/checkpoints"},
    "networking": {
        "subnets": ["subnet-0abc1234", "subnet-0def5678"],
        "security_group_ids": ["sg-0123abcd"],
        "enable_network_isolation": False,
        "enable_inter_container_traffic_encryption": True,
    },
    "distributed": {"type": "torchrun", "process_count_per_node": 8, "smp": {"hybrid_shard_degree": 2}},
    "tags": [{"Key": "Project", "Value": "demo"}, {"key": "Team", "value": "ml"}],
    "base_job_name": "demo-train",
    "training_input_mode": "FastFile",
    "tensorboard_output_path": "s3://my-bucket/tb",
    "metric_definitions": [{"name": "train:loss", "regex": "loss: ([0-9\\.]+)"}],
}


def test_full_trainer_example() -> None:
    spec = parse_spec(ModelTrainerSpec, FULL_TRAINER, owner="ModelTrainerOperator")
    assert spec.compute.instance_count == 2
    assert spec.tags == {"Project": "demo", "Team": "ml"}
    assert isinstance(spec.distributed, TorchrunSpec)
    assert spec.distributed.smp is not None and spec.distributed.smp.hybrid_shard_degree == 2
    assert spec.checkpoint is not None and spec.checkpoint.local_path == "/opt/ml/checkpoints"
    assert [c.channel_name for c in spec.input_data] == ["train", "validation"]


def test_defaults() -> None:
    spec = parse_spec(ModelTrainerSpec, trainer_args(), owner="Op")
    assert spec.compute.instance_type == "ml.m5.xlarge"
    assert spec.compute.instance_count == 1
    assert spec.compute.volume_size_in_gb == 30
    assert spec.stopping_condition.max_runtime_in_seconds == 86400
    assert spec.training_input_mode == "File"
    assert spec.input_data == [] and spec.tags == {} and spec.environment == {}


def test_algorithm_name_instead_of_image() -> None:
    spec = parse_spec(
        ModelTrainerSpec, trainer_args(training_image=None, algorithm_name="xgboost"), owner="Op"
    )
    assert spec.algorithm_name == "xgboost" and spec.training_image is None


def test_channel_dict_form_normalised_to_list() -> None:
    spec = parse_spec(
        ModelTrainerSpec,
        trainer_args(
            input_data={
                "train": "s3://my-bucket/train",
                "test": {"data_source": "/local/test", "content_type": "text/csv"},
            }
        ),
        owner="Op",
    )
    assert spec.input_data == [
        InputChannelSpec(channel_name="train", data_source="s3://my-bucket/train"),
        InputChannelSpec(channel_name="test", data_source="/local/test", content_type="text/csv"),
    ]


def test_jinja_rendered_strings_are_coerced() -> None:
    rendered = trainer_args(
        compute='{"instance_type": "ml.g5.xlarge", "instance_count": "2", "enable_managed_spot_training": "True"}',
        stopping_condition={"max_runtime_in_seconds": "3600", "max_wait_time_in_seconds": "7200"},
        hyperparameters="{'epochs': 10, 'lr': 0.1, 'flags': ['a', 'b']}",  # Jinja renders a dict as its repr
        environment='{"LOG_LEVEL": "DEBUG"}',
        input_data="{'train': 's3://my-bucket/train'}",
        tags="[{'Key': 'Project', 'Value': 'demo'}]",
        networking='{"subnets": "[\'subnet-1\']", "security_group_ids": "[\\"sg-1\\"]"}',
        distributed='{"type": "MPI", "process_count_per_node": "8", "mpi_additional_options": ["-x", "NCCL_DEBUG=INFO"]}',
        source_code={"source_dir": "s3://my-bucket/code.tar.gz", "entry_script": "train.py"},
        checkpoint="None",
        base_job_name="",
        training_input_mode="pipe",
    )
    spec = parse_spec(ModelTrainerSpec, rendered, owner="Op")
    assert spec.compute.instance_count == 2 and spec.compute.enable_managed_spot_training is True
    assert spec.stopping_condition.max_wait_time_in_seconds == 7200
    assert spec.hyperparameters == {"epochs": 10, "lr": 0.1, "flags": ["a", "b"]}
    assert spec.environment == {"LOG_LEVEL": "DEBUG"}
    assert spec.input_data[0].channel_name == "train"
    assert spec.tags == {"Project": "demo"}
    assert spec.networking is not None and spec.networking.subnets == ["subnet-1"]
    assert isinstance(spec.distributed, MpiSpec) and spec.distributed.process_count_per_node == 8
    assert spec.checkpoint is None and spec.base_job_name is None
    assert spec.training_input_mode == "Pipe"


def test_environment_numbers_become_strings() -> None:
    spec = parse_spec(ModelTrainerSpec, trainer_args(environment={"WORKERS": 4, "RATE": 0.5}), owner="Op")
    assert spec.environment == {"WORKERS": "4", "RATE": "0.5"}


FULL_TUNER: dict[str, Any] = {
    "trainer": trainer_args(hyperparameters={"epochs": 10}),
    "objective_metric_name": "validation:accuracy",
    "objective_type": "maximize",
    "metric_definitions": [
        {"Name": "validation:accuracy", "Regex": "Val Acc: ([0-9\\.]+)"},
        {"name": "train:loss", "regex": "Train Loss: ([0-9\\.]+)"},
    ],
    "hyperparameter_ranges": {
        "learning_rate": {
            "type": "continuous",
            "min_value": 0.001,
            "max_value": 0.1,
            "scaling_type": "Logarithmic",
        },
        "momentum": {
            "type": "Continuous",
            "min_value": 0.0,
            "max_value": 0.99,
            "scaling_type": "reverselogarithmic",
        },
        "batch_size": {"type": "integer", "min_value": 32, "max_value": 256, "scaling_type": "Linear"},
        "optimizer": {"type": "categorical", "values": ["adam", "sgd", "rmsprop"]},
    },
    "strategy": "bayesian",
    "max_jobs": 20,
    "max_parallel_jobs": 3,
    "early_stopping_type": "auto",
    "warm_start": {"type": "TransferLearning", "parents": ["previous-tuning-job"]},
    "completion_criteria": {
        "target_objective_metric_value": 0.95,
        "max_number_of_training_jobs_not_improving": 10,
        "complete_on_convergence": True,
    },
    "random_seed": 42,
    "max_runtime_in_seconds": 36000,
    "tags": {"Project": "demo"},
    "base_tuning_job_name": "demo-hpo",
}


def test_full_tuner_example() -> None:
    spec = parse_spec(HyperparameterTunerSpec, FULL_TUNER, owner="HyperparameterTunerOperator")
    assert (
        spec.objective_type == "Maximize"
        and spec.strategy == "Bayesian"
        and spec.early_stopping_type == "Auto"
    )
    ranges = spec.hyperparameter_ranges
    assert isinstance(ranges["learning_rate"], ContinuousRangeSpec)
    assert isinstance(ranges["momentum"], ContinuousRangeSpec)
    assert ranges["momentum"].scaling_type == "ReverseLogarithmic"
    assert isinstance(ranges["batch_size"], IntegerRangeSpec)
    assert isinstance(ranges["optimizer"], CategoricalRangeSpec)
    assert [m.name for m in spec.metric_definitions] == ["validation:accuracy", "train:loss"]


@pytest.mark.parametrize(("strategy", "expected"), [("Bayesian", 1), ("Random", 1), ("Grid", None)])
def test_max_jobs_default(strategy: str, expected: int | None) -> None:
    ranges = {"opt": {"type": "categorical", "values": ["a", "b"]}}
    spec = parse_spec(
        HyperparameterTunerSpec, tuner_args(strategy=strategy, hyperparameter_ranges=ranges), owner="Op"
    )
    assert spec.max_jobs == expected


def test_algorithm_trainer_needs_no_metric_definitions() -> None:
    args = tuner_args(
        trainer=trainer_args(training_image=None, algorithm_name="xgboost"),
        metric_definitions=[],
        objective_metric_name="validation:auc",
    )
    assert parse_spec(HyperparameterTunerSpec, args, owner="Op").metric_definitions == []


def test_tuner_jinja_strings() -> None:
    args = tuner_args(
        max_jobs="20",
        max_parallel_jobs="4",
        objective_type="MINIMIZE",
        strategy="random",
        hyperparameter_ranges='{"lr": {"type": "continuous", "min_value": "0.01", "max_value": "0.1"}, '
        '"depth": {"type": "integer", "min_value": "2", "max_value": "10"}}',
        warm_start="{'type': 'identicaldataandalgorithm', 'parents': \"['parent-1', 'parent-2']\"}",
        random_seed="7",
    )
    spec = parse_spec(HyperparameterTunerSpec, args, owner="Op")
    assert (spec.max_jobs, spec.max_parallel_jobs, spec.random_seed) == (20, 4, 7)
    assert spec.objective_type == "Minimize" and spec.strategy == "Random"
    assert spec.hyperparameter_ranges["depth"] == IntegerRangeSpec(type="integer", min_value=2, max_value=10)
    assert spec.warm_start is not None and spec.warm_start.type == "IdenticalDataAndAlgorithm"
    assert spec.warm_start.parents == ["parent-1", "parent-2"]


@pytest.mark.parametrize(
    ("model", "args"), [(ModelTrainerSpec, FULL_TRAINER), (HyperparameterTunerSpec, FULL_TUNER)]
)
def test_json_round_trip(
    model: type[ModelTrainerSpec | HyperparameterTunerSpec], args: dict[str, Any]
) -> None:
    spec = parse_spec(model, args, owner="Op")
    text = json.dumps(spec.model_dump(mode="json"))
    again = parse_spec(model, json.loads(text), owner="Op")
    assert again == spec
    assert json.dumps(again.model_dump(mode="json")) == text


def test_specs_are_frozen() -> None:
    spec = parse_spec(ModelTrainerSpec, trainer_args(), owner="Op")
    with pytest.raises(ValueError):
        spec.role = "arn:aws:iam::123456789012:role/Other"  # type: ignore[misc]


def test_parse_spec_passes_instances_through_and_rejects_non_mappings() -> None:
    spec = parse_spec(ModelTrainerSpec, trainer_args(), owner="Op")
    assert parse_spec(ModelTrainerSpec, spec, owner="Op") is spec
    with pytest.raises(SpecValidationError) as info:
        parse_spec(ModelTrainerSpec, ["not", "a", "mapping"], owner="Op")  # type: ignore[arg-type]
    assert info.value.errors == [{"field": "<root>", "message": "must be a mapping of arguments (got list)"}]


def test_docs_examples_validate() -> None:
    import re
    from pathlib import Path

    doc = Path(__file__).resolve().parents[2] / "docs" / "specs.md"
    blocks = re.findall(r"```json\n(.*?)```", doc.read_text(), re.S)
    assert len(blocks) == 2
    trainer = parse_spec(ModelTrainerSpec, json.loads(blocks[0]), owner="docs")
    tuner = parse_spec(HyperparameterTunerSpec, json.loads(blocks[1]), owner="docs")
    assert trainer.compute.enable_managed_spot_training and tuner.max_jobs == 20

"""SageMaker SDK config objects are accepted wherever the matching sub-spec is expected."""

from __future__ import annotations

import pytest
from spec_inputs import trainer_args, tuner_args

from airflow_provider_smtrain.specs import (
    CategoricalRangeSpec,
    ContinuousRangeSpec,
    HyperparameterTunerSpec,
    IntegerRangeSpec,
    ModelTrainerSpec,
    MpiSpec,
    SpecValidationError,
    TorchrunSpec,
    parse_spec,
)

configs = pytest.importorskip("sagemaker.core.training.configs")
distributed = pytest.importorskip("sagemaker.train.distributed")
parameter = pytest.importorskip("sagemaker.core.parameter")
shapes = pytest.importorskip("sagemaker.core.shapes")


def test_trainer_accepts_sdk_configs() -> None:
    args = trainer_args(
        compute=configs.Compute(
            instance_type="ml.g5.12xlarge", instance_count=2, enable_managed_spot_training=True
        ),
        source_code=configs.SourceCode(source_dir="./code", entry_script="train.py", requirements="req.txt"),
        stopping_condition=configs.StoppingCondition(
            max_runtime_in_seconds=3600, max_wait_time_in_seconds=7200
        ),
        checkpoint=configs.CheckpointConfig(s3_uri="s3://my-bucket/ckpt"),
        networking=configs.Networking(subnets=["subnet-0abc"], security_group_ids=["sg-0abc"]),
        input_data=[
            configs.InputData(
                channel_name="train", data_source="s3://my-bucket/train", content_type="text/csv"
            )
        ],
        distributed=distributed.Torchrun(
            process_count_per_node=4, smp=distributed.SMP(tensor_parallel_degree=2)
        ),
        metric_definitions=[configs.MetricDefinition(name="loss", regex="loss=([0-9.]+)")],
        tags=[configs.Tag(key="Project", value="demo")],
    )
    spec = parse_spec(ModelTrainerSpec, args, owner="Op")
    assert spec.compute.instance_type == "ml.g5.12xlarge" and spec.compute.instance_count == 2
    assert spec.compute.volume_size_in_gb == 30
    assert spec.source_code is not None and spec.source_code.requirements == "req.txt"
    assert spec.stopping_condition.max_pending_time_in_seconds is None  # Unassigned() dropped
    assert spec.checkpoint is not None and spec.checkpoint.local_path == "/opt/ml/checkpoints"
    assert spec.input_data[0].content_type == "text/csv"
    assert isinstance(spec.distributed, TorchrunSpec)
    assert spec.distributed.smp is not None and spec.distributed.smp.tensor_parallel_degree == 2
    assert spec.metric_definitions[0].name == "loss"
    assert spec.tags == {"Project": "demo"}


def test_mpi_object() -> None:
    args = trainer_args(
        source_code=configs.SourceCode(source_dir="./code", entry_script="train.py"),
        distributed=distributed.MPI(process_count_per_node=2, mpi_additional_options=["-x", "A=1"]),
    )
    spec = parse_spec(ModelTrainerSpec, args, owner="Op")
    assert spec.distributed == MpiSpec(process_count_per_node=2, mpi_additional_options=["-x", "A=1"])


def test_sdk_object_errors_use_our_paths() -> None:
    args = trainer_args(compute=configs.Compute(instance_type="ml.m5.xlarge", instance_count=0))
    with pytest.raises(SpecValidationError) as info:
        parse_spec(ModelTrainerSpec, args, owner="Op")
    assert {"field": "compute.instance_count", "message": "must be >= 1 (got 0)"} in info.value.errors


def test_tuner_accepts_sdk_ranges_and_shapes() -> None:
    args = tuner_args(
        hyperparameter_ranges={
            "learning_rate": parameter.ContinuousParameter(0.001, 0.1, "Logarithmic"),
            "batch_size": parameter.IntegerParameter(32, 256),
            "optimizer": parameter.CategoricalParameter(["adam", "sgd"]),
        },
        warm_start=shapes.HyperParameterTuningJobWarmStartConfig(
            parent_hyper_parameter_tuning_jobs=[
                shapes.ParentHyperParameterTuningJob(hyper_parameter_tuning_job_name="parent-1")
            ],
            warm_start_type="TransferLearning",
        ),
        completion_criteria=shapes.TuningJobCompletionCriteria(
            best_objective_not_improving=shapes.BestObjectiveNotImproving(
                max_number_of_training_jobs_not_improving=5
            ),
            convergence_detected=shapes.ConvergenceDetected(complete_on_convergence="Enabled"),
        ),
        max_jobs=10,
    )
    spec = parse_spec(HyperparameterTunerSpec, args, owner="Op")
    ranges = spec.hyperparameter_ranges
    assert ranges["learning_rate"] == ContinuousRangeSpec(
        type="continuous", min_value=0.001, max_value=0.1, scaling_type="Logarithmic"
    )
    assert ranges["batch_size"] == IntegerRangeSpec(type="integer", min_value=32, max_value=256)
    assert ranges["optimizer"] == CategoricalRangeSpec(values=["adam", "sgd"])
    assert spec.warm_start is not None and spec.warm_start.parents == ["parent-1"]
    assert spec.completion_criteria is not None
    assert spec.completion_criteria.max_number_of_training_jobs_not_improving == 5
    assert spec.completion_criteria.complete_on_convergence is True


def test_sdk_range_validated_like_dicts() -> None:
    args = tuner_args(hyperparameter_ranges={"lr": parameter.ContinuousParameter(0.0, 0.1, "Logarithmic")})
    with pytest.raises(SpecValidationError) as info:
        parse_spec(HyperparameterTunerSpec, args, owner="Op")
    assert info.value.errors == [
        {
            "field": "hyperparameter_ranges.lr.min_value",
            "message": "must be > 0 with scaling_type Logarithmic (got 0.0)",
        }
    ]


def test_hyperband_config_object() -> None:
    args = tuner_args(
        strategy="Hyperband",
        max_jobs=10,
        hyperband_strategy_config=shapes.HyperbandStrategyConfig(min_resource=1, max_resource=27),
    )
    spec = parse_spec(HyperparameterTunerSpec, args, owner="Op")
    assert spec.hyperband_strategy_config is not None
    assert (spec.hyperband_strategy_config.min_resource, spec.hyperband_strategy_config.max_resource) == (
        1,
        27,
    )


def test_unmodelled_sdk_fields_are_rejected_not_dropped() -> None:
    compute = configs.Compute(instance_type="ml.m5.xlarge", training_plan_arn="arn:aws:sagemaker:x")
    with pytest.raises(SpecValidationError) as info:
        parse_spec(ModelTrainerSpec, trainer_args(compute=compute), owner="Op")
    assert info.value.errors[0]["field"] == "compute.training_plan_arn"
    assert "is not an accepted field" in info.value.errors[0]["message"]

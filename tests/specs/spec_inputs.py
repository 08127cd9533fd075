"""Shared valid inputs for the spec tests (plain helpers, no fixtures)."""

from __future__ import annotations

from typing import Any

ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"


def trainer_args(**overrides: Any) -> dict[str, Any]:
    """Smallest valid ModelTrainer arguments, with overrides."""
    return {
        "training_image": "763104351884.dkr.ecr.us-west-2.amazonaws.com/pytorch-training:2.0-gpu-py310",
        "role": ROLE,
        "output_path": "s3://my-bucket/output",
        **overrides,
    }


def tuner_args(**overrides: Any) -> dict[str, Any]:
    """Smallest valid HyperparameterTuner arguments, with overrides."""
    return {
        "trainer": trainer_args(),
        "objective_metric_name": "validation:accuracy",
        "metric_definitions": [{"name": "validation:accuracy", "regex": "Val Acc: ([0-9\\.]+)"}],
        "hyperparameter_ranges": {
            "learning_rate": {"type": "continuous", "min_value": 0.001, "max_value": 0.1},
        },
        **overrides,
    }


FT_ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
MODEL_PACKAGE = "arn:aws:sagemaker:us-east-1:123456789012:model-package/ft-models/3"


def finetune_args(**overrides: Any) -> dict[str, Any]:
    """Smallest valid fine-tuning trainer arguments (serverless), with overrides."""
    return {
        "model": "meta-textgeneration-llama-3-2-1b-instruct",
        "role": FT_ROLE,
        "model_package_group": "ft-models",
        "training_dataset": "s3://my-bucket/train.jsonl",
        **overrides,
    }

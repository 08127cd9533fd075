"""Recipe checks of hyperparameter overrides and the translation of the SDK's construction errors."""

from __future__ import annotations

from airflow_provider_smtrain.sdk.finetune_checks import construction_error, recipe_override_errors

SPECS = {
    "learning_rate": {"type": "float", "default": 1e-4, "min": 1e-7, "max": 1e-3},
    "max_epochs": {"type": "integer", "default": 3, "min": 1, "max": 20},
    "lora_rank": {"type": "integer", "default": 16, "enum": [8, 16, 32]},
    "packing": {"type": "boolean", "default": False},
    "name": {"type": "string", "default": "recipe"},
}


def test_rendered_strings_are_converted_to_the_recipe_types() -> None:
    converted, errors = recipe_override_errors(
        {"learning_rate": "2e-4", "max_epochs": "5", "packing": "true", "lora_rank": 32}, SPECS, "m"
    )
    assert errors == []
    assert converted == {"learning_rate": 2e-4, "max_epochs": 5, "packing": True, "lora_rank": 32}


def test_every_problem_names_its_hyperparameter_without_its_value() -> None:
    _, errors = recipe_override_errors(
        {"learning_rate": 1, "max_epochs": 2.5, "lora_rank": 12, "packing": "sometimes", "name": 3, "lr": 1},
        SPECS,
        "my-model",
    )
    by_field = {e["field"]: e["message"] for e in errors}
    assert by_field["hyperparameters.learning_rate"].startswith("must be <= 0.001 (the recipe's range is 1e-07..0.001)")
    assert by_field["hyperparameters.max_epochs"].startswith("must be an integer")
    assert by_field["hyperparameters.lora_rank"].startswith("must be one of 8, 16, 32")
    assert by_field["hyperparameters.packing"].startswith("must be true or false")
    assert by_field["hyperparameters.name"].startswith("must be a string")
    assert "(accepted: learning_rate, lora_rank, max_epochs, name, packing)" in by_field["hyperparameters.lr"]
    assert "is not an option of the recipe of my-model" in by_field["hyperparameters.lr"]
    assert "sometimes" not in str(errors) and "2.5" not in str(errors)


def test_sdk_construction_errors_become_field_errors() -> None:
    gated = ValueError("Model 'x' is a gated model and requires EULA acceptance. Please set accept_eula=True")
    error = construction_error("SFTTrainerOperator", gated)
    assert error is not None and error.errors[0]["field"] == "accept_eula"
    missing = ValueError("Model 'x' is not available in SageMaker Hub 'SageMakerPublicHub' (region 'us-east-1').")
    found = construction_error("SFTTrainerOperator", missing)
    assert found is not None and found.errors[0]["field"] == "model"
    assert construction_error("SFTTrainerOperator", ValueError("something else")) is None
    assert construction_error("SFTTrainerOperator", RuntimeError("No recipes found")) is None


def test_a_missing_model_package_group_names_the_field() -> None:
    from airflow_provider_smtrain.sdk.finetune_checks import submission_error

    err = Exception(
        "An error occurred (ValidationException) when calling the DescribeModelPackageGroup operation: "
        "ModelPackageGroup arn:aws:sagemaker:us-east-1:1:model-package-group/x does not exist."
    )
    found = submission_error("SFTTrainerOperator", err)
    assert found is not None and found.errors[0]["field"] == "model_package_group"
    assert submission_error("SFTTrainerOperator", Exception("throttled")) is None

"""Error message format, secret hygiene and import isolation."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
from spec_inputs import trainer_args, tuner_args

from airflow_provider_smtrain.specs import (
    HyperparameterTunerSpec,
    ModelTrainerSpec,
    SpecValidationError,
    parse_spec,
)

SECRET = "hunter2-very-secret-value"


def test_message_format() -> None:
    with pytest.raises(SpecValidationError) as info:
        parse_spec(
            ModelTrainerSpec,
            trainer_args(compute={"instance_count": 0}, output_path="bucket/x"),
            owner="ModelTrainerOperator",
        )
    assert str(info.value) == (
        "Invalid arguments for ModelTrainerOperator:\n"
        "  - compute.instance_count: must be >= 1 (got 0)\n"
        "  - output_path: must be an S3 URI like s3://bucket/prefix (got 'bucket/x')"
    )
    assert info.value.errors == [
        {"field": "compute.instance_count", "message": "must be >= 1 (got 0)"},
        {"field": "output_path", "message": "must be an S3 URI like s3://bucket/prefix (got 'bucket/x')"},
    ]
    assert isinstance(info.value, ValueError)


def test_long_values_are_truncated() -> None:
    with pytest.raises(SpecValidationError) as info:
        parse_spec(ModelTrainerSpec, trainer_args(output_path="x" * 500), owner="Op")
    message = info.value.errors[0]["message"]
    assert "x" * 80 not in message and message.endswith("...')")


def _all_text(error: SpecValidationError) -> str:
    return str(error) + repr(error) + json.dumps(error.errors) + repr(error.args)


@pytest.mark.parametrize(
    "environment",
    [
        {"API_TOKEN": SECRET * 30},  # too long
        {"PASSWORD": [SECRET]},  # wrong type
        {"bad-name": SECRET},  # bad key, value must still not leak
        {f"E{i}": SECRET for i in range(49)},  # too many
        f"{{'DB_PASSWORD': '{SECRET}'",  # unparseable rendered string
        SECRET,
    ],
)
def test_environment_values_never_shown(environment: object) -> None:
    args = trainer_args(environment=environment, output_path="bucket/x")
    with pytest.raises(SpecValidationError) as info:
        parse_spec(ModelTrainerSpec, args, owner="Op")
    assert any(e["field"].startswith("environment") for e in info.value.errors)
    assert SECRET not in _all_text(info.value)
    # the pydantic error (which embeds inputs) is not chained into tracebacks
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_environment_values_never_shown_through_tuner() -> None:
    args = tuner_args(trainer=trainer_args(environment={"TOKEN": SECRET * 40}))
    with pytest.raises(SpecValidationError) as info:
        parse_spec(HyperparameterTunerSpec, args, owner="Op")
    assert info.value.errors[0]["field"] == "trainer.environment.TOKEN"
    assert SECRET not in _all_text(info.value)


def test_secret_looking_values_and_keys_are_hidden() -> None:
    args = trainer_args(
        role="AKIAIOSFODNN7EXAMPLEKEY",
        hyperparameters={"wandb_api_key": {SECRET}},  # a set is not JSON
        tags={"aws:token": SECRET},
    )
    with pytest.raises(SpecValidationError) as info:
        parse_spec(ModelTrainerSpec, args, owner="Op")
    text = _all_text(info.value)
    assert "AKIAIOSFODNN7EXAMPLEKEY" not in text and SECRET not in text
    assert {e["field"] for e in info.value.errors} >= {"role", "tags.aws:token"}


def test_import_is_light() -> None:
    code = textwrap.dedent(
        """
        import sys
        import airflow_provider_smtrain.specs
        heavy = sorted(m for m in sys.modules if m.split('.')[0] in {'sagemaker', 'boto3', 'botocore', 'pandas', 'aiobotocore'})
        print(heavy)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_error_pickles() -> None:
    import pickle

    with pytest.raises(SpecValidationError) as info:
        parse_spec(ModelTrainerSpec, trainer_args(output_path="x"), owner="Op")
    again = pickle.loads(pickle.dumps(info.value))
    assert str(again) == str(info.value) and again.errors == info.value.errors


def test_non_json_hyperparameter_value() -> None:
    with pytest.raises(SpecValidationError) as info:
        parse_spec(ModelTrainerSpec, trainer_args(hyperparameters={"x": object()}), owner="Op")
    assert info.value.errors == [
        {
            "field": "hyperparameters.x",
            "message": "must be a JSON value (string, number, boolean, null, list or object)",
        }
    ]

"""AI Registry specs: bad input is rejected with the field and what is accepted; good input is normalised."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from airflow_provider_smtrain.specs import DataSetSpec, EvaluatorSpec, SpecValidationError, parse_spec

LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:reward"
ROLE = "arn:aws:iam::123456789012:role/LambdaRole"


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    paths = {"jsonl": tmp_path / "d.jsonl", "txt": tmp_path / "d.txt", "py": tmp_path / "r.py"}
    for path in paths.values():
        path.write_text("{}\n")
    return {key: str(path) for key, path in paths.items()}


def errors(model: Any, arguments: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(SpecValidationError) as info:
        parse_spec(model, arguments, owner="Op")
    return {e["field"]: e["message"] for e in info.value.errors}


BAD_DATASETS = [
    ({"name": "-starts-with-hyphen", "source": "s3://bucket/d.jsonl"}, "name", "letters, digits and hyphens"),
    ({"name": "x" * 64, "source": "s3://bucket/d.jsonl"}, "name", "at most 63"),
    ({"name": "has_underscore", "source": "s3://bucket/d.jsonl"}, "name", "letters, digits and hyphens"),
    ({"name": "d", "source": "https://example.com/d.jsonl"}, "source", "no other URL scheme"),
    ({"name": "d", "source": "s3://bucket/data.txt"}, "source", ".jsonl, .json, .parquet, .csv"),
    ({"name": "d", "source": "/nowhere/d.jsonl"}, "source", "no such file"),
    ({"name": "d", "source": "relative/d.jsonl"}, "source", "relative to the DAG file"),
    ({"name": "d", "source": "s3://bucket/d.jsonl", "customization_technique": "ppo"},
     "customization_technique", "'sft', 'dpo', 'rlvr'"),
    ({"name": "d", "source": "s3://bucket/d.jsonl", "role": "my-role"}, "role", "IAM role ARN"),
    ({"name": "d", "source": "s3://bucket/d.jsonl", "search_keywords": {"Team": "nlp"}},
     "search_keywords.Team", "without upper-case"),
    ({"name": "d", "source": "s3://bucket/d.jsonl", "search_keywords": {"smtrain-sha256": "x"}},
     "search_keywords.smtrain-sha256", "reserved"),
    ({"name": "d", "source": "s3://bucket/d.jsonl", "bucket": "b"}, "bucket", "is not an accepted field"),
]


@pytest.mark.parametrize(("arguments", "field", "message"), BAD_DATASETS)
def test_bad_dataset_arguments_name_the_field(arguments: dict[str, Any], field: str, message: str) -> None:
    found = errors(DataSetSpec, arguments)
    assert field in found, found
    assert message in found[field]


def test_a_local_dataset_of_an_unsupported_type_is_rejected(files: dict[str, str]) -> None:
    assert "must be a .jsonl" in errors(DataSetSpec, {"name": "d", "source": files["txt"]})["source"]


BAD_EVALUATORS = [
    ({"name": "e", "type": "Judge", "source": LAMBDA}, "type", "'RewardFunction', 'RewardPrompt'"),
    ({"name": "e", "type": "RewardFunction", "source": "arn:aws:iam::123456789012:role/x"}, "source",
     "Lambda function ARN"),
    ({"name": "e", "type": "RewardFunction", "source": "s3://bucket/reward.py"}, "source", None),
    ({"name": "e", "type": "RewardFunction", "source": "reward.js"}, "source", "Lambda function ARN or a local .py"),
    ({"name": "e", "type": "RewardFunction", "source": "/nowhere/reward.py", "role": ROLE}, "source",
     "no such file"),
    ({"name": "e", "type": "RewardPrompt", "source": "ftp://host/prompt.txt"}, "source", "no other URL scheme"),
    ({"name": "e", "type": "RewardPrompt", "source": "s3://x/prompt.txt"}, "source", "S3 URI"),
    ({"name": "e e", "type": "RewardPrompt", "source": "s3://bucket/p.txt"}, "name", "letters, digits"),
]


@pytest.mark.parametrize(("arguments", "field", "message"), BAD_EVALUATORS)
def test_bad_evaluator_arguments_name_the_field(arguments: dict[str, Any], field: str, message: str | None) -> None:
    found = errors(EvaluatorSpec, arguments)
    assert field in found, found
    assert message is None or message in found[field]


def test_a_local_reward_function_needs_a_role(files: dict[str, str]) -> None:
    found = errors(EvaluatorSpec, {"name": "e", "type": "RewardFunction", "source": files["py"]})
    assert set(found) == {"role"} and "required to create a Lambda function" in found["role"]


def test_good_input_is_normalised(files: dict[str, str]) -> None:
    dataset = parse_spec(DataSetSpec, {"name": "chat-1", "source": files["jsonl"], "customization_technique": "SFT",
                                       "search_keywords": '["team:nlp"]', "role": "None"}, owner="Op")
    assert dataset.customization_technique == "sft" and dataset.search_keywords == {"team": "nlp"}
    assert dataset.role is None and not dataset.source_is_s3
    function = parse_spec(EvaluatorSpec, {"name": "r", "type": "rewardfunction", "source": LAMBDA}, owner="Op")
    assert function.type == "RewardFunction" and not function.creates_lambda
    local = parse_spec(EvaluatorSpec, {"name": "r", "type": "RewardFunction", "source": files["py"], "role": ROLE},
                       owner="Op")
    assert local.creates_lambda
    prompt = parse_spec(EvaluatorSpec, {"name": "p", "type": "REWARDPROMPT", "source": files["txt"]}, owner="Op")
    assert prompt.type == "RewardPrompt"

"""Checks of fine-tuning arguments that need the model's recipe or the account: run in ``execute()``,
before any job is created, and reported as :class:`~airflow_provider_smtrain.specs.SpecValidationError`.

* hyperparameter overrides against the recipe's override spec (names, types, ranges, enums), which the
  SDK downloads while it builds the trainer;
* the SDK's own construction errors (unknown model, region outside the model's regions, gated model
  without ``accept_eula``, no recipe for the technique) turned into errors naming the field;
* the RLAIF reward model against the SDK's allow-list and the task's region;
* the first record of a DPO dataset on S3 has ``prompt``, ``chosen`` and ``rejected``.

Nothing here imports ``sagemaker`` at module level.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from typing import Any

from airflow_provider_smtrain.specs.errors import SpecValidationError

__all__ = [
    "check_dpo_records",
    "submission_error",
    "check_region",
    "check_reward_model",
    "coerce_override",
    "construction_error",
    "recipe_override_errors",
]

#: SDK construction messages -> the argument they are about (first match wins).
_SDK_MESSAGES: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (re.compile(r"is not available in SageMaker Hub"), "model", "no such model in the SageMaker hub"),
    (
        re.compile(r"Region '([^']*)' does not support model customization"),
        "region_name",
        "the region does not offer model customization for this model",
    ),
    (re.compile(r"requires EULA acceptance"), "accept_eula", "must be true: the model is gated"),
    (re.compile(r"No recipes found .*SequenceLength"), "sequence_length", "no recipe for this length"),
    (re.compile(r"No recipes found"), "model", "the model has no recipe for this trainer"),
    (re.compile(r"Continued fine tuning is only allowed"), "model", "not a package fine-tuned from a hub model"),
    (re.compile(r"reward_model_id|Reward model '"), "reward_model_id", "not offered"),
    (re.compile(r"reward prompt|reward_prompt|Custom prompt '"), "reward_prompt", "not found"),
)


def construction_error(owner: str, err: Exception) -> SpecValidationError | None:
    """
    The SDK's construction error as a :class:`SpecValidationError` naming the argument, when it is bad input.

    :param owner: the operator class name.
    :param err: what building the SDK trainer raised.
    :return: the translated error, or None when ``err`` is not about an argument.
    """
    if not isinstance(err, ValueError | AttributeError):
        return None
    text = " ".join(str(err).split())
    for pattern, field, summary in _SDK_MESSAGES:
        if pattern.search(text):
            return SpecValidationError(owner, [{"field": field, "message": f"{summary}: {text}"}])
    return None


_GROUP_MISSING = re.compile(r"ModelPackageGroup .* does not exist|model package group .* not found", re.I)


def submission_error(owner: str, err: Exception) -> SpecValidationError | None:
    """
    An error the SDK raised in ``train()`` before submitting, as a :class:`SpecValidationError` when it
    is about an argument (today: a model package group that does not exist).

    :param owner: the operator class name.
    :param err: what ``train()`` raised.
    """
    text = " ".join(str(err).split())
    if "DescribeModelPackageGroup" in text and _GROUP_MISSING.search(text):
        return SpecValidationError(
            owner, [{"field": "model_package_group", "message": f"no such model package group: {text}"}]
        )
    return construction_error(owner, err)


def _number(value: Any, kind: str) -> Any:
    if isinstance(value, str):
        try:
            return int(value) if kind == "integer" else float(value)
        except ValueError:
            return value
    if kind == "float" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def coerce_override(value: Any, spec: Mapping[str, Any] | Any) -> Any:
    """
    A hyperparameter value converted to the recipe's type when it was rendered as a string.

    :param value: the given value (``"1e-4"`` from Jinja, or a native number).
    :param spec: the option's override spec (``{"type", "min", "max", "enum", "default"}``).
    """
    kind = spec.get("type") if isinstance(spec, Mapping) else None
    if kind in ("float", "integer"):
        return _number(value, kind)
    if kind == "boolean" and isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return value


def _type_problem(value: Any, kind: Any) -> str | None:
    if kind == "float" and (isinstance(value, bool) or not isinstance(value, int | float)):
        return "must be a number"
    if kind == "integer" and (isinstance(value, bool) or not isinstance(value, int)):
        return "must be an integer"
    if kind == "string" and not isinstance(value, str):
        return "must be a string"
    if kind == "boolean" and not isinstance(value, bool):
        return "must be true or false"
    return None


def _value_problem(value: Any, spec: Mapping[str, Any]) -> str | None:
    problem = _type_problem(value, spec.get("type"))
    if problem:
        return problem
    low, high = spec.get("min"), spec.get("max")
    try:
        if low is not None and value < low:
            return f"must be >= {low}" + (f" (the recipe's range is {low}..{high})" if high is not None else "")
        if high is not None and value > high:
            return f"must be <= {high}" + (f" (the recipe's range is {low}..{high})" if low is not None else "")
    except TypeError:
        return f"must be comparable with the recipe's range {low}..{high}"
    enum = spec.get("enum")
    if enum is not None and value not in enum:
        return f"must be one of {', '.join(repr(item) for item in enum)}"
    return None


def recipe_override_errors(
    overrides: Mapping[str, Any], specs: Mapping[str, Any], model: str
) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """
    Check hyperparameter overrides against a recipe's override spec.

    :param overrides: the task's ``hyperparameters``.
    :param specs: the recipe's override spec (``FineTuningOptions._specs``): name -> spec dict.
    :param model: the model id, for the messages.
    :return: the overrides converted to the recipe's types, and one ``{"field", "message"}`` per problem
        (values are never shown: hyperparameters may hold secrets).
    """
    accepted = sorted(specs)
    converted: dict[str, Any] = {}
    errors: list[dict[str, str]] = []
    for name, raw in overrides.items():
        field = f"hyperparameters.{name}"
        if name not in specs:
            close = difflib.get_close_matches(name, accepted, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            errors.append({
                "field": field,
                "message": f"is not an option of the recipe of {model}{hint} "
                f"(accepted: {', '.join(accepted) or 'none'})",
            })
            continue
        spec = specs[name]
        value = coerce_override(raw, spec)
        problem = _value_problem(value, spec) if isinstance(spec, Mapping) else None
        if problem:
            errors.append({"field": field, "message": f"{problem} (recipe of {model})"})
            continue
        converted[name] = value
    return converted, errors


def check_reward_model(owner: str, reward_model_id: str, region: str) -> None:
    """
    Reject a reward model the SDK does not offer, or does not offer in ``region``.

    :param owner: the operator class name.
    :param reward_model_id: the RLAIF judge model id.
    :param region: the task's region.
    """
    from sagemaker.train.constants import _ALLOWED_REWARD_MODEL_IDS

    regions = _ALLOWED_REWARD_MODEL_IDS.get(reward_model_id)
    if regions is None:
        message = f"must be one of {', '.join(sorted(_ALLOWED_REWARD_MODEL_IDS))}"
    elif region not in regions:
        message = f"is not offered in {region}; its regions: {', '.join(regions)}"
    else:
        return
    raise SpecValidationError(owner, [{"field": "reward_model_id", "message": message}])


def check_region(owner: str, model: str, region: str) -> None:
    """
    Reject a region outside the SDK's allow-list for a hub model (static: no AWS call).

    A model package's base model is only known after a lookup; the SDK checks it then.

    :param owner: the operator class name.
    :param model: the ``model`` argument (a hub model id or a model package ARN).
    :param region: the task's region.
    """
    from sagemaker.train.common_utils.finetune_utils import _validate_model_region_availability
    from sagemaker.train.common_utils.model_aliases import normalize_model_name

    if model.startswith("arn:"):
        return
    try:
        _validate_model_region_availability(normalize_model_name(model), region)
    except ValueError as err:
        translated = construction_error(owner, err)
        raise (translated or err) from None


_PREFERENCE_KEYS = ("prompt", "chosen", "rejected")


def _first_record(s3: Any, uri: str) -> dict[str, Any] | None:
    bucket, _, key = uri[5:].partition("/")
    if not key.endswith((".jsonl", ".json")):
        listing = s3.list_objects_v2(Bucket=bucket, Prefix=key, MaxKeys=50).get("Contents") or []
        keys = [item["Key"] for item in listing if item["Key"].endswith(".jsonl")]
        if not keys:
            return None
        key = keys[0]
    body = s3.get_object(Bucket=bucket, Key=key, Range="bytes=0-65535")["Body"].read()
    for line in body.decode("utf-8-sig", errors="replace").splitlines():
        if line.strip():
            try:
                record = json.loads(line)
            except ValueError:
                return None  # a partial line or another format: not detectable here
            return record if isinstance(record, dict) else None
    return None


def check_dpo_records(owner: str, s3: Any, uri: str) -> None:
    """
    Reject a DPO dataset whose first record lacks the preference fields (``prompt``, ``chosen``, ``rejected``).

    Only S3 JSONL data is read (the first 64 KiB of one object); other forms are left to the service.

    :param owner: the operator class name.
    :param s3: an S3 client of the task's connection.
    :param uri: the ``training_dataset`` S3 URI (an object or a prefix).
    """
    record = _first_record(s3, uri)
    if record is None:
        return
    if "messages" in record or "conversations" in record:
        return  # a chat-style preference format (e.g. Nova): the service checks it
    missing = [key for key in _PREFERENCE_KEYS if key not in record]
    if missing:
        raise SpecValidationError(owner, [{
            "field": "training_dataset",
            "message": "DPO needs preference records with 'prompt', 'chosen' and 'rejected'; the first "
            f"record has no {', '.join(repr(key) for key in missing)} "
            f"(its fields: {', '.join(sorted(map(str, record))) or 'none'})",
        }])

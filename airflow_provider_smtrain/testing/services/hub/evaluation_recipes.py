"""
What the public hub holds for the SDK's evaluators (data only, standard library).

Each public model's ``RecipeCollection`` gets ``Type: Evaluation`` entries (``EvaluationType``
``DeterministicEvaluation`` for benchmarks and custom scorers; ``MTRLEvaluation`` for models with an MTRL
recipe) whose ``SmtjOverrideParamsS3Uri`` is the inference-parameter spec the evaluators' ``hyperparameters``
read (``_get_evaluation_override_params``). The JumpStart bucket also holds
``fmhMetadata/supported-llmaj-judge-models.json``, the judge allowlist ``LLMAsJudgeEvaluator`` checks
its ``evaluator_model`` against (the Bedrock models of :mod:`..bedrock`).
"""

from __future__ import annotations

import json
from typing import Any

JUDGE_MODELS_KEY = "fmhMetadata/supported-llmaj-judge-models.json"
EVALUATION_RELEASE = "v1.0.4"


def deterministic_spec(max_length: int) -> dict[str, Any]:
    """The inference-parameter spec of benchmark / custom scorer evaluations."""
    return {
        "max_new_tokens": {"type": "integer", "default": 8192, "min": 1, "max": 16384},
        "temperature": {"type": "float", "default": 0.0, "min": 0.0, "max": 2.0},
        "top_k": {"type": "integer", "default": -1, "min": -1, "max": 1000},
        "top_p": {"type": "float", "default": 1.0, "min": 0.0, "max": 1.0},
        "max_model_len": {"type": "integer", "default": max_length, "min": 512, "max": max_length},
    }


def mtrl_spec() -> dict[str, Any]:
    """The hyperparameter spec of MultiTurnRL (AgentRFTEvaluation) evaluations."""
    return {
        "eval_group_size": {"type": "integer", "default": 4, "min": 1, "max": 64},
        "sampling_temperature": {"type": "float", "default": 0.7, "min": 0.0, "max": 2.0},
        "top_p": {"type": "float", "default": 1.0, "min": 0.0, "max": 1.0},
        "max_tokens": {"type": "integer", "default": 2048, "min": 16, "max": 16384},
        "pass_k_values": {"type": "string", "default": "1"},
        "success_threshold": {"type": "float", "default": 0.5, "min": 0.0, "max": 1.0},
    }


def _key(stem: str, evaluation_type: str) -> str:
    return f"recipes/{stem}_eval_{evaluation_type.lower()}_override_params_sm_jobs_{EVALUATION_RELEASE}.json"


def _types(model: Any) -> list[str]:
    return ["DeterministicEvaluation"] + (["MTRLEvaluation"] if "MTRL" in model.techniques else [])


def entries(model: Any, bucket: str, image_account: str, region: str) -> list[dict[str, Any]]:
    """
    The evaluation ``RecipeCollection`` entries of one public model.

    :param model: A ``public_models.PublicModel``.
    :param bucket: The region's JumpStart bucket.
    :param image_account: Account of the images' ECR repositories.
    :param region: Region.
    """
    out = []
    for evaluation_type in _types(model):
        out.append(
            {
                "DisplayName": f"{model.display_name} general text benchmark evaluation ({evaluation_type})",
                "Name": f"{model.recipe_stem}_eval_{evaluation_type.lower()}",
                "Type": "Evaluation",
                "EvaluationType": evaluation_type,
                "Versions": ["1.0.0"],
                "Hardware": "GPU",
                "InstanceCount": 1,
                "SupportedInstanceTypes": ["ml.g5.12xlarge", "ml.p4d.24xlarge"],
                "ServerlessMeteringType": "Token-based",
                "SmtjOverrideParamsS3Uri": f"s3://{bucket}/{_key(model.recipe_stem, evaluation_type)}",
                "SmtjImageUri": f"{image_account}.dkr.ecr.{region}.amazonaws.com/sagemaker-llm-evaluation:latest",
            }
        )
    return out


def objects(models: list[Any], judge_model_ids: list[str]) -> dict[str, bytes]:
    """
    The evaluation objects of a JumpStart bucket: override specs and the judge allowlist.

    :param models: ``public_models.PublicModel`` entries.
    :param judge_model_ids: Bedrock model ids that may judge.
    """
    out: dict[str, bytes] = {}
    for model in models:
        for evaluation_type in _types(model):
            spec = mtrl_spec() if evaluation_type == "MTRLEvaluation" else deterministic_spec(model.max_length)
            out[_key(model.recipe_stem, evaluation_type)] = json.dumps(spec, indent=1).encode()
    judges = {"supported_judge_models": [{"model_id": model_id} for model_id in judge_model_ids]}
    out[JUDGE_MODELS_KEY] = json.dumps(judges, indent=1).encode()
    return out

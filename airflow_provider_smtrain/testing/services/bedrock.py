"""
Bedrock ``GetFoundationModel`` for the judge models of LLM-as-judge evaluations (moto lacks it).

:data:`FOUNDATION_MODELS` are served in every region with lifecycle ``ACTIVE``; any other id is
``ResourceNotFoundException`` (what ``LLMAsJudgeEvaluator`` turns into "not available in region").
The same ids are the JumpStart bucket's judge allowlist (``supported-llmaj-judge-models.json``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

#: model id -> (model name, provider).
FOUNDATION_MODELS: dict[str, tuple[str, str]] = {
    "anthropic.claude-3-haiku-20240307-v1:0": ("Claude 3 Haiku", "Anthropic"),
    "anthropic.claude-3-5-haiku-20241022-v1:0": ("Claude 3.5 Haiku", "Anthropic"),
    "anthropic.claude-3-5-sonnet-20240620-v1:0": ("Claude 3.5 Sonnet", "Anthropic"),
    "anthropic.claude-sonnet-4-5-20250929-v1:0": ("Claude Sonnet 4.5", "Anthropic"),
    "amazon.nova-micro-v1:0": ("Nova Micro", "Amazon"),
    "amazon.nova-lite-v1:0": ("Nova Lite", "Amazon"),
    "amazon.nova-pro-v1:0": ("Nova Pro", "Amazon"),
    "meta.llama3-1-70b-instruct-v1:0": ("Llama 3.1 70B Instruct", "Meta"),
    "mistral.mistral-large-2402-v1:0": ("Mistral Large (24.02)", "Mistral AI"),
}


def model_details(model_id: str, region: str) -> dict[str, Any]:
    """
    The ``modelDetails`` of a foundation model.

    :param model_id: Its id (or ARN).
    :param region: Region.
    :raises KeyError: Unknown model.
    """
    model_id = model_id.rsplit("/", 1)[-1]
    name, provider = FOUNDATION_MODELS[model_id]
    return {
        "modelArn": f"arn:aws:bedrock:{region}::foundation-model/{model_id}",
        "modelId": model_id,
        "modelName": name,
        "providerName": provider,
        "inputModalities": ["TEXT"],
        "outputModalities": ["TEXT"],
        "responseStreamingSupported": True,
        "customizationsSupported": [],
        "inferenceTypesSupported": ["ON_DEMAND"],
        "modelLifecycle": {"status": "ACTIVE"},
    }


def install() -> None:
    """Add ``GetFoundationModel`` to moto's Bedrock (once per process)."""
    from moto.bedrock.responses import BedrockResponse

    from airflow_provider_smtrain.testing import moto_support

    moto_support.patch_once(BedrockResponse, "get_foundation_model", lambda _: get_foundation_model)


def get_foundation_model(self: Any) -> str:
    """
    GetFoundationModel (``GET /foundation-models/{modelIdentifier}``).

    :param self: moto's Bedrock response handler.
    """
    import json

    from moto.bedrock.exceptions import ResourceNotFoundException

    class NotFound(ResourceNotFoundException):
        code = 404

    model_id = unquote(self.path.split("?", 1)[0].rstrip("/").split("/foundation-models/", 1)[-1])
    try:
        details = model_details(model_id, self.region)
    except KeyError:
        raise NotFound("The provided model identifier is invalid.") from None
    return json.dumps({"modelDetails": details})

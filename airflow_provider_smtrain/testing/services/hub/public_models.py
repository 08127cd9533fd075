"""
The SageMaker public hub's fine-tunable models, as the local SageMaker serves them (data only, standard library).

Each :class:`PublicModel` yields the ``HubContentDocument`` the SDK's trainers read
(``RecipeCollection`` entries with ``CustomizationTechnique``, ``Peft``, ``SequenceLength``,
``SmtjRecipeTemplateS3Uri``, ``SmtjOverrideParamsS3Uri``, ``SmtjImageUri``), the override-parameter
specs (``{"name": {"type", "default", "min", "max", "enum"}}``, what ``FineTuningOptions`` validates)
and the recipe templates (YAML with ``{{name}}`` placeholders). Both are stored in the AWS-owned
JumpStart bucket of each region (:func:`recipe_bucket`) when the server starts.

Tests import this module to know what the local SageMaker accepts::

    from airflow_provider_smtrain.testing.services.hub.public_models import MODELS, override_spec

    spec = override_spec("meta-textgeneration-llama-3-2-1b-instruct", "SFT", "LORA")
    assert spec["learning_rate"]["max"] == 1e-3
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_smtrain.testing.services.bedrock import FOUNDATION_MODELS
from airflow_provider_smtrain.testing.services.hub import evaluation_recipes

PUBLIC_HUB_NAME = "SageMakerPublicHub"
#: Regions where the SDK allows open-weight model customization (``finetune_utils.OPEN_WEIGHTS_REGIONS``).
REGIONS = ("us-east-1", "us-west-2", "ap-northeast-1", "eu-west-1")
TECHNIQUES = ("SFT", "DPO", "RLVR", "RLAIF", "MTRL")
TRAINING_TYPES = ("LORA", "FULL")
#: Recipe file version suffix, as in the real JumpStart bucket (``..._sm_jobs_v1.0.20.yaml``).
RECIPE_RELEASE = "v1.0.20"
DOCUMENT_SCHEMA_VERSION = "2.0.0"
#: Account of the ECR repositories of the fine-tuning images.
IMAGE_ACCOUNT = "763104351884"
JUDGE_PROMPT_TEMPLATES = ("summarize.jinja", "helpfulness.jinja", "harmlessness.jinja")
PRESET_REWARD_FUNCTIONS = ("gsm8k", "prime_math", "prime_code")


def recipe_bucket(region: str) -> str:
    """
    The AWS-owned JumpStart bucket holding recipes and override specs in ``region``.

    :param region: AWS region.
    """
    return f"jumpstart-cache-prod-{region}"


def _number(default: float, low: float, high: float) -> dict[str, Any]:
    return {"type": "float", "default": default, "min": low, "max": high}


def _integer(default: int, low: int, high: int) -> dict[str, Any]:
    return {"type": "integer", "default": default, "min": low, "max": high}


def _string(default: str | None, enum: tuple[str, ...] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"type": "string"}
    if default is not None:
        spec["default"] = default
    if enum is not None:
        spec["enum"] = list(enum)
    return spec


@dataclass(frozen=True)
class PublicModel:
    """
    One fine-tunable open-weight model of the public hub.

    :param model_id: Hub content name (what ``SFTTrainer(model=...)`` takes).
    :param version: Hub content version.
    :param display_name: Hub content display name.
    :param hf_model_id: Hugging Face id of the weights (the recipe's ``model_name_or_path``).
    :param recipe_stem: Stem of the recipe file names.
    :param sequence_length: Recipe sequence length (``"4K"``, ``"8K"``).
    :param gated: ``GatedBucket``: training requires ``accept_eula=True``.
    :param techniques: Customization techniques with recipes (each in LoRA and full, MTRL LoRA only).
    :param max_batch_size: Upper bound of ``global_batch_size``.
    """

    model_id: str
    version: str
    display_name: str
    hf_model_id: str
    recipe_stem: str
    sequence_length: str
    gated: bool
    techniques: tuple[str, ...] = ("SFT", "DPO", "RLVR", "RLAIF")
    max_batch_size: int = 256
    regions: tuple[str, ...] = field(default=REGIONS)

    @property
    def max_length(self) -> int:
        """The sequence length in tokens (``"4K"`` -> 4096)."""
        return int(self.sequence_length[:-1]) * 1024

    def recipes(self) -> list[tuple[str, str]]:
        """``(technique, training type)`` of every recipe."""
        return [
            (technique, training_type)
            for technique in self.techniques
            for training_type in TRAINING_TYPES
            if not (technique == "MTRL" and training_type == "FULL")
        ]

    def recipe_name(self, technique: str, training_type: str) -> str:
        """
        Name of one recipe (``llmft_llama3_2_1b_instruct_seq4k_gpu_sft_lora``).

        :param technique: ``SFT``, ``DPO``, ``RLVR``, ``RLAIF`` or ``MTRL``.
        :param training_type: ``LORA`` or ``FULL``.
        """
        return (
            f"{self.recipe_stem}_seq{self.sequence_length.lower()}_gpu_"
            f"{technique.lower()}_{training_type.lower()}"
        )

    def template_key(self, technique: str, training_type: str) -> str:
        """S3 key of a recipe template in :func:`recipe_bucket`."""
        name = self.recipe_name(technique, training_type)
        return f"recipes/{name}_payload_template_sm_jobs_{RECIPE_RELEASE}.yaml"

    def override_key(self, technique: str, training_type: str) -> str:
        """S3 key of a recipe's override-parameter spec in :func:`recipe_bucket`."""
        name = self.recipe_name(technique, training_type)
        return f"recipes/{name}_override_params_sm_jobs_{RECIPE_RELEASE}.json"

    def search_keywords(self) -> list[str]:
        """``HubContentSearchKeywords`` (``@recipe:finetuning_sft_lora`` ... as ``list_supported_models`` reads)."""
        keywords = ["@task:text-generation", "@framework:huggingface", "@capability:fine-tuning"]
        keywords += [f"@recipe:finetuning_{t.lower()}_{tt.lower()}" for t, tt in self.recipes()]
        return keywords

    def override_spec(self, technique: str, training_type: str) -> dict[str, Any]:
        """
        The override-parameter spec of one recipe.

        :param technique: ``SFT``, ``DPO``, ``RLVR``, ``RLAIF`` or ``MTRL``.
        :param training_type: ``LORA`` or ``FULL``.
        """
        _check(self, technique, training_type)
        lora = training_type == "LORA"
        spec: dict[str, Any] = {
            "name": _string(self.recipe_name(technique, training_type)),
            "data_s3_path": _string(""),
            "output_s3_path": _string(""),
            "learning_rate": _number(1e-4 if lora else 1e-5, 1e-7, 1e-3),
            "max_epochs": _integer(1 if technique in ("RLVR", "RLAIF", "MTRL") else 3, 1, 20),
            "global_batch_size": _integer(64, 1, self.max_batch_size),
            "lr_warmup_ratio": _number(0.1, 0.0, 1.0),
            "weight_decay": _number(0.0, 0.0, 1.0),
        }
        if lora:
            spec["lora_rank"] = {"type": "integer", "default": 16, "enum": [4, 8, 16, 32, 64, 128]}
            spec["lora_alpha"] = _integer(32, 1, 512)
            spec["lora_dropout"] = _number(0.05, 0.0, 0.5)
        if technique in ("SFT", "DPO"):
            spec["dataset_max_len"] = _integer(self.max_length, 512, self.max_length)
        if technique == "DPO":
            spec["beta"] = _number(0.1, 0.001, 1.0)
        if technique in ("RLVR", "RLAIF", "MTRL"):
            half = self.max_length // 2
            spec["max_prompt_length"] = _integer(half // 2, 64, self.max_length)
            spec["max_response_length"] = _integer(half, 64, self.max_length)
            spec["rollout_n"] = _integer(8, 2, 64)
            spec["temperature"] = _number(1.0, 0.0, 2.0)
            spec["kl_loss_coef"] = _number(0.001, 0.0, 1.0)
        if technique == "RLVR":
            spec["reward_lambda_arn"] = _string("")
            spec["preset_reward_function"] = _string(None, PRESET_REWARD_FUNCTIONS)
        if technique == "RLAIF":
            spec["judge_model_id"] = _string("bedrock/openai.gpt-oss-120b-1:0")
            spec["judge_prompt_template"] = _string(JUDGE_PROMPT_TEMPLATES[0], JUDGE_PROMPT_TEMPLATES)
        if technique == "MTRL":
            spec["max_turns"] = _integer(8, 1, 64)
        return spec

    def recipe_template(self, technique: str, training_type: str) -> str:
        """
        The recipe template (YAML, ``{{name}}`` placeholders for every override parameter).

        :param technique: ``SFT``, ``DPO``, ``RLVR``, ``RLAIF`` or ``MTRL``.
        :param training_type: ``LORA`` or ``FULL``.
        """
        spec = self.override_spec(technique, training_type)
        run_keys = ("name", "data_s3_path", "output_s3_path")
        lines = [
            "run:",
            '  name: "{{name}}"',
            "  model_type: llm_finetuning_aws",
            f"  model_name_or_path: {self.hf_model_id}",
            '  data_s3_path: "{{data_s3_path}}"',
            '  output_s3_path: "{{output_s3_path}}"',
            "training_config:",
            f"  technique: {technique.lower()}",
            f"  peft: {'lora' if training_type == 'LORA' else 'none'}",
        ]
        lines += [f'  {key}: "{{{{{key}}}}}"' for key in spec if key not in run_keys]
        return "\n".join(lines) + "\n"

    def recipe_entry(self, technique: str, training_type: str, region: str) -> dict[str, Any]:
        """
        One ``RecipeCollection`` entry of the hub content document.

        :param technique: ``SFT``, ``DPO``, ``RLVR``, ``RLAIF`` or ``MTRL``.
        :param training_type: ``LORA`` or ``FULL``.
        :param region: Region of the document (bucket and image URIs are regional).
        """
        lora = training_type == "LORA"
        entry: dict[str, Any] = {
            "DisplayName": f"{self.display_name} {'LoRA ' if lora else ''}{technique} on GPU",
            "Name": self.recipe_name(technique, training_type),
            "RecipeFilePath": f"recipes/fine-tuning/{self.recipe_stem}/{technique}/"
            f"{self.recipe_name(technique, training_type)}.yaml",
            "CustomizationTechnique": technique,
            "Type": "FineTuning",
            "Versions": ["1.0.0"],
            "Hardware": "GPU",
            "InstanceCount": 1,
            "SupportedInstanceTypes": ["ml.g5.12xlarge", "ml.p4d.24xlarge", "ml.p5.48xlarge"],
            "SequenceLength": self.sequence_length,
            "ServerlessMeteringType": "Token-based",
            "SmtjRecipeTemplateS3Uri": f"s3://{recipe_bucket(region)}/{self.template_key(technique, training_type)}",
            "SmtjOverrideParamsS3Uri": f"s3://{recipe_bucket(region)}/{self.override_key(technique, training_type)}",
            "SmtjImageUri": f"{IMAGE_ACCOUNT}.dkr.ecr.{region}.amazonaws.com/"
            f"sagemaker-llm-finetuning:{technique.lower()}-latest",
        }
        if lora:
            entry["Peft"] = "LORA"
        return entry

    def document(self, region: str) -> dict[str, Any]:
        """
        The ``HubContentDocument`` (decoded) of this model in ``region``.

        :param region: AWS region.
        """
        bucket = recipe_bucket(region)
        weights_bucket = f"jumpstart-private-cache-prod-{region}" if self.gated else bucket
        return {
            "Url": f"https://huggingface.co/{self.hf_model_id}",
            "MinSdkVersion": "2.225.0",
            "TrainingSupported": True,
            "IncrementalTrainingSupported": False,
            "GatedBucket": self.gated,
            "HostingEcrUri": f"{IMAGE_ACCOUNT}.dkr.ecr.{region}.amazonaws.com/djl-inference:0.33.0-lmi15.0.0-cu128",
            "HostingArtifactUri": f"s3://{weights_bucket}/{self.recipe_stem}/artifacts/inference/v1.0.0/",
            "TrainingArtifactUri": f"s3://{weights_bucket}/{self.recipe_stem}/artifacts/training/v1.0.0/",
            "DefaultInferenceInstanceType": "ml.g5.2xlarge",
            "SupportedInferenceInstanceTypes": ["ml.g5.2xlarge", "ml.g5.12xlarge", "ml.p4d.24xlarge"],
            "RecipeCollection": [self.recipe_entry(t, tt, region) for t, tt in self.recipes()]
            + evaluation_recipes.entries(self, bucket, IMAGE_ACCOUNT, region),
        }

    def document_json(self, region: str) -> str:
        """:meth:`document` as the JSON string DescribeHubContent returns."""
        return json.dumps(self.document(region))


MODELS: dict[str, PublicModel] = {
    model.model_id: model
    for model in (
        PublicModel(
            "meta-textgeneration-llama-3-2-1b-instruct",
            "1.3.0",
            "Llama 3.2 1B Instruct",
            "meta-llama/Llama-3.2-1B-Instruct",
            "llmft_llama3_2_1b_instruct",
            "4K",
            gated=True,
        ),
        PublicModel(
            "meta-textgeneration-llama-3-2-3b-instruct",
            "1.3.0",
            "Llama 3.2 3B Instruct",
            "meta-llama/Llama-3.2-3B-Instruct",
            "llmft_llama3_2_3b_instruct",
            "4K",
            gated=True,
            techniques=("SFT", "DPO", "RLVR", "RLAIF", "MTRL"),
        ),
        PublicModel(
            "meta-textgeneration-llama-3-1-8b-instruct",
            "2.9.0",
            "Llama 3.1 8B Instruct",
            "meta-llama/Llama-3.1-8B-Instruct",
            "llmft_llama3_1_8b_instruct",
            "8K",
            gated=True,
            max_batch_size=128,
        ),
        PublicModel(
            "huggingface-llm-qwen2-5-7b-instruct",
            "1.1.0",
            "Qwen2.5 7B Instruct",
            "Qwen/Qwen2.5-7B-Instruct",
            "llmft_qwen2_5_7b_instruct",
            "8K",
            gated=False,
            techniques=("SFT", "DPO", "RLVR", "RLAIF", "MTRL"),
            max_batch_size=128,
        ),
    )
}


def _check(model: PublicModel, technique: str, training_type: str) -> None:
    if (technique, training_type) not in model.recipes():
        raise ValueError(
            f"{model.model_id} has no {technique} {training_type} recipe; it has {model.recipes()}"
        )


def model(model_id: str) -> PublicModel:
    """
    The catalogue entry of ``model_id``.

    :param model_id: Hub content name.
    :raises KeyError: Not in the catalogue.
    """
    try:
        return MODELS[model_id]
    except KeyError:
        raise KeyError(f"{model_id!r} is not in the local public hub; it has {sorted(MODELS)}") from None


def override_spec(model_id: str, technique: str, training_type: str) -> dict[str, Any]:
    """
    The override-parameter spec of one model's recipe (what the SDK downloads from S3).

    :param model_id: Hub content name.
    :param technique: ``SFT``, ``DPO``, ``RLVR``, ``RLAIF`` or ``MTRL``.
    :param training_type: ``LORA`` or ``FULL``.
    """
    return model(model_id).override_spec(technique, training_type)


def recipe_objects(region: str) -> dict[str, bytes]:
    """
    Every object of the JumpStart bucket of ``region``: ``{key: body}`` (templates and specs).

    :param region: AWS region.
    """
    objects: dict[str, bytes] = {}
    for entry in MODELS.values():
        for technique, training_type in entry.recipes():
            spec = entry.override_spec(technique, training_type)
            objects[entry.override_key(technique, training_type)] = json.dumps(spec, indent=1).encode()
            template = entry.recipe_template(technique, training_type)
            objects[entry.template_key(technique, training_type)] = template.encode()
    objects.update(evaluation_recipes.objects(list(MODELS.values()), list(FOUNDATION_MODELS)))
    return objects

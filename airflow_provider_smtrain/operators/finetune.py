"""Fine-tuning operators: ``SFTTrainerOperator``, ``DPOTrainerOperator``, ``RLAIFTrainerOperator``,
``RLVRTrainerOperator``, each running one SDK fine-tuning job per task instance.

Every argument is templated and JSON-native; the arguments are validated before anything is created,
and the hyperparameter overrides are checked against the model's recipe before the job is submitted.
See ``docs/finetune.md`` and the example DAG ``example_dags/example_finetune.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_smtrain.operators.finetune_base import (
    COMMON_PARAMS,
    COMPUTE_PARAM,
    FineTuneOperator,
    fields_of,
    template_fields_for,
)

if TYPE_CHECKING:
    from airflow_provider_smtrain.specs import (
        DPOTrainerSpec,
        RLAIFTrainerSpec,
        RLVRTrainerSpec,
        SFTTrainerSpec,
    )

__all__ = ["DPOTrainerOperator", "RLAIFTrainerOperator", "RLVRTrainerOperator", "SFTTrainerOperator"]

_SFT_FIELDS = fields_of("compute")
_RLAIF_FIELDS = fields_of("reward_model_id", "reward_prompt")
_RLVR_FIELDS = fields_of("compute", "custom_reward_function", "skip_reward_validation")


def _doc(summary: str, *params: str) -> str:
    return f"\n    {summary}\n" + COMMON_PARAMS + "".join(params) + "\n    "


class SFTTrainerOperator(FineTuneOperator):
    __doc__ = _doc(
        "Supervised fine-tuning of a foundation model with the SDK's ``SFTTrainer`` (serverless by default).",
        COMPUTE_PARAM,
    )

    spec_name = "SFTTrainerSpec"
    trainer_fields = _SFT_FIELDS
    template_fields = template_fields_for(_SFT_FIELDS)
    template_fields_renderers = {field: "json" for field in _SFT_FIELDS}

    def __init__(
        self,
        *,
        model: Any,
        role: str,
        training_dataset: str,
        training_type: str | None = None,
        model_package_group: str | None = None,
        validation_dataset: str | None = None,
        s3_output_path: str | None = None,
        hyperparameters: Any = None,
        mlflow_resource_arn: str | None = None,
        mlflow_experiment_name: str | None = None,
        mlflow_run_name: str | None = None,
        accept_eula: Any = None,
        networking: Any = None,
        kms_key_id: str | None = None,
        tags: Any = None,
        stopping_condition: Any = None,
        sequence_length: str | None = None,
        compute: Any = None,
        **kwargs: Any,
    ) -> None:
        values = dict(locals())
        super().__init__(**kwargs)
        self._set_fields(values)

    def build_spec(self) -> SFTTrainerSpec:
        """Validate the rendered arguments into an :class:`SFTTrainerSpec`."""
        return super().build_spec()  # type: ignore[return-value]


class DPOTrainerOperator(FineTuneOperator):
    __doc__ = _doc(
        "Direct preference optimization with the SDK's ``DPOTrainer``: training records need ``prompt``, "
        "``chosen`` and ``rejected``.",
        COMPUTE_PARAM,
    )

    spec_name = "DPOTrainerSpec"
    trainer_fields = _SFT_FIELDS
    template_fields = template_fields_for(_SFT_FIELDS)
    template_fields_renderers = {field: "json" for field in _SFT_FIELDS}

    def __init__(
        self,
        *,
        model: Any,
        role: str,
        training_dataset: str,
        training_type: str | None = None,
        model_package_group: str | None = None,
        validation_dataset: str | None = None,
        s3_output_path: str | None = None,
        hyperparameters: Any = None,
        mlflow_resource_arn: str | None = None,
        mlflow_experiment_name: str | None = None,
        mlflow_run_name: str | None = None,
        accept_eula: Any = None,
        networking: Any = None,
        kms_key_id: str | None = None,
        tags: Any = None,
        stopping_condition: Any = None,
        sequence_length: str | None = None,
        compute: Any = None,
        **kwargs: Any,
    ) -> None:
        values = dict(locals())
        super().__init__(**kwargs)
        self._set_fields(values)

    def build_spec(self) -> DPOTrainerSpec:
        """Validate the rendered arguments into a :class:`DPOTrainerSpec`."""
        return super().build_spec()  # type: ignore[return-value]


class RLAIFTrainerOperator(FineTuneOperator):
    __doc__ = _doc(
        "Reinforcement learning from AI feedback with the SDK's ``RLAIFTrainer`` (serverless).",
        """
    :param reward_model_id: the judge model id (e.g. ``openai.gpt-oss-120b-1:0``), offered in the region.
    :param reward_prompt: built-in judge prompt name, or an AI Registry reward prompt name or ARN.""",
    )

    spec_name = "RLAIFTrainerSpec"
    trainer_fields = _RLAIF_FIELDS
    template_fields = template_fields_for(_RLAIF_FIELDS)
    template_fields_renderers = {field: "json" for field in _RLAIF_FIELDS}

    def __init__(
        self,
        *,
        model: Any,
        role: str,
        training_dataset: str,
        reward_model_id: str,
        reward_prompt: str | None = None,
        training_type: str | None = None,
        model_package_group: str | None = None,
        validation_dataset: str | None = None,
        s3_output_path: str | None = None,
        hyperparameters: Any = None,
        mlflow_resource_arn: str | None = None,
        mlflow_experiment_name: str | None = None,
        mlflow_run_name: str | None = None,
        accept_eula: Any = None,
        networking: Any = None,
        kms_key_id: str | None = None,
        tags: Any = None,
        stopping_condition: Any = None,
        sequence_length: str | None = None,
        **kwargs: Any,
    ) -> None:
        values = dict(locals())
        super().__init__(**kwargs)
        self._set_fields(values)

    def build_spec(self) -> RLAIFTrainerSpec:
        """Validate the rendered arguments into an :class:`RLAIFTrainerSpec`."""
        return super().build_spec()  # type: ignore[return-value]


class RLVRTrainerOperator(FineTuneOperator):
    __doc__ = _doc(
        "Reinforcement learning from verifiable rewards with the SDK's ``RLVRTrainer``.",
        COMPUTE_PARAM,
        """
    :param custom_reward_function: Lambda ARN, or AI Registry reward function evaluator name or ARN; a
        Lambda ARN is registered as an evaluator once (with ``role``) and reused.
    :param skip_reward_validation: skip the SDK's check that invokes the reward function on a few
        training records before submitting.""",
    )

    spec_name = "RLVRTrainerSpec"
    trainer_fields = _RLVR_FIELDS
    template_fields = template_fields_for(_RLVR_FIELDS)
    template_fields_renderers = {field: "json" for field in _RLVR_FIELDS}

    def __init__(
        self,
        *,
        model: Any,
        role: str,
        training_dataset: str,
        custom_reward_function: str | None = None,
        skip_reward_validation: Any = None,
        training_type: str | None = None,
        model_package_group: str | None = None,
        validation_dataset: str | None = None,
        s3_output_path: str | None = None,
        hyperparameters: Any = None,
        mlflow_resource_arn: str | None = None,
        mlflow_experiment_name: str | None = None,
        mlflow_run_name: str | None = None,
        accept_eula: Any = None,
        networking: Any = None,
        kms_key_id: str | None = None,
        tags: Any = None,
        stopping_condition: Any = None,
        sequence_length: str | None = None,
        compute: Any = None,
        **kwargs: Any,
    ) -> None:
        values = dict(locals())
        super().__init__(**kwargs)
        self._set_fields(values)

    def build_spec(self) -> RLVRTrainerSpec:
        """Validate the rendered arguments into an :class:`RLVRTrainerSpec`."""
        return super().build_spec()  # type: ignore[return-value]

"""Fine-tuning operators: ``SFTTrainerOperator``, ``DPOTrainerOperator``, ``RLAIFTrainerOperator``,
``RLVRTrainerOperator``, each running one SDK fine-tuning job per task instance.

Every argument is templated and JSON-native; the arguments are validated before anything is created,
and the hyperparameter overrides are checked against the model's recipe before the job is submitted.
The arguments every trainer takes are
:class:`~airflow_provider_smtrain.operators.finetune_base.FineTuneOperator`'s (``compute``:
:class:`~airflow_provider_smtrain.operators.finetune_base.ServerfulFineTuneOperator`'s); each operator
here adds only its own. See ``docs/finetune.md`` and the example DAG ``example_dags/example_finetune.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_smtrain.operators.finetune_base import FineTuneOperator, ServerfulFineTuneOperator

if TYPE_CHECKING:
    from airflow_provider_smtrain.specs import (
        DPOTrainerSpec,
        RLAIFTrainerSpec,
        RLVRTrainerSpec,
        SFTTrainerSpec,
    )

__all__ = ["DPOTrainerOperator", "RLAIFTrainerOperator", "RLVRTrainerOperator", "SFTTrainerOperator"]


class SFTTrainerOperator(ServerfulFineTuneOperator):
    """
    Supervised fine-tuning of a foundation model with the SDK's ``SFTTrainer`` (serverless by default).

    Takes the arguments of :class:`~airflow_provider_smtrain.operators.finetune_base.FineTuneOperator`
    and ``compute`` (:class:`~airflow_provider_smtrain.operators.finetune_base.ServerfulFineTuneOperator`).
    """

    spec_name = "SFTTrainerSpec"

    def build_spec(self) -> SFTTrainerSpec:
        """Validate the rendered arguments into an :class:`SFTTrainerSpec`."""
        return super().build_spec()  # type: ignore[return-value]


class DPOTrainerOperator(ServerfulFineTuneOperator):
    """
    Direct preference optimization with the SDK's ``DPOTrainer``: training records need ``prompt``,
    ``chosen`` and ``rejected``.

    Takes the arguments of :class:`~airflow_provider_smtrain.operators.finetune_base.FineTuneOperator`
    and ``compute`` (:class:`~airflow_provider_smtrain.operators.finetune_base.ServerfulFineTuneOperator`).
    """

    spec_name = "DPOTrainerSpec"

    def build_spec(self) -> DPOTrainerSpec:
        """Validate the rendered arguments into a :class:`DPOTrainerSpec`."""
        return super().build_spec()  # type: ignore[return-value]


class RLAIFTrainerOperator(FineTuneOperator):
    """
    Reinforcement learning from AI feedback with the SDK's ``RLAIFTrainer`` (serverless).

    Takes the arguments of :class:`~airflow_provider_smtrain.operators.finetune_base.FineTuneOperator` and:

    :param reward_model_id: the judge model id (e.g. ``openai.gpt-oss-120b-1:0``), offered in the region.
    :param reward_prompt: built-in judge prompt name, or an AI Registry reward prompt name or ARN.
    """

    spec_name = "RLAIFTrainerSpec"
    template_fields: Sequence[str] = (*FineTuneOperator.template_fields, "reward_model_id", "reward_prompt")
    template_fields_renderers: ClassVar[dict[str, str]] = {
        **FineTuneOperator.template_fields_renderers,
        **dict.fromkeys(("reward_model_id", "reward_prompt"), "json"),
    }

    def __init__(self, *, reward_model_id: str, reward_prompt: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.reward_model_id = reward_model_id
        self.reward_prompt = reward_prompt

    def build_spec(self) -> RLAIFTrainerSpec:
        """Validate the rendered arguments into an :class:`RLAIFTrainerSpec`."""
        return super().build_spec()  # type: ignore[return-value]


class RLVRTrainerOperator(ServerfulFineTuneOperator):
    """
    Reinforcement learning from verifiable rewards with the SDK's ``RLVRTrainer``.

    Takes the arguments of :class:`~airflow_provider_smtrain.operators.finetune_base.FineTuneOperator`,
    ``compute`` (:class:`~airflow_provider_smtrain.operators.finetune_base.ServerfulFineTuneOperator`) and:

    :param custom_reward_function: Lambda ARN, or AI Registry reward function evaluator name or ARN; a
        Lambda ARN is registered as an evaluator once (with ``role``) and reused.
    :param skip_reward_validation: skip the SDK's check that invokes the reward function on a few
        training records before submitting.
    """

    spec_name = "RLVRTrainerSpec"
    template_fields: Sequence[str] = (
        *ServerfulFineTuneOperator.template_fields,
        "custom_reward_function",
        "skip_reward_validation",
    )
    template_fields_renderers: ClassVar[dict[str, str]] = {
        **ServerfulFineTuneOperator.template_fields_renderers,
        **dict.fromkeys(("custom_reward_function", "skip_reward_validation"), "json"),
    }

    def __init__(
        self, *, custom_reward_function: str | None = None, skip_reward_validation: Any = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.custom_reward_function = custom_reward_function
        self.skip_reward_validation = skip_reward_validation

    def build_spec(self) -> RLVRTrainerSpec:
        """Validate the rendered arguments into an :class:`RLVRTrainerSpec`."""
        return super().build_spec()  # type: ignore[return-value]

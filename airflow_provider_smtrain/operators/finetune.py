"""Fine-tuning operators: ``SFTTrainerOperator``, ``DPOTrainerOperator``, ``RLAIFTrainerOperator``,
``RLVRTrainerOperator``, each running one SDK fine-tuning job per task instance.

Every argument is templated and JSON-native; the arguments are validated before anything is created,
and the hyperparameter overrides are checked against the model's recipe before the job is submitted.
Each operator declares only what sets it apart (its spec and its own arguments, :attr:`own_arguments`);
its keyword-only constructor, template fields and ``:param:`` docs are derived from them and the
common arguments (:data:`~airflow_provider_smtrain.operators.finetune_base.COMMON_ARGUMENTS`).
See ``docs/finetune.md`` and the example DAG ``example_dags/example_finetune.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_provider_smtrain.operators.declared_arguments import Argument
from airflow_provider_smtrain.operators.finetune_base import COMPUTE, FineTuneOperator

if TYPE_CHECKING:
    from airflow_provider_smtrain.specs import (
        DPOTrainerSpec,
        RLAIFTrainerSpec,
        RLVRTrainerSpec,
        SFTTrainerSpec,
    )

__all__ = ["DPOTrainerOperator", "RLAIFTrainerOperator", "RLVRTrainerOperator", "SFTTrainerOperator"]


class SFTTrainerOperator(FineTuneOperator):
    """Supervised fine-tuning of a foundation model with the SDK's ``SFTTrainer`` (serverless by default)."""

    spec_name = "SFTTrainerSpec"
    own_arguments = (COMPUTE,)

    def build_spec(self) -> SFTTrainerSpec:
        """Validate the rendered arguments into an :class:`SFTTrainerSpec`."""
        return super().build_spec()  # type: ignore[return-value]


class DPOTrainerOperator(FineTuneOperator):
    """
    Direct preference optimization with the SDK's ``DPOTrainer``: training records need ``prompt``,
    ``chosen`` and ``rejected``.
    """

    spec_name = "DPOTrainerSpec"
    own_arguments = (COMPUTE,)

    def build_spec(self) -> DPOTrainerSpec:
        """Validate the rendered arguments into a :class:`DPOTrainerSpec`."""
        return super().build_spec()  # type: ignore[return-value]


class RLAIFTrainerOperator(FineTuneOperator):
    """Reinforcement learning from AI feedback with the SDK's ``RLAIFTrainer`` (serverless)."""

    spec_name = "RLAIFTrainerSpec"
    own_arguments = (
        Argument(
            "reward_model_id",
            "the judge model id (e.g. ``openai.gpt-oss-120b-1:0``), offered in the region.",
            "str",
            required=True,
        ),
        Argument(
            "reward_prompt",
            "built-in judge prompt name, or an AI Registry reward prompt name or ARN.",
            "str | None",
        ),
    )

    def build_spec(self) -> RLAIFTrainerSpec:
        """Validate the rendered arguments into an :class:`RLAIFTrainerSpec`."""
        return super().build_spec()  # type: ignore[return-value]


class RLVRTrainerOperator(FineTuneOperator):
    """Reinforcement learning from verifiable rewards with the SDK's ``RLVRTrainer``."""

    spec_name = "RLVRTrainerSpec"
    own_arguments = (
        COMPUTE,
        Argument(
            "custom_reward_function",
            "Lambda ARN, or AI Registry reward function evaluator name or ARN; a\n"
            "        Lambda ARN is registered as an evaluator once (with ``role``) and reused.",
            "str | None",
        ),
        Argument(
            "skip_reward_validation",
            "skip the SDK's check that invokes the reward function on a few\n"
            "        training records before submitting.",
        ),
    )

    def build_spec(self) -> RLVRTrainerSpec:
        """Validate the rendered arguments into an :class:`RLVRTrainerSpec`."""
        return super().build_spec()  # type: ignore[return-value]

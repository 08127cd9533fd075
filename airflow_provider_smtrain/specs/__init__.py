"""Validated, JSON-native input specs for the smtrain operators.

Importing this package is cheap and safe at DAG parse time: it never imports the SageMaker SDK, boto3 or
pandas, and makes no AWS calls. Operators build a spec at the start of ``execute()`` with
:func:`parse_spec`, which raises :class:`SpecValidationError` naming every bad field.
"""

from __future__ import annotations

from airflow_provider_smtrain.specs.base import SpecModel
from airflow_provider_smtrain.specs.common import MetricDefinitionSpec
from airflow_provider_smtrain.specs.errors import SpecValidationError, parse_spec
from airflow_provider_smtrain.specs.finetune import (
    DPOTrainerSpec,
    FineTuneStoppingSpec,
    RLAIFTrainerSpec,
    RLVRTrainerSpec,
    SFTTrainerSpec,
    VpcConfigSpec,
)
from airflow_provider_smtrain.specs.multi_turn_rl import MultiTurnRLTrainerSpec
from airflow_provider_smtrain.specs.registry import DataSetSpec, EvaluatorSpec
from airflow_provider_smtrain.specs.training import (
    CheckpointSpec,
    ComputeSpec,
    InputChannelSpec,
    ModelTrainerSpec,
    MpiSpec,
    NetworkingSpec,
    SmpSpec,
    SourceCodeSpec,
    StoppingConditionSpec,
    TorchrunSpec,
)
from airflow_provider_smtrain.specs.tuning import (
    CategoricalRangeSpec,
    CompletionCriteriaSpec,
    ContinuousRangeSpec,
    HyperbandStrategySpec,
    HyperparameterTunerSpec,
    IntegerRangeSpec,
    WarmStartSpec,
)

__all__ = [
    "CategoricalRangeSpec",
    "CheckpointSpec",
    "CompletionCriteriaSpec",
    "ComputeSpec",
    "ContinuousRangeSpec",
    "DPOTrainerSpec",
    "DataSetSpec",
    "EvaluatorSpec",
    "FineTuneStoppingSpec",
    "HyperbandStrategySpec",
    "HyperparameterTunerSpec",
    "InputChannelSpec",
    "IntegerRangeSpec",
    "MetricDefinitionSpec",
    "ModelTrainerSpec",
    "MpiSpec",
    "MultiTurnRLTrainerSpec",
    "NetworkingSpec",
    "RLAIFTrainerSpec",
    "RLVRTrainerSpec",
    "SFTTrainerSpec",
    "SmpSpec",
    "SourceCodeSpec",
    "SpecModel",
    "SpecValidationError",
    "StoppingConditionSpec",
    "TorchrunSpec",
    "VpcConfigSpec",
    "WarmStartSpec",
    "parse_spec",
]

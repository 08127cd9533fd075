"""Validated, JSON-native input specs for the smtrain operators.

Importing this package is cheap and safe at DAG parse time: it never imports the SageMaker SDK, boto3 or
pandas, and makes no AWS calls. Operators build a spec at the start of ``execute()`` with
:func:`parse_spec`, which raises :class:`SpecValidationError` naming every bad field.

The names resolve lazily (PEP 562): ``from airflow_provider_smtrain.specs import ModelTrainerSpec`` builds
the training models only, not the tuning ones (pydantic builds each model's validator at import).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_provider_smtrain.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from airflow_provider_smtrain.specs.base import SpecModel
    from airflow_provider_smtrain.specs.common import MetricDefinitionSpec
    from airflow_provider_smtrain.specs.deploy import ApproveModelPackageSpec, DeployModelSpec
    from airflow_provider_smtrain.specs.errors import SpecValidationError, parse_spec
    from airflow_provider_smtrain.specs.evaluation import (
        BenchMarkEvaluatorSpec,
        CustomScorerEvaluatorSpec,
        LLMAsJudgeEvaluatorSpec,
        MultiTurnRLEvaluatorSpec,
    )
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

# public name -> submodule that defines it
_EXPORTS = {
    "SpecModel": "base",
    "MetricDefinitionSpec": "common",
    "ApproveModelPackageSpec": "deploy",
    "DeployModelSpec": "deploy",
    "SpecValidationError": "errors",
    "parse_spec": "errors",
    "BenchMarkEvaluatorSpec": "evaluation",
    "CustomScorerEvaluatorSpec": "evaluation",
    "LLMAsJudgeEvaluatorSpec": "evaluation",
    "MultiTurnRLEvaluatorSpec": "evaluation",
    "DPOTrainerSpec": "finetune",
    "FineTuneStoppingSpec": "finetune",
    "RLAIFTrainerSpec": "finetune",
    "RLVRTrainerSpec": "finetune",
    "SFTTrainerSpec": "finetune",
    "VpcConfigSpec": "finetune",
    "MultiTurnRLTrainerSpec": "multi_turn_rl",
    "DataSetSpec": "registry",
    "EvaluatorSpec": "registry",
    "CheckpointSpec": "training",
    "ComputeSpec": "training",
    "InputChannelSpec": "training",
    "ModelTrainerSpec": "training",
    "MpiSpec": "training",
    "NetworkingSpec": "training",
    "SmpSpec": "training",
    "SourceCodeSpec": "training",
    "StoppingConditionSpec": "training",
    "TorchrunSpec": "training",
    "CategoricalRangeSpec": "tuning",
    "CompletionCriteriaSpec": "tuning",
    "ContinuousRangeSpec": "tuning",
    "HyperbandStrategySpec": "tuning",
    "HyperparameterTunerSpec": "tuning",
    "IntegerRangeSpec": "tuning",
    "WarmStartSpec": "tuning",
}

__all__ = [
    "ApproveModelPackageSpec",
    "BenchMarkEvaluatorSpec",
    "CategoricalRangeSpec",
    "CheckpointSpec",
    "CompletionCriteriaSpec",
    "ComputeSpec",
    "ContinuousRangeSpec",
    "CustomScorerEvaluatorSpec",
    "DPOTrainerSpec",
    "DataSetSpec",
    "DeployModelSpec",
    "EvaluatorSpec",
    "FineTuneStoppingSpec",
    "HyperbandStrategySpec",
    "HyperparameterTunerSpec",
    "InputChannelSpec",
    "IntegerRangeSpec",
    "LLMAsJudgeEvaluatorSpec",
    "MetricDefinitionSpec",
    "ModelTrainerSpec",
    "MpiSpec",
    "MultiTurnRLEvaluatorSpec",
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

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())

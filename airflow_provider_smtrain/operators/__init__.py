"""
Operators: what a DAG author writes.

``from airflow_provider_smtrain.operators import ModelTrainerOperator`` and the submodule path
(``operators.model_trainer``) give the same class; the package resolves its names lazily (PEP 562), so
importing one operator never imports the others.

How to keep imports cheap (parse-time cost): a DAG file that imports an operator must pay at most
~50 ms over ``import airflow.sdk`` (``benchmarks/import_cost.py``; ``tests/test_import_cost.py`` fails
when a module under ``operators/``, ``sensors/``, ``triggers/``, ``links/`` or ``specs/`` loads one of
its forbidden packages). When you add a module here:

* import at module level only what the class statement needs: ``airflow.sdk``, ``jobs.*``, ``links``,
  ``operators.base`` / ``operators.sdk_operator``, ``config``, ``exceptions``;
* import ``sagemaker.*``, ``specs`` (pydantic models), ``triggers``, ``hooks`` (boto3, botocore) and
  ``airflow.providers.amazon`` inside the method that uses them (``execute``, ``build_spec``, ...);
  for annotations put them under ``if TYPE_CHECKING:``;
* never derive from the amazon provider's ``AwsBaseOperator``/``AwsBaseSensor`` or ``BaseAwsLink``: their
  modules import boto3 (~70 ms). Derive from :class:`~airflow_provider_smtrain.operators.sdk_operator.SageMakerSdkOperator`
  (or ``SageMakerJobOperator``), whose ``hook`` is built on first use;
* add the new public class to ``_EXPORTS`` below.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_provider_smtrain.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from airflow_provider_smtrain.operators.deploy import DeployModelOperator
    from airflow_provider_smtrain.operators.evaluation import (
        BenchMarkEvaluatorOperator,
        CustomScorerEvaluatorOperator,
        LLMAsJudgeEvaluatorOperator,
        MultiTurnRLEvaluatorOperator,
    )
    from airflow_provider_smtrain.operators.finetune import (
        DPOTrainerOperator,
        RLAIFTrainerOperator,
        RLVRTrainerOperator,
        SFTTrainerOperator,
    )
    from airflow_provider_smtrain.operators.gate import EvaluationGateBranchOperator, EvaluationGateOperator
    from airflow_provider_smtrain.operators.model_package import ApproveModelPackageOperator
    from airflow_provider_smtrain.operators.model_trainer import ModelTrainerOperator
    from airflow_provider_smtrain.operators.multi_turn_rl import MultiTurnRLTrainerOperator
    from airflow_provider_smtrain.operators.registry import CreateDataSetOperator, CreateEvaluatorOperator
    from airflow_provider_smtrain.operators.tuner import HyperparameterTunerOperator

# public name -> submodule that defines it
_EXPORTS = {
    "ApproveModelPackageOperator": "model_package",
    "DeployModelOperator": "deploy",
    "CreateDataSetOperator": "registry",
    "CreateEvaluatorOperator": "registry",
    "BenchMarkEvaluatorOperator": "evaluation",
    "CustomScorerEvaluatorOperator": "evaluation",
    "LLMAsJudgeEvaluatorOperator": "evaluation",
    "MultiTurnRLEvaluatorOperator": "evaluation",
    "DPOTrainerOperator": "finetune",
    "EvaluationGateBranchOperator": "gate",
    "EvaluationGateOperator": "gate",
    "RLAIFTrainerOperator": "finetune",
    "RLVRTrainerOperator": "finetune",
    "SFTTrainerOperator": "finetune",
    "ModelTrainerOperator": "model_trainer",
    "MultiTurnRLTrainerOperator": "multi_turn_rl",
    "HyperparameterTunerOperator": "tuner",
}

__all__ = [
    "BenchMarkEvaluatorOperator",
    "ApproveModelPackageOperator",
    "CreateDataSetOperator",
    "CreateEvaluatorOperator",
    "CustomScorerEvaluatorOperator",
    "DPOTrainerOperator",
    "EvaluationGateBranchOperator",
    "EvaluationGateOperator",
    "DeployModelOperator",
    "HyperparameterTunerOperator",
    "LLMAsJudgeEvaluatorOperator",
    "ModelTrainerOperator",
    "MultiTurnRLEvaluatorOperator",
    "MultiTurnRLTrainerOperator",
    "RLAIFTrainerOperator",
    "RLVRTrainerOperator",
    "SFTTrainerOperator",
]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())

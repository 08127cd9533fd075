"""The result of ``MultiTurnRLTrainerOperator``: the AgentRFT result plus the fine-tune result's model sections.

A multi-turn RL job is an AgentRFT job (``DescribeJob``), so its result is the kind's
(:func:`~airflow_provider_smtrain.jobs.outputs.agent_rft_result`), completed with the sections every
trainer operator returns (``technique``, ``training_type``, ``base_model``, ``model_package``,
``mlflow``; the same shapes as the fine-tune result), so that SFT, DPO, RLAIF, RLVR and MultiTurnRL
results are read the same way downstream. Documented in ``docs/outputs.md`` (MultiTurnRL result).
"""

from __future__ import annotations

from typing import Any

from airflow_provider_smtrain.jobs.outputs import (
    _base_model,
    _mlflow,
    _model_package,
    agent_rft_result,
    job_config_document,
)

#: The SDK's customization technique for multi-turn RL, and the only training type it runs.
TECHNIQUE = "MTRL"
TRAINING_TYPE = "LORA"


def _section(document: dict[str, Any], *path: str) -> dict[str, Any]:
    for key in path:
        value = document.get(key)
        document = value if isinstance(value, dict) else {}
    return document


def agent_environment(document: dict[str, Any]) -> dict[str, Any]:
    """
    The agent environment the job trained against, from its ``AgentConfig``.

    :param document: the job's ``JobConfigDocument``.
    """
    agent = _section(document, "AgentConfig")
    runtime = _section(agent, "BedrockAgentCoreConfig")
    if runtime:
        return {
            "type": "bedrock_agentcore",
            "arn": runtime.get("AgentRuntimeArn"),
            "qualifier": runtime.get("Qualifier"),
        }
    function = _section(agent, "CustomAgentLambdaConfig")
    if function:
        return {"type": "lambda", "arn": function.get("LambdaArn"), "qualifier": None}
    return {"type": None, "arn": None, "qualifier": None}


def multi_turn_rl_result(
    describe: dict[str, Any], region: str, *, base_model_id: str | None = None
) -> dict[str, Any]:
    """
    The result of a multi-turn RL (AgentRFT) job, built from ``DescribeJob``.

    :param describe: the DescribeJob response.
    :param region: the AWS region of the job.
    :param base_model_id: the task's hub model id, used when the job's base model ARN does not name one.
    """
    document = job_config_document(describe)
    training = _section(document, "TrainingConfig")
    packages = _section(document, "ModelPackageConfig")
    service = _section(document, "ServiceOutput")
    details = _section(service, "MlflowDetails")
    mlflow_config = dict(_section(training, "MlflowConfig"))
    mlflow_config.setdefault("MlflowExperimentName", details.get("ExperimentName"))
    mlflow_config.setdefault("MlflowRunName", details.get("RunName"))
    mlflow_ids = {"MlflowExperimentId": details.get("ExperimentId"), "MlflowRunId": details.get("RunId")}
    return {
        **agent_rft_result(describe, region),
        "technique": TECHNIQUE,
        "training_type": TRAINING_TYPE,
        "base_model": _base_model(training.get("BaseModelArn"), base_model_id),
        "source_model_package_arn": packages.get("InputModelPackageArn"),
        "model_package": _model_package(
            service.get("OutputModelPackageArn"), packages.get("OutputModelPackageGroupArn"), region
        ),
        "checkpoint_model_package_group_arn": packages.get("IntermediateCheckpointModelPackageGroupArn"),
        "mlflow": _mlflow(mlflow_config, mlflow_ids, region),
        "agent_env": agent_environment(document),
    }

"""The documented, JSON-native results operators return (and push to XCom).

Every value is a str, int, float, bool, None, list or dict of those. Datetimes are ISO 8601 strings.
No describe dumps: only what a downstream task needs. The schema is documented in ``docs/outputs.md``;
which builder serves which kind is listed in :mod:`~airflow_provider_smtrain.jobs.catalog`.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from airflow_provider_smtrain.jobs.console import (
    AGENT_RFT_LOG_GROUP,
    console_url,
    log_console_url,
    mlflow_console_url,
    model_package_console_url,
)
from airflow_provider_smtrain.jobs.hub_content import digest_of, parse_keywords
from airflow_provider_smtrain.jobs.kinds import AGENT_RFT, HUB_CONTENT, TRAINING, TUNING


def iso(value: Any) -> str | None:
    """
    A datetime (or an already formatted string) as an ISO 8601 string.

    :param value: a ``datetime``, a string or ``None``.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _number(value: Any) -> int | float | None:
    if value is None:
        return None
    number = float(value)
    return int(number) if number.is_integer() and not isinstance(value, float) else number


def final_metrics(describe: dict[str, Any]) -> dict[str, float]:
    """
    A training job's final metrics, ``{name: value}``, from its ``FinalMetricDataList``.

    :param describe: a DescribeTrainingJob response.
    """
    return {
        item["MetricName"]: float(item["Value"])
        for item in describe.get("FinalMetricDataList") or []
        if "MetricName" in item and "Value" in item
    }


def training_result(describe: dict[str, Any], region: str) -> dict[str, Any]:
    """
    The result of a training job, built from ``DescribeTrainingJob``.

    :param describe: the DescribeTrainingJob response.
    :param region: the AWS region of the job.
    """
    name = describe["TrainingJobName"]
    return {
        "kind": TRAINING.name,
        "job_name": name,
        "job_arn": describe.get("TrainingJobArn"),
        "status": describe.get("TrainingJobStatus"),
        "secondary_status": describe.get("SecondaryStatus"),
        "failure_reason": TRAINING.failure_reason(describe),
        "model_artifacts": (describe.get("ModelArtifacts") or {}).get("S3ModelArtifacts"),
        "output_path": (describe.get("OutputDataConfig") or {}).get("S3OutputPath"),
        "final_metrics": final_metrics(describe),
        "billable_seconds": _number(describe.get("BillableTimeInSeconds")),
        "training_seconds": _number(describe.get("TrainingTimeInSeconds")),
        "creation_time": iso(describe.get("CreationTime")),
        "training_start_time": iso(describe.get("TrainingStartTime")),
        "training_end_time": iso(describe.get("TrainingEndTime")),
        "last_modified_time": iso(describe.get("LastModifiedTime")),
        "console_url": console_url(TRAINING, name, region),
        "logs_url": log_console_url(name, region),
    }


def _counters(raw: dict[str, Any] | None) -> dict[str, int]:
    return {key: int(value) for key, value in (raw or {}).items()}


def _best_training_job(best: dict[str, Any] | None) -> dict[str, Any] | None:
    if not best:
        return None
    objective = best.get("FinalHyperParameterTuningJobObjectiveMetric") or {}
    value = objective.get("Value")
    return {
        "job_name": best.get("TrainingJobName"),
        "job_arn": best.get("TrainingJobArn"),
        "status": best.get("TrainingJobStatus"),
        "hyperparameters": {str(k): str(v) for k, v in (best.get("TunedHyperParameters") or {}).items()},
        "objective_metric": objective.get("MetricName"),
        "objective_value": None if value is None else float(value),
        "training_start_time": iso(best.get("TrainingStartTime")),
        "training_end_time": iso(best.get("TrainingEndTime")),
    }


def tuning_result(describe: dict[str, Any], region: str) -> dict[str, Any]:
    """
    The result of a hyperparameter tuning job, built from ``DescribeHyperParameterTuningJob``.

    :param describe: the DescribeHyperParameterTuningJob response.
    :param region: the AWS region of the job.
    """
    name = describe["HyperParameterTuningJobName"]
    config = describe.get("HyperParameterTuningJobConfig") or {}
    objective = config.get("HyperParameterTuningJobObjective") or {}
    return {
        "kind": TUNING.name,
        "job_name": name,
        "job_arn": describe.get("HyperParameterTuningJobArn"),
        "status": describe.get("HyperParameterTuningJobStatus"),
        "failure_reason": TUNING.failure_reason(describe),
        "strategy": config.get("Strategy"),
        "objective": {"metric_name": objective.get("MetricName"), "type": objective.get("Type")},
        "best_training_job": _best_training_job(describe.get("BestTrainingJob")),
        "training_job_counters": _counters(describe.get("TrainingJobStatusCounters")),
        "objective_counters": _counters(describe.get("ObjectiveStatusCounters")),
        "creation_time": iso(describe.get("CreationTime")),
        "end_time": iso(describe.get("HyperParameterTuningEndTime")),
        "last_modified_time": iso(describe.get("LastModifiedTime")),
        "console_url": console_url(TUNING, name, region),
    }



_BASE_MODEL = re.compile(r":hub-content/(?P<hub>[^/]+)/Model/(?P<id>[^/]+)(?:/(?P<version>[^/]+))?$")


def _base_model(arn: str | None, fallback_id: str | None) -> dict[str, Any]:
    match = _BASE_MODEL.search(arn or "")
    return {
        "id": match["id"] if match else fallback_id,
        "version": match["version"] if match else None,
        "hub": match["hub"] if match else None,
        "arn": arn,
    }


def _model_package(arn: str | None, group_arn: str | None, region: str) -> dict[str, Any]:
    version = arn.rsplit("/", 1)[-1] if arn else None
    return {
        "arn": arn,
        "group_arn": group_arn,
        "version": int(version) if version and version.isdigit() else version,
        "console_url": model_package_console_url(arn, region) if arn else None,
    }


def _mlflow(config: dict[str, Any], details: dict[str, Any], region: str) -> dict[str, Any]:
    arn = config.get("MlflowResourceArn")
    experiment_id, run_id = details.get("MlflowExperimentId"), details.get("MlflowRunId")
    path = None
    if experiment_id:
        path = f"#/experiments/{experiment_id}" + (f"/runs/{run_id}" if run_id else "")
    return {
        "resource_arn": arn,
        "experiment_name": config.get("MlflowExperimentName"),
        "run_name": config.get("MlflowRunName"),
        "experiment_id": experiment_id,
        "run_id": run_id,
        "console_url": mlflow_console_url(arn, region) if arn else None,
        "ui_path": path,
    }


def finetune_result(
    describe: dict[str, Any],
    region: str,
    *,
    base_model_id: str | None = None,
    training_type: str | None = None,
    technique: str | None = None,
) -> dict[str, Any]:
    """
    The result of a fine-tuning job (SFT, DPO, RLAIF, RLVR): the training result plus what was tuned and where
    the fine-tuned model went, built from ``DescribeTrainingJob``.

    :param describe: the DescribeTrainingJob response.
    :param region: the AWS region of the job.
    :param base_model_id: the task's ``model`` when the job does not name it (serverful path, model package).
    :param training_type: the task's training type when the job does not say (serverful path).
    :param technique: the trainer's technique (``SFT``...) when the job does not say (serverful path).
    """
    serverless = describe.get("ServerlessJobConfig") or {}
    package_config = describe.get("ModelPackageConfig") or {}
    if serverless:
        training_type = serverless.get("Peft") or "FULL"
    return {
        **training_result(describe, region),
        "serverless": bool(serverless),
        "technique": serverless.get("CustomizationTechnique") or technique,
        "training_type": training_type,
        "base_model": _base_model(serverless.get("BaseModelArn"), base_model_id),
        "source_model_package_arn": package_config.get("SourceModelPackageArn"),
        "model_package": _model_package(
            describe.get("OutputModelPackageArn"), package_config.get("ModelPackageGroupArn"), region
        ),
        "model_package_arn": describe.get("OutputModelPackageArn"),
        "mlflow": _mlflow(describe.get("MlflowConfig") or {}, describe.get("MlflowDetails") or {}, region),
        "billable_token_count": _number(describe.get("BillableTokenCount")),
    }


def _json_object(text: Any) -> dict[str, Any]:
    try:
        value = json.loads(text) if isinstance(text, str) else text
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _registry_reference(document: dict[str, Any]) -> tuple[str | None, str | None]:
    """What a hub content document points at, and its evaluator type (datasets have none)."""
    if "DatasetS3Bucket" in document:
        return f"s3://{document['DatasetS3Bucket']}/{document.get('DatasetS3Prefix', '')}", None
    content = _json_object(document.get("JsonContent"))
    return content.get("Reference") or None, content.get("EvaluatorType") or None


def hub_content_result(describe: dict[str, Any], region: str) -> dict[str, Any]:
    """
    The result of an AI Registry dataset or evaluator version, built from ``DescribeHubContent``.

    :param describe: the DescribeHubContent response.
    :param region: the AWS region of the hub.
    """
    arn = describe["HubContentArn"]
    reference, evaluator_type = _registry_reference(_json_object(describe.get("HubContentDocument")))
    return {
        "kind": HUB_CONTENT.name,
        "job_name": arn,
        "arn": arn,
        "hub_name": describe.get("HubName"),
        "name": describe.get("HubContentName"),
        "type": describe.get("HubContentType"),
        "version": describe.get("HubContentVersion"),
        "status": describe.get("HubContentStatus"),
        "failure_reason": HUB_CONTENT.failure_reason(describe),
        "reference": reference,
        "evaluator_type": evaluator_type,
        "method": parse_keywords(describe.get("HubContentSearchKeywords")).get("method"),
        "content_sha256": digest_of(describe),
        "creation_time": iso(describe.get("CreationTime")),
        "last_modified_time": iso(describe.get("LastModifiedTime")),
        "console_url": console_url(HUB_CONTENT, arn, region),
    }


def job_config_document(describe: dict[str, Any]) -> dict[str, Any]:
    """
    The ``JobConfigDocument`` of a DescribeJob response as a dict (``{}`` when absent or not a JSON object).

    :param describe: a DescribeJob response.
    """
    raw = describe.get("JobConfigDocument")
    try:
        document = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}


def _section(document: dict[str, Any], *path: str) -> dict[str, Any]:
    for key in path:
        value = document.get(key)
        document = value if isinstance(value, dict) else {}
    return document


def _ints(raw: dict[str, Any], names: dict[str, str]) -> dict[str, int] | None:
    values = {name: int(raw[key]) for name, key in names.items() if raw.get(key) is not None}
    return values or None


def agent_rft_result(describe: dict[str, Any], region: str) -> dict[str, Any]:
    """
    The result of an AgentRFT job (``MultiTurnRLTrainer``), built from ``DescribeJob``.

    SageMaker reports a job's outputs in the ``ServiceOutput`` section of its ``JobConfigDocument``.

    :param describe: the DescribeJob response.
    :param region: the AWS region of the job.
    """
    name = describe["JobName"]
    document = job_config_document(describe)
    service_output = _section(document, "ServiceOutput")
    mlflow = _section(document, "TrainingConfig", "MlflowConfig")
    details = _section(service_output, "MlflowDetails")
    return {
        "kind": AGENT_RFT.name,
        "job_name": name,
        "job_arn": describe.get("JobArn"),
        "job_category": describe.get("JobCategory"),
        "status": describe.get("JobStatus"),
        "secondary_status": describe.get("SecondaryStatus"),
        "failure_reason": AGENT_RFT.failure_reason(describe),
        "base_model_arn": _section(document, "TrainingConfig").get("BaseModelArn"),
        "output_path": _section(document, "OutputDataConfig").get("S3OutputPath"),
        "model_package_group_arn": _section(document, "ModelPackageConfig").get("OutputModelPackageGroupArn"),
        "model_package_arn": service_output.get("OutputModelPackageArn"),
        "mlflow_resource_arn": mlflow.get("MlflowResourceArn"),
        "mlflow_experiment_name": mlflow.get("MlflowExperimentName") or details.get("ExperimentName"),
        "mlflow_run_name": mlflow.get("MlflowRunName") or details.get("RunName"),
        "mlflow_experiment_id": details.get("ExperimentId"),
        "mlflow_run_id": details.get("RunId"),
        "progress": _ints(
            _section(service_output, "ProgressInfo"),
            {"current_step": "CurrentStep", "max_steps": "MaxSteps", "current_epoch": "CurrentEpoch",
             "max_epoch": "MaxEpoch", "steps_per_epoch": "StepsPerEpoch"},
        ),
        "billable_tokens": _ints(
            _section(service_output, "BillableTokenUsage"),
            {"train": "TrainTokenCount", "prefill": "PrefillTokenCount", "sample": "SampleTokenCount"},
        ),
        "creation_time": iso(describe.get("CreationTime")),
        "end_time": iso(describe.get("EndTime")),
        "last_modified_time": iso(describe.get("LastModifiedTime")),
        "console_url": console_url(AGENT_RFT, name, region),
        "logs_url": log_console_url(name, region, AGENT_RFT_LOG_GROUP),
    }

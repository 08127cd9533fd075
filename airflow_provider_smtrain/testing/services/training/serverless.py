"""
Serverless (model customization) training jobs: what SageMaker stores, writes and registers for them.

A ``CreateTrainingJob`` with ``ServerlessJobConfig`` (the fine-tuning trainers' path) has no
``AlgorithmSpecification`` or ``ResourceConfig``; it carries ``MlflowConfig`` and ``ModelPackageConfig``.
SageMaker echoes those three in ``DescribeTrainingJob``, adds ``MlflowDetails``, and on success writes the
fine-tuned weights under the output path and registers them as a new model package version in the
requested group (``OutputModelPackageArn``). Server process only; called with the simulator lock held.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Any

from moto.sagemaker import models as sm_models

from airflow_provider_smtrain.testing import moto_support
from airflow_provider_smtrain.testing.engine.timeline import to_datetime
from airflow_provider_smtrain.testing.services.training.model import TrainingSim, tar_gz

log = logging.getLogger(__name__)

#: Request members of a serverless job, and the moto job attribute each is stored in (echoed by describe).
REQUEST_MEMBERS = {
    "ServerlessJobConfig": "serverless_job_config",
    "MlflowConfig": "mlflow_config",
    "ModelPackageConfig": "model_package_config",
}


@dataclass
class ServerlessRequest:
    """
    The serverless members of one CreateTrainingJob request.

    :param serverless_job_config: ``ServerlessJobConfig``.
    :param mlflow_config: ``MlflowConfig``, if given.
    :param model_package_config: ``ModelPackageConfig``, if given.
    """

    serverless_job_config: dict[str, Any]
    mlflow_config: dict[str, Any] | None
    model_package_config: dict[str, Any] | None

    @property
    def group_arn(self) -> str | None:
        """The model package group the fine-tuned model is registered in, if any."""
        return (self.model_package_config or {}).get("ModelPackageGroupArn") or None


def group_name(group_arn: str) -> str:
    """
    The name part of a model package group ARN.

    :param group_arn: ``arn:aws:sagemaker:<region>:<account>:model-package-group/<name>``.
    """
    return group_arn.rsplit("model-package-group/", 1)[-1]


def base_model(base_model_arn: str) -> tuple[str, str | None]:
    """
    Hub content name and version of a ``ServerlessJobConfig.BaseModelArn``.

    :param base_model_arn: ``arn:aws:sagemaker:<region>:aws:hub-content/<hub>/Model/<name>[/<version>]``.
    """
    tail = base_model_arn.split("/Model/", 1)[-1].split("/")
    return tail[0], (tail[1] if len(tail) > 1 else None)


def check_request(backend: Any, request: ServerlessRequest) -> str | None:
    """
    SageMaker's objection to a serverless request (a ValidationException message), or ``None``.

    :param backend: The moto SageMaker backend of the request's account and region.
    :param request: The serverless members.
    """
    if not request.serverless_job_config.get("BaseModelArn"):
        return "ServerlessJobConfig.BaseModelArn is required"
    group_arn = request.group_arn
    if group_arn and group_name(group_arn) not in backend.model_package_groups:
        return f"Model package group {group_arn} does not exist."
    return None


def attach(sim: TrainingSim, request: ServerlessRequest) -> None:
    """
    Store a new job's serverless members on its moto object (so DescribeTrainingJob echoes them).

    :param sim: The new job.
    :param request: What the request carried.
    """
    sim.serverless = request
    job = sim.job
    job.serverless_job_config = request.serverless_job_config
    job.mlflow_config = request.mlflow_config
    job.model_package_config = request.model_package_config
    if request.mlflow_config:
        job.mlflow_details = {
            "MlflowExperimentId": str(_number(sim.name, "experiment") % 10**6),
            "MlflowRunId": hashlib.sha256(f"run|{sim.name}".encode()).hexdigest()[:32],
        }
    job.output_model_package_arn = None
    job.billable_token_count = None


def checkpoint_uri(sim: TrainingSim) -> str:
    """
    Where the fine-tuned (merged) weights of a serverless job are written.

    :param sim: The job.
    """
    return f"{_job_prefix(sim)}/checkpoints/hf_merged/"


def on_completed(sim: TrainingSim, at: float) -> None:
    """
    A serverless job just completed: write its weights and manifest, register the model package version.

    Idempotent (a job forced ``Completed`` again registers no second version).

    :param sim: The job.
    :param at: Simulated completion time.
    """
    request: ServerlessRequest = sim.serverless
    job = sim.job
    if job.billable_token_count is None:
        job.billable_token_count = 10_000 + _number(sim.name, "tokens") % 990_000
    if sim.serverless_done:
        return
    sim.serverless_done = True
    _write_outputs(sim, request, at)
    if request.group_arn:
        try:
            job.output_model_package_arn = register_version(sim, request, at)
        except Exception:
            log.exception("could not register a model package version for %s", sim.name)


def register_version(sim: TrainingSim, request: ServerlessRequest, at: float) -> str:
    """
    Create the model package version a completed serverless job registers; return its ARN.

    :param sim: The job.
    :param request: Its serverless members.
    :param at: Simulated creation time of the version.
    """
    backend = sm_models.sagemaker_backends[sim.account_id][sim.region]
    name, version = base_model(request.serverless_job_config["BaseModelArn"])
    container: dict[str, Any] = {
        "ModelDataSource": {
            "S3DataSource": {"S3Uri": checkpoint_uri(sim), "S3DataType": "S3Prefix", "CompressionType": "None"}
        },
        "BaseModel": {"HubContentName": name, **({"HubContentVersion": version} if version else {})},
    }
    source = (request.model_package_config or {}).get("SourceModelPackageArn")
    arn: str = backend.create_model_package(
        model_package_name=None,
        model_package_group_name=group_name(request.group_arn or ""),
        model_package_description=f"Fine-tuned by training job {sim.name}",
        inference_specification={"Containers": [container]},
        validation_specification=None,
        source_algorithm_specification=None,
        certify_for_marketplace=False,
        tags=None,
        model_approval_status="PendingManualApproval",
        metadata_properties=None,
        model_metrics=None,
        client_token=None,
        customer_metadata_properties={
            "TrainingJobArn": sim.job.arn,
            "CustomizationTechnique": str(request.serverless_job_config.get("CustomizationTechnique", "")),
            **({"SourceModelPackageArn": source} if source else {}),
        },
        drift_check_baselines=None,
        domain=None,
        task=None,
        sample_payload_url=None,
        additional_inference_specifications=None,
    )
    backend.model_packages[arn].creation_time = to_datetime(at)
    return arn


def _write_outputs(sim: TrainingSim, request: ServerlessRequest, at: float) -> None:
    config = request.serverless_job_config
    name, version = base_model(config["BaseModelArn"])
    prefix = _job_prefix(sim)
    files = {
        f"{prefix}/checkpoints/hf_merged/config.json": {"base_model": name, "base_model_version": version},
        f"{prefix}/checkpoints/hf_merged/model.safetensors": None,
    }
    if config.get("Peft"):
        rank = sim.hyperparameters.get("lora_rank") or sim.hyperparameters.get("lora_r") or "8"
        files[f"{prefix}/checkpoints/adapter/adapter_config.json"] = {
            "peft_type": config["Peft"],
            "base_model_name_or_path": name,
            "r": rank,
        }
        files[f"{prefix}/checkpoints/adapter/adapter_model.safetensors"] = None
    manifest = {
        "job_name": sim.name,
        "checkpoint_s3_bucket": checkpoint_uri(sim),
        "base_model": name,
        "customization_technique": config.get("CustomizationTechnique"),
        "peft": config.get("Peft"),
    }
    archive = tar_gz({"manifest.json": json.dumps(manifest, indent=2).encode()}, at)
    try:
        for uri, content in files.items():
            body = b"LocalSageMaker placeholder weights" if content is None else json.dumps(content).encode()
            moto_support.s3_put(uri, body)
        moto_support.s3_put(f"{prefix}/output/output.tar.gz", archive)
    except Exception:
        log.exception("could not write the outputs of %s", sim.name)


def _job_prefix(sim: TrainingSim) -> str:
    output = str((sim.job.output_data_config or {}).get("S3OutputPath") or "").rstrip("/")
    return f"{output}/{sim.name}"


def _number(name: str, salt: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{salt}|{name}".encode()).digest()[:8], "big")

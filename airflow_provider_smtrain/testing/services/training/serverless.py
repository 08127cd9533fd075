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

from airflow_provider_smtrain.testing import moto_support
from airflow_provider_smtrain.testing.services import model_packages
from airflow_provider_smtrain.testing.services.mlflow import tracking
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


def check_request(backend: Any, request: ServerlessRequest) -> str | None:
    """
    SageMaker's objection to a serverless request (a ValidationException message), or ``None``.

    :param backend: The moto SageMaker backend of the request's account and region.
    :param request: The serverless members.
    """
    if not request.serverless_job_config.get("BaseModelArn"):
        return "ServerlessJobConfig.BaseModelArn is required"
    group_arn = request.group_arn
    if group_arn and model_packages.group_name(group_arn) not in backend.model_package_groups:
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
    if request.mlflow_config:  # a run in the MLflow app when it is one of this server's
        job.mlflow_details = tracking.record_job_run(request.mlflow_config, sim.name) or {
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
            job.output_model_package_arn = _register(sim, request, at)
        except Exception:
            log.exception("could not register a model package version for %s", sim.name)


def _register(sim: TrainingSim, request: ServerlessRequest, at: float) -> str:
    source = (request.model_package_config or {}).get("SourceModelPackageArn")
    return model_packages.register_version(
        sim.account_id,
        sim.region,
        request.group_arn or "",
        base_model_arn=request.serverless_job_config["BaseModelArn"],
        weights_uri=checkpoint_uri(sim),
        description=f"Fine-tuned by training job {sim.name}",
        metadata={
            "TrainingJobArn": sim.job.arn,
            "CustomizationTechnique": str(request.serverless_job_config.get("CustomizationTechnique", "")),
            **({"SourceModelPackageArn": source} if source else {}),
        },
        at=at,
    )


def _write_outputs(sim: TrainingSim, request: ServerlessRequest, at: float) -> None:
    config = request.serverless_job_config
    name, version = model_packages.base_model(config["BaseModelArn"])
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

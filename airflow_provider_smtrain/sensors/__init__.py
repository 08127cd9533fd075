"""
Deferrable sensors for SageMaker jobs.

``from airflow_provider_smtrain.sensors import TrainingJobSensor`` resolves lazily (PEP 562); the same
parse-time rules as for operators apply (see :mod:`airflow_provider_smtrain.operators`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_provider_smtrain.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from airflow_provider_smtrain.sensors.endpoint import EndpointSensor
    from airflow_provider_smtrain.sensors.jobs import (
        AgentRFTJobSensor,
        SageMakerJobSensor,
        TrainingJobSensor,
        TuningJobSensor,
    )
    from airflow_provider_smtrain.sensors.pipelines import PipelineExecutionSensor
    from airflow_provider_smtrain.sensors.registry import HubContentSensor

# public name -> submodule that defines it
_EXPORTS = {
    "AgentRFTJobSensor": "jobs",
    "EndpointSensor": "endpoint",
    "HubContentSensor": "registry",
    "PipelineExecutionSensor": "pipelines",
    "SageMakerJobSensor": "jobs",
    "TrainingJobSensor": "jobs",
    "TuningJobSensor": "jobs",
}

__all__ = [
    "AgentRFTJobSensor",
    "EndpointSensor",
    "HubContentSensor",
    "PipelineExecutionSensor",
    "SageMakerJobSensor",
    "TrainingJobSensor",
    "TuningJobSensor",
]

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())

"""
Deferrable sensors for SageMaker jobs.

``from airflow_provider_smtrain.sensors import TrainingJobSensor`` resolves lazily (PEP 562); the same
parse-time rules as for operators apply (see :mod:`airflow_provider_smtrain.operators`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

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


def __getattr__(name: str) -> Any:
    """Import the submodule that defines ``name`` on first access (PEP 562)."""
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])

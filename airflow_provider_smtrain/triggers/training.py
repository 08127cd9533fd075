"""Kept importable: triggers that earlier builds serialized into the metadata DB name ``triggers.training.TrainingJobTrigger``.

The class lives in :mod:`airflow_provider_smtrain.triggers.jobs`.
"""

from __future__ import annotations

from airflow_provider_smtrain.triggers.jobs import TrainingJobTrigger

__all__ = ["TrainingJobTrigger"]

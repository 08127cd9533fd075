"""
Former home of the real-Airflow harness; it now lives in :mod:`airflow_provider_smtrain.testing.airflow`.

Kept so that ``from airflow_provider_smtrain.testing.airflow_stack import AirflowStack, AirflowStackPool``
keeps working; new code imports from :mod:`airflow_provider_smtrain.testing.airflow`.
"""

from __future__ import annotations

from airflow_provider_smtrain.testing.airflow import (
    COMPONENTS,
    AirflowStack,
    AirflowStackError,
    AirflowStackPool,
)

__all__ = [
    "COMPONENTS",
    "AirflowStack",
    "AirflowStackError",
    "AirflowStackPool",
]

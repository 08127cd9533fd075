"""Kept so that existing imports work: the provider's settings live in :mod:`airflow_provider_smtrain.config`."""

from __future__ import annotations

from airflow_provider_smtrain.config import default_deferrable

__all__ = ["default_deferrable"]

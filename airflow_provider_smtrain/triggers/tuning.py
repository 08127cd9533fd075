"""Trigger that waits for a SageMaker hyperparameter tuning job."""

from __future__ import annotations

from typing import ClassVar

from airflow_provider_smtrain.triggers.base import SageMakerJobTrigger


class TuningJobTrigger(SageMakerJobTrigger):
    """
    Wait for one SageMaker hyperparameter tuning job (``DescribeHyperParameterTuningJob``; stopped with ``StopHyperParameterTuningJob``).

    Takes the keyword arguments of :class:`~airflow_provider_smtrain.triggers.base.SageMakerJobTrigger`;
    ``kind`` may be omitted and, if given, must be ``"tuning"``.

    """

    fixed_kind: ClassVar[str | None] = "tuning"

"""Trigger that waits for a SageMaker training job."""

from __future__ import annotations

from typing import ClassVar

from airflow_provider_smtrain.triggers.base import SageMakerJobTrigger


class TrainingJobTrigger(SageMakerJobTrigger):
    """
    Wait for one SageMaker training job (``DescribeTrainingJob``; stopped with ``StopTrainingJob``).

    Takes the keyword arguments of :class:`~airflow_provider_smtrain.triggers.base.SageMakerJobTrigger`;
    ``kind`` may be omitted and, if given, must be ``"training"``.

    """

    fixed_kind: ClassVar[str | None] = "training"

"""Trigger that waits for a SageMaker training job."""

from __future__ import annotations

from typing import Any, ClassVar

from airflow_provider_smtrain.triggers.base import SageMakerJobTrigger


class TrainingJobTrigger(SageMakerJobTrigger):
    """
    Wait for one SageMaker training job (``DescribeTrainingJob``; stopped with ``StopTrainingJob``).

    Takes the keyword arguments of :class:`~airflow_provider_smtrain.triggers.base.SageMakerJobTrigger`;
    ``kind`` may be omitted and, if given, must be ``"training"``.

    :param job_name: name of the training job.
    :param kwargs: the other arguments of ``SageMakerJobTrigger``.
    """

    fixed_kind: ClassVar[str | None] = "training"

    def __init__(self, *, job_name: str, **kwargs: Any) -> None:
        super().__init__(job_name=job_name, **kwargs)

"""Trigger that waits for a SageMaker hyperparameter tuning job."""

from __future__ import annotations

from typing import Any, ClassVar

from airflow_provider_smtrain.triggers.base import SageMakerJobTrigger


class TuningJobTrigger(SageMakerJobTrigger):
    """
    Wait for one SageMaker hyperparameter tuning job (``DescribeHyperParameterTuningJob``; stopped with ``StopHyperParameterTuningJob``).

    Takes the keyword arguments of :class:`~airflow_provider_smtrain.triggers.base.SageMakerJobTrigger`;
    ``kind`` may be omitted and, if given, must be ``"tuning"``.

    :param job_name: name of the tuning job.
    :param kwargs: the other arguments of ``SageMakerJobTrigger``.
    """

    fixed_kind: ClassVar[str | None] = "tuning"

    def __init__(self, *, job_name: str, **kwargs: Any) -> None:
        super().__init__(job_name=job_name, **kwargs)

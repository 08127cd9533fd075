"""Triggers that wait for one SageMaker job each, one class per job kind of the catalog.

Each class only fixes the kind; polling, backoff, deadlines and stopping are
:class:`~airflow_provider_smtrain.triggers.base.SageMakerJobTrigger`'s. Which class serves which kind is
listed in :mod:`airflow_provider_smtrain.jobs.catalog`.
"""

from __future__ import annotations

from typing import ClassVar

from airflow_provider_smtrain.triggers.base import SageMakerJobTrigger

__all__ = ["AgentRFTJobTrigger", "TrainingJobTrigger", "TuningJobTrigger"]


class TrainingJobTrigger(SageMakerJobTrigger):
    """
    Wait for one SageMaker training job (``DescribeTrainingJob``; stopped with ``StopTrainingJob``).

    Takes the keyword arguments of :class:`~airflow_provider_smtrain.triggers.base.SageMakerJobTrigger`;
    ``kind`` may be omitted and, if given, must be ``"training"``.
    """

    fixed_kind: ClassVar[str | None] = "training"


class TuningJobTrigger(SageMakerJobTrigger):
    """
    Wait for one SageMaker hyperparameter tuning job (``DescribeHyperParameterTuningJob``; stopped with ``StopHyperParameterTuningJob``).

    Takes the keyword arguments of :class:`~airflow_provider_smtrain.triggers.base.SageMakerJobTrigger`;
    ``kind`` may be omitted and, if given, must be ``"tuning"``.
    """

    fixed_kind: ClassVar[str | None] = "tuning"


class AgentRFTJobTrigger(SageMakerJobTrigger):
    """
    Wait for one SageMaker AgentRFT job (``DescribeJob``; stopped with ``StopJob``; ``JobCategory=AgentRFT``).

    The jobs ``MultiTurnRLTrainer`` starts with ``CreateJob``. Takes the keyword arguments of
    :class:`~airflow_provider_smtrain.triggers.base.SageMakerJobTrigger`; ``kind`` may be omitted and, if
    given, must be ``"agent_rft"``.
    """

    fixed_kind: ClassVar[str | None] = "agent_rft"

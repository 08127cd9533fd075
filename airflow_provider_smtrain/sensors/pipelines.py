"""Deferrable sensor for a SageMaker pipeline execution started elsewhere (an evaluation, any pipeline)."""

from __future__ import annotations

from airflow_provider_smtrain.jobs.kinds import PIPELINE_EXECUTION
from airflow_provider_smtrain.sensors.jobs import SageMakerJobSensor

__all__ = ["PipelineExecutionSensor"]


class PipelineExecutionSensor(SageMakerJobSensor):
    """
    Wait for a SageMaker pipeline execution (``job_name`` is its ARN) until it succeeds; never stops it.

    ``Failed`` and ``CompletedWithFailures`` fail the sensor with the execution's failure reason,
    ``Stopped`` too. Returns the evaluation result of the execution's describe (``docs/outputs.md``).
    Deferred, it waits through :class:`~airflow_provider_smtrain.triggers.pipelines.PipelineExecutionTrigger`:
    sensors waiting for executions through one connection share one poller in the triggerer, whatever
    their pipelines (one ``Search`` per poll, see ``docs/operators.md``). Takes the arguments of
    :class:`~airflow_provider_smtrain.sensors.jobs.SageMakerJobSensor`.
    """

    job_kind = PIPELINE_EXECUTION

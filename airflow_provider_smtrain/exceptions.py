"""Exceptions the provider raises to fail a task with a clear reason."""

from __future__ import annotations

from airflow.sdk.exceptions import AirflowException


class SageMakerJobFailed(AirflowException):
    """The remote SageMaker job ended in failure, was stopped, or outlived the task's deadline."""


class SageMakerSubmitError(AirflowException):
    """The SageMaker SDK did not start the job (including errors the SDK swallows)."""


class TriggerEventError(AirflowException):
    """A trigger event that the operator cannot accept (malformed, or an error while waiting)."""

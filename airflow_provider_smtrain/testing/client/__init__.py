"""
What tests and users import: :class:`LocalSageMaker` (standard library only at import time).

``LocalSageMaker`` = :class:`~.launcher.Launcher` (start, stop, attach the server process) +
:class:`~.control.Control` (settings, rules, faults, request log, jobs, clock) +
:class:`~.aws.AwsHelpers` (environment, Airflow connections, boto3 clients, S3/IAM helpers).
"""

from __future__ import annotations

from airflow_provider_smtrain.testing.client.aws import AwsHelpers
from airflow_provider_smtrain.testing.client.control import DEFAULT_DROP_SECONDS, ClockControl, Control
from airflow_provider_smtrain.testing.client.launcher import (
    DEFAULT_ACCESS_KEY_ID,
    DEFAULT_SECRET_ACCESS_KEY,
    LocalSageMakerError,
)


class LocalSageMaker(Control, AwsHelpers):
    """
    A moto-based SageMaker (plus S3, IAM, STS, CloudWatch Logs, ...) server in its own process.

    Use as a context manager: ``with LocalSageMaker() as sm: ...`` starts
    ``python -m airflow_provider_smtrain.testing serve`` on a free loopback port, waits until it is
    healthy, and stops it on exit (and at interpreter exit). Point every AWS client at
    :attr:`endpoint_url`. See :class:`~.launcher.Launcher` for the constructor's parameters.
    """


__all__ = [
    "DEFAULT_ACCESS_KEY_ID",
    "DEFAULT_DROP_SECONDS",
    "DEFAULT_SECRET_ACCESS_KEY",
    "ClockControl",
    "LocalSageMaker",
    "LocalSageMakerError",
]

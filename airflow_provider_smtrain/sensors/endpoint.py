"""A deferrable sensor for a real-time endpoint created or updated elsewhere (another DAG, the SDK, a console)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow_provider_smtrain.jobs.kinds import ENDPOINT
from airflow_provider_smtrain.operators.aws_task import aws_template_fields
from airflow_provider_smtrain.sensors.jobs import SageMakerJobSensor


class EndpointSensor(SageMakerJobSensor):
    """
    Wait until an endpoint is ``InService``; return the endpoint result (``docs/outputs.md``).

    Fails with SageMaker's reason when the endpoint is ``Failed``. Never changes the endpoint.

    :param endpoint_name: the endpoint's name.
    """

    job_kind = ENDPOINT
    template_fields: Sequence[str] = aws_template_fields("endpoint_name", "job_name")

    def __init__(self, *, endpoint_name: str, **kwargs: Any) -> None:
        super().__init__(job_name=endpoint_name, **kwargs)
        self.endpoint_name = endpoint_name

    def execute(self, context: Any) -> Any:
        """Check the rendered endpoint name once, then defer (or poke in the worker)."""
        self.job_name = self.endpoint_name
        return super().execute(context)

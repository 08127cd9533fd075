"""The trigger that waits for a real-time endpoint's deployment to be ``InService``."""

from __future__ import annotations

from typing import ClassVar

from airflow_provider_smtrain.triggers.base import SageMakerJobTrigger

__all__ = ["EndpointTrigger"]


class EndpointTrigger(SageMakerJobTrigger):
    """
    Wait for one endpoint (``DescribeEndpoint``) to be ``InService`` after a create or an update.

    A deployment cannot be stopped: on the deadline or a kill the trigger leaves the endpoint alone.
    ``Failed`` ends the wait with a ``failed`` event carrying SageMaker's ``FailureReason``.

    Takes the keyword arguments of :class:`~airflow_provider_smtrain.triggers.base.SageMakerJobTrigger`;
    ``kind`` may be omitted and, if given, must be ``"endpoint"``.
    """

    fixed_kind: ClassVar[str | None] = "endpoint"

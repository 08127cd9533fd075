"""The trigger that waits for an AI Registry import (a dataset or evaluator version) to become available."""

from __future__ import annotations

from typing import ClassVar

from airflow_provider_smtrain.triggers.base import SageMakerJobTrigger

__all__ = ["HubContentTrigger"]


class HubContentTrigger(SageMakerJobTrigger):
    """
    Wait for one AI Registry hub content version (``DescribeHubContent``) to be ``Available``.

    An import cannot be stopped: on the deadline or a kill the trigger leaves it alone. ``job_name``
    is the hub content ARN (with its version, or without it for the latest version); ``ImportFailed``
    ends the wait with a ``failed`` event carrying SageMaker's ``FailureReason``.

    Takes the keyword arguments of :class:`~airflow_provider_smtrain.triggers.base.SageMakerJobTrigger`;
    ``kind`` may be omitted and, if given, must be ``"hub_content"``.
    """

    fixed_kind: ClassVar[str | None] = "hub_content"

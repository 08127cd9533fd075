"""A deferrable sensor for AI Registry content registered elsewhere (another DAG, a notebook, the SDK)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.utils.mixins import aws_template_fields

from airflow_provider_smtrain.jobs.kinds import HUB_CONTENT
from airflow_provider_smtrain.sensors.jobs import SageMakerJobSensor

if TYPE_CHECKING:
    from airflow.sdk import Context

#: Accepted spellings of the content type -> ``HubContentType``.
CONTENT_TYPES = {"dataset": "DataSet", "evaluator": "JsonDoc", "jsondoc": "JsonDoc"}


class HubContentSensor(SageMakerJobSensor):
    """
    Wait until an AI Registry dataset or evaluator is ``Available``; return the AI Registry result.

    Fails with SageMaker's reason when the version's import failed. Without ``hub_content_version`` the
    latest version is watched. The hub is the connection's account's AI Registry hub (as the SDK names it).

    :param hub_content_name: the dataset or evaluator name.
    :param hub_content_type: ``DataSet`` (default) or ``Evaluator`` (stored as ``JsonDoc``), any casing.
    :param hub_content_version: the version (``1.0.0``); None watches the latest.
    """

    job_kind = HUB_CONTENT
    template_fields: Sequence[str] = aws_template_fields(
        "hub_content_name", "hub_content_type", "hub_content_version"
    )

    def __init__(
        self,
        *,
        hub_content_name: str,
        hub_content_type: str = "DataSet",
        hub_content_version: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(job_name=hub_content_name, **kwargs)
        self.hub_content_name = hub_content_name
        self.hub_content_type = hub_content_type
        self.hub_content_version = hub_content_version
        self._resolved = False

    def _resolve(self) -> None:
        """Check the arguments, then name the content by its ARN (one STS call, no SageMaker call)."""
        import re

        if self._resolved:
            return
        problems = []
        if not re.fullmatch(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}", str(self.hub_content_name)):
            problems.append("hub_content_name: must be letters, digits and hyphens, at most 63 characters")
        content_type = CONTENT_TYPES.get(str(self.hub_content_type).lower())
        if content_type is None:
            problems.append("hub_content_type: must be 'DataSet' or 'Evaluator'")
        version = self.hub_content_version or None
        if version is not None and not re.fullmatch(r"\d{1,4}\.\d{1,4}\.\d{1,4}", str(version)):
            problems.append("hub_content_version: must be a version like 1.0.0")
        if problems:
            raise ValueError(f"Invalid arguments for {type(self).__name__}: " + "; ".join(problems))
        from airflow_provider_smtrain.sdk.ai_registry import registry_hub

        assert content_type is not None
        with self.hook.credentials_scope():
            hub = registry_hub(self.hook.client("sts"), self._region)
        self.job_name = hub.arn(content_type, str(self.hub_content_name), version)
        self._resolved = True

    def poke(self, context: Context) -> Any:
        """Read the content's status once."""
        self._resolve()
        return super().poke(context)

    def execute(self, context: Context) -> Any:
        """Resolve the content's ARN, check once, then defer (or poke in the worker)."""
        self._resolve()
        return super().execute(context)

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        """
        Resume after the trigger fired; return the content's result.

        :param context: the task context.
        :param event: the trigger event payload (its ``job_name`` is the content's ARN).
        """
        if isinstance(event, dict) and isinstance(event.get("job_name"), str):
            self.job_name, self._resolved = event["job_name"], True
        else:
            self._resolve()
        return super().execute_complete(context, event)

"""Hubs and hub content versions (the records), their ARNs and their statuses on the simulated clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from airflow_provider_smtrain.testing.engine.timeline import to_datetime


def hub_arn(account_id: str, region: str, hub_name: str) -> str:
    """
    ARN of a hub (``account_id`` ``aws`` for the public hub).

    :param account_id: Owner.
    :param region: Region.
    :param hub_name: Hub name.
    """
    return f"arn:aws:sagemaker:{region}:{account_id}:hub/{hub_name}"


def content_arn(
    account_id: str, region: str, hub_name: str, content_type: str, name: str, version: str
) -> str:
    """
    ARN of one hub content version, as the SDK parses it (``hub-content/<hub>/<type>/<name>/<version>``).

    :param account_id: Owner (``aws`` for the public hub).
    :param region: Region.
    :param hub_name: Hub name.
    :param content_type: ``Model``, ``DataSet``, ``JsonDoc`` ...
    :param name: Content name.
    :param version: Content version.
    """
    return f"arn:aws:sagemaker:{region}:{account_id}:hub-content/{hub_name}/{content_type}/{name}/{version}"


def version_key(version: str) -> tuple[int, ...]:
    """Sort key of a ``major.minor.patch`` version."""
    return tuple(int(part) for part in version.split("."))


@dataclass
class Hub:
    """A private hub."""

    account_id: str
    region: str
    name: str
    description: str
    display_name: str | None
    search_keywords: list[str]
    s3_output_path: str | None
    created: float

    @property
    def arn(self) -> str:
        """The hub's ARN."""
        return hub_arn(self.account_id, self.region, self.name)

    def describe(self) -> dict[str, Any]:
        """DescribeHub response."""
        out: dict[str, Any] = {
            "HubName": self.name,
            "HubArn": self.arn,
            "HubDescription": self.description,
            "HubSearchKeywords": list(self.search_keywords),
            "HubStatus": "InService",
            "CreationTime": to_datetime(self.created),
            "LastModifiedTime": to_datetime(self.created),
        }
        if self.display_name:
            out["HubDisplayName"] = self.display_name
        if self.s3_output_path:
            out["S3StorageConfig"] = {"S3OutputPath": self.s3_output_path}
        return out


@dataclass
class HubContent:
    """One version of one hub content."""

    hub: Hub
    content_type: str
    name: str
    version: str
    schema_version: str
    document: str
    created: float
    ready_at: float
    failure_reason: str | None = None
    display_name: str | None = None
    description: str | None = None
    markdown: str | None = None
    search_keywords: list[str] = field(default_factory=list)
    forced: tuple[str, str | None] | None = None

    @property
    def arn(self) -> str:
        """The version's ARN."""
        return content_arn(
            self.hub.account_id, self.hub.region, self.hub.name, self.content_type, self.name, self.version
        )

    def state(self, now: float) -> tuple[str, str | None, float]:
        """``(HubContentStatus, FailureReason, LastModifiedTime)`` at simulated time ``now``."""
        if self.forced is not None:
            return self.forced[0], self.forced[1], now
        if now < self.ready_at:
            return "Importing", None, self.created
        if self.failure_reason is not None:
            return "ImportFailed", self.failure_reason, self.ready_at
        return "Available", None, self.ready_at

    def summary(self, now: float) -> dict[str, Any]:
        """``HubContentInfo`` (ListHubContents / ListHubContentVersions)."""
        status, _, _ = self.state(now)
        out: dict[str, Any] = {
            "HubContentName": self.name,
            "HubContentArn": self.arn,
            "HubContentVersion": self.version,
            "HubContentType": self.content_type,
            "DocumentSchemaVersion": self.schema_version,
            "HubContentSearchKeywords": list(self.search_keywords),
            "HubContentStatus": status,
            "CreationTime": to_datetime(self.created),
        }
        for key, value in (
            ("HubContentDisplayName", self.display_name),
            ("HubContentDescription", self.description),
        ):
            if value:
                out[key] = value
        return out

    def describe(self, now: float) -> dict[str, Any]:
        """DescribeHubContent response."""
        status, reason, modified = self.state(now)
        out = self.summary(now)
        out.update(
            {
                "HubName": self.hub.name,
                "HubArn": self.hub.arn,
                "HubContentDocument": self.document,
                "HubContentDependencies": [],
                "LastModifiedTime": to_datetime(modified),
            }
        )
        if self.markdown:
            out["HubContentMarkdown"] = self.markdown
        if reason:
            out["FailureReason"] = reason
        return out

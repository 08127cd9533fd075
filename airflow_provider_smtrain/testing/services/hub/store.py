"""
Private hubs and their content (the AI Registry's DataSet and JsonDoc versions), on the simulated clock.

``ImportHubContent`` creates a version ``Importing``; it becomes ``Available`` ``hub_import_seconds``
later, or ``ImportFailed`` with a ``FailureReason`` when an outcome rule of kind ``hub_content``
matches the content name. ``force`` puts a version into any state now. Status is derived from the
clock when a version is read, so nothing runs in the background.
"""

from __future__ import annotations

import re
from typing import Any

from airflow_provider_smtrain.testing.engine.rules import (
    DEFAULT_FAILURE_REASON as RULE_DEFAULT_FAILURE_REASON,
)
from airflow_provider_smtrain.testing.engine.simulator import key_named, touched
from airflow_provider_smtrain.testing.services.hub.content import Hub, HubContent, version_key

KIND = "hub_content"
#: Statuses ``force`` accepts for hub content.
CONTENT_STATUSES = ("Importing", "Available", "ImportFailed", "Deleting", "DeleteFailed")
PRIVATE_CONTENT_TYPES = ("Model", "Notebook", "ModelReference", "DataSet", "JsonDoc")
VERSION_PATTERN = re.compile(r"^\d{1,4}\.\d{1,4}\.\d{1,4}$")
HUB_NAME_PATTERN = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
DEFAULT_FAILURE_REASON = "Import failed: simulated failure (LocalSageMaker rule)"


class HubStore:
    """
    Hubs and hub content of every account and region.

    :param simulator: The simulator (clock, rules, config); its lock must be held by callers.
    """

    name = KIND
    statuses = CONTENT_STATUSES

    def __init__(self, simulator: Any) -> None:
        self.simulator = simulator
        self.hubs: dict[tuple[str, str, str], Hub] = {}
        #: ``(account, region, hub, type, name)`` -> versions, oldest first.
        self.contents: dict[tuple[str, str, str, str, str], list[HubContent]] = {}

    def now(self) -> float:
        """The simulated time."""
        return float(self.simulator.clock.now())

    # ----------------------------------------------------------------------------- hubs

    def create_hub(self, account_id: str, region: str, params: dict[str, Any]) -> Hub:
        """
        CreateHub.

        :param account_id: Caller's account.
        :param region: Region.
        :param params: Request parameters.
        :raises ValueError: Invalid name; ``FileExistsError``: the hub exists.
        """
        name = str(params["HubName"])
        if not HUB_NAME_PATTERN.match(name):
            raise ValueError(
                f"1 validation error detected: Value '{name}' at 'hubName' failed to satisfy constraint: "
                "Member must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$"
            )
        key = (account_id, region, name)
        if key in self.hubs:
            raise FileExistsError(f"Hub {name} already exists.")
        storage = params.get("S3StorageConfig") or {}
        hub = Hub(
            account_id,
            region,
            name,
            str(params.get("HubDescription") or ""),
            params.get("HubDisplayName"),
            list(params.get("HubSearchKeywords") or []),
            storage.get("S3OutputPath"),
            self.now(),
        )
        self.hubs[key] = hub
        return hub

    def hub(self, account_id: str, region: str, name_or_arn: str) -> Hub:
        """
        A private hub by name or ARN.

        :raises LookupError: No such hub.
        """
        name = name_or_arn.rsplit("/", 1)[-1] if name_or_arn.startswith("arn:") else name_or_arn
        try:
            return self.hubs[(account_id, region, name)]
        except KeyError:
            raise LookupError(f"Hub {name} does not exist.") from None

    def list_hubs(self, account_id: str, region: str) -> list[Hub]:
        """The hubs of an account and region, by name."""
        return sorted(
            (h for (a, r, _), h in self.hubs.items() if (a, r) == (account_id, region)), key=lambda h: h.name
        )

    def delete_hub(self, account_id: str, region: str, name: str) -> None:
        """DeleteHub (and its content)."""
        hub = self.hub(account_id, region, name)
        del self.hubs[(account_id, region, hub.name)]
        for key in [k for k in self.contents if k[:3] == (account_id, region, hub.name)]:
            del self.contents[key]

    # ----------------------------------------------------------------------------- content

    def import_content(self, account_id: str, region: str, params: dict[str, Any]) -> HubContent:
        """
        ImportHubContent: a new version, ``Importing`` until ``hub_import_seconds`` have passed.

        :raises LookupError: No such hub; ``ValueError``: invalid input; ``FileExistsError``: version exists.
        """
        hub = self.hub(account_id, region, str(params["HubName"]))
        content_type = str(params["HubContentType"])
        name = str(params["HubContentName"])
        version = str(params.get("HubContentVersion") or "1.0.0")
        if content_type not in PRIVATE_CONTENT_TYPES:
            raise ValueError(f"Invalid HubContentType {content_type!r}; valid: {list(PRIVATE_CONTENT_TYPES)}")
        if not VERSION_PATTERN.match(version):
            raise ValueError(
                f"1 validation error detected: Value '{version}' at 'hubContentVersion' failed to satisfy "
                "constraint: Member must satisfy regular expression pattern: ^\\d{1,4}.\\d{1,4}.\\d{1,4}$"
            )
        versions = self.contents.setdefault((account_id, region, hub.name, content_type, name), [])
        if any(v.version == version for v in versions):
            raise FileExistsError(
                f"Hub content {name} of type {content_type} with version {version} already exists in hub {hub.name}."
            )
        if versions and version_key(version) < version_key(versions[-1].version):
            raise ValueError(
                f"Hub content version {version} must be greater than the latest version {versions[-1].version}."
            )
        now = self.now()
        seconds, reason = self.simulator.outcome(KIND, name, float(self.simulator.config.hub_import_seconds))
        if reason == RULE_DEFAULT_FAILURE_REASON:
            reason = DEFAULT_FAILURE_REASON
        content = HubContent(
            hub=hub,
            content_type=content_type,
            name=name,
            version=version,
            schema_version=str(params["DocumentSchemaVersion"]),
            document=str(params["HubContentDocument"]),
            created=now,
            ready_at=now + seconds,
            failure_reason=reason,
            display_name=params.get("HubContentDisplayName"),
            description=params.get("HubContentDescription"),
            markdown=params.get("HubContentMarkdown"),
            search_keywords=list(params.get("HubContentSearchKeywords") or []),
        )
        versions.append(content)
        self.simulator.ticks[KIND] += 1
        return content

    def versions(
        self, account_id: str, region: str, hub_name: str, content_type: str, name: str
    ) -> list[HubContent]:
        """Every version of one content, oldest first (empty if none)."""
        hub = self.hub(account_id, region, hub_name)
        return list(self.contents.get((account_id, region, hub.name, content_type, name), []))

    def content(
        self, account_id: str, region: str, hub_name: str, content_type: str, name: str, version: str | None
    ) -> HubContent:
        """
        One version (the latest when ``version`` is ``None``).

        :raises LookupError: No such hub, content or version.
        """
        versions = self.versions(account_id, region, hub_name, content_type, name)
        if version:
            versions = [v for v in versions if v.version == version]
        if not versions:
            suffix = f" with version {version}" if version else ""
            raise LookupError(
                f"Hub content {name} of type {content_type}{suffix} does not exist in hub {hub_name}."
            )
        return versions[-1]

    def latest(self, account_id: str, region: str, hub_name: str, content_type: str) -> list[HubContent]:
        """The latest version of every content of one type in a hub, by name."""
        hub = self.hub(account_id, region, hub_name)
        return [
            versions[-1]
            for (a, r, h, t, _), versions in sorted(self.contents.items())
            if (a, r, h, t) == (account_id, region, hub.name, content_type) and versions
        ]

    def delete_content(
        self, account_id: str, region: str, hub_name: str, content_type: str, name: str, version: str
    ) -> None:
        """DeleteHubContent (one version)."""
        target = self.content(account_id, region, hub_name, content_type, name, version)
        key = (account_id, region, target.hub.name, content_type, name)
        self.contents[key] = [v for v in self.contents[key] if v is not target]
        if not self.contents[key]:
            del self.contents[key]

    # ----------------------------------------------------------------------------- Service protocol

    def touch(self, key: tuple[str, str, str]) -> Any:
        """The latest version whose name is ``key[2]`` in any hub of the account and region, or ``None``."""
        found = [
            versions[-1]
            for (a, r, _, _, n), versions in self.contents.items()
            if (a, r, n) == key and versions
        ]
        return max(found, key=lambda c: c.created) if found else None

    def find(self, name: str, account_id: str | None, region: str | None) -> tuple[str, str, str] | None:
        """Key of the content called ``name`` (optionally in one account/region), or ``None``."""
        return key_named(((a, r, n) for a, r, _, _, n in self.contents), name, account_id, region)

    def force(
        self, key: tuple[str, str, str], status: str, secondary_status: str | None, failure_reason: str | None
    ) -> None:
        """Put the latest version of a content into ``status`` now (``ImportFailed`` gets a reason)."""
        content = touched(self, key, "hub content")
        if status.endswith("Failed") and not failure_reason:
            failure_reason = DEFAULT_FAILURE_REASON
        content.forced = (status, failure_reason if status.endswith("Failed") else None)

    def snapshot(self) -> list[dict[str, Any]]:
        """JSON-able view of every content version."""
        now = self.now()
        out = []
        for versions in self.contents.values():
            for v in versions:
                status, reason, _ = v.state(now)
                out.append(
                    {
                        "hub": v.hub.name,
                        "type": v.content_type,
                        "name": v.name,
                        "version": v.version,
                        "status": status,
                        "failure_reason": reason,
                        "arn": v.arn,
                    }
                )
        return out

    def clear(self) -> None:
        """Forget every hub and content."""
        self.hubs.clear()
        self.contents.clear()

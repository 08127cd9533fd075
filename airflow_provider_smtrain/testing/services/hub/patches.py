"""
The moto patches of the hub service (server process only; idempotent).

``SageMakerResponse``: ``CreateHub``, ``DescribeHub``, ``ListHubs``, ``DeleteHub``, ``ImportHubContent``,
``DescribeHubContent``, ``ListHubContents``, ``ListHubContentVersions``, ``DeleteHubContent`` (new);
``SageMakerPublicHub`` is answered from :mod:`.public_hub`, every other hub from :class:`.store.HubStore`.
``S3Backend.get_bucket``: the JumpStart bucket of a region is created (with its recipes) on first use.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, cast

from moto.core.responses import ActionResult, EmptyResult
from moto.s3.exceptions import MissingBucket
from moto.s3.models import S3Backend
from moto.sagemaker.exceptions import ResourceInUseException, ValidationError
from moto.sagemaker.responses import SageMakerResponse

from airflow_provider_smtrain.testing import moto_support
from airflow_provider_smtrain.testing.engine.simulator import active
from airflow_provider_smtrain.testing.services.hub import public_hub
from airflow_provider_smtrain.testing.services.hub.content import HubContent, version_key
from airflow_provider_smtrain.testing.services.hub.store import KIND, HubStore
from airflow_provider_smtrain.testing.services.responses import (
    IN_USE,
    INVALID,
    NOT_FOUND,
    created_between,
    install_actions,
    paged,
    params,
    raising_as,
    where,
)


def store() -> HubStore:
    """The active simulator's hub store."""
    return cast(HubStore, active().service(KIND))


def install() -> None:
    """Install the hub patches (once per process)."""
    install_actions(_operations())
    moto_support.patch_once(S3Backend, "get_bucket", _get_bucket)


def _operations() -> dict[str, Callable[[SageMakerResponse], Any]]:
    return {
        "create_hub": _create_hub,
        "describe_hub": _describe_hub,
        "list_hubs": _list_hubs,
        "delete_hub": _delete_hub,
        "import_hub_content": _import_hub_content,
        "describe_hub_content": _describe_hub_content,
        "list_hub_contents": _list_hub_contents,
        "list_hub_content_versions": _list_hub_content_versions,
        "delete_hub_content": _delete_hub_content,
    }


def _get_bucket(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def get_bucket(self: S3Backend, bucket_name: str) -> Any:
        try:
            return original(self, bucket_name)
        except MissingBucket:
            region = public_hub.JUMPSTART_BUCKETS.get(bucket_name)
            if region is None:
                raise
            return public_hub.seed(region)

    return get_bucket


def _create_hub(self: SageMakerResponse) -> ActionResult:
    account_id, region = where(self)
    given = params(
        self, "HubName", "HubDescription", "HubDisplayName", "HubSearchKeywords", "S3StorageConfig"
    )
    if public_hub.is_public(str(given.get("HubName", ""))):
        raise ResourceInUseException(message=f"Hub {given['HubName']} already exists.")
    with raising_as(IN_USE, INVALID):
        hub = store().create_hub(account_id, region, given)
    return ActionResult({"HubArn": hub.arn})


def _describe_hub(self: SageMakerResponse) -> ActionResult:
    account_id, region = where(self)
    name = str(self._get_param("HubName"))
    if public_hub.is_public(name):
        return ActionResult(public_hub.describe_hub(region))
    with raising_as(NOT_FOUND):
        return ActionResult(store().hub(account_id, region, name).describe())


def _list_hubs(self: SageMakerResponse) -> ActionResult:
    account_id, region = where(self)
    hubs = store().list_hubs(account_id, region)
    summaries = []
    for hub in hubs:
        described = hub.describe()
        described.pop("S3StorageConfig", None)
        summaries.append(described)
    return ActionResult(paged(self, summaries, "HubSummaries"))


def _delete_hub(self: SageMakerResponse) -> EmptyResult:
    account_id, region = where(self)
    with raising_as(NOT_FOUND):
        store().delete_hub(account_id, region, str(self._get_param("HubName")))
    return EmptyResult()


def _import_hub_content(self: SageMakerResponse) -> ActionResult:
    account_id, region = where(self)
    given = params(
        self,
        "HubName",
        "HubContentName",
        "HubContentVersion",
        "HubContentType",
        "DocumentSchemaVersion",
        "HubContentDisplayName",
        "HubContentDescription",
        "HubContentMarkdown",
        "HubContentDocument",
        "HubContentSearchKeywords",
    )
    if public_hub.is_public(str(given.get("HubName", ""))):
        raise ValidationError(message="Content cannot be imported into the SageMaker public hub.")
    with raising_as(NOT_FOUND, IN_USE, INVALID):
        content = store().import_content(account_id, region, given)
    return ActionResult({"HubArn": content.hub.arn, "HubContentArn": content.arn})


def _content_params(response: SageMakerResponse) -> tuple[str, str, str, str | None]:
    return (
        str(response._get_param("HubName")),
        str(response._get_param("HubContentType")),
        str(response._get_param("HubContentName")),
        response._get_param("HubContentVersion"),
    )


def _describe_hub_content(self: SageMakerResponse) -> ActionResult:
    account_id, region = where(self)
    hub_name, content_type, name, version = _content_params(self)
    with raising_as(NOT_FOUND):
        if public_hub.is_public(hub_name):
            return ActionResult(
                public_hub.describe(public_hub.find(region, content_type, name, version), region)
            )
        hubs = store()
        return ActionResult(
            hubs.content(account_id, region, hub_name, content_type, name, version).describe(hubs.now())
        )


def _list_hub_contents(self: SageMakerResponse) -> ActionResult:
    account_id, region = where(self)
    hub_name = str(self._get_param("HubName"))
    content_type = str(self._get_param("HubContentType"))
    with raising_as(NOT_FOUND):
        if public_hub.is_public(hub_name):
            summaries = (
                [public_hub.summary(m, region) for m in public_hub.models(region)]
                if content_type == "Model"
                else []
            )
        else:
            hubs = store()
            summaries = [
                c.summary(hubs.now()) for c in hubs.latest(account_id, region, hub_name, content_type)
            ]
    contains = self._get_param("NameContains")
    if contains:
        summaries = [s for s in summaries if contains in s["HubContentName"]]
    summaries = created_between(self, summaries)
    sort_by = self._get_param("SortBy") or "HubContentName"
    key = {
        "HubContentName": "HubContentName",
        "CreationTime": "CreationTime",
        "HubContentStatus": "HubContentStatus",
    }
    summaries.sort(
        key=lambda s: s[key.get(sort_by, "HubContentName")],
        reverse=self._get_param("SortOrder") == "Descending",
    )
    return ActionResult(paged(self, summaries, "HubContentSummaries"))


def _list_hub_content_versions(self: SageMakerResponse) -> ActionResult:
    account_id, region = where(self)
    hub_name, content_type, name, _ = _content_params(self)
    summaries: list[dict[str, Any]] = []
    if public_hub.is_public(hub_name):
        try:
            summaries = [public_hub.summary(public_hub.find(region, content_type, name, None), region)]
        except LookupError:  # no such content: no versions
            pass
    else:
        hubs = store()
        with raising_as(NOT_FOUND):  # no such hub
            versions: list[HubContent] = hubs.versions(account_id, region, hub_name, content_type, name)
        summaries = [v.summary(hubs.now()) for v in versions]
    minimum = self._get_param("MinVersion")
    if minimum:
        summaries = [s for s in summaries if version_key(s["HubContentVersion"]) >= version_key(minimum)]
    summaries = created_between(self, summaries)
    descending = self._get_param("SortOrder") == "Descending"
    summaries.sort(key=lambda s: version_key(s["HubContentVersion"]), reverse=descending)
    return ActionResult(paged(self, summaries, "HubContentSummaries"))


def _delete_hub_content(self: SageMakerResponse) -> EmptyResult:
    account_id, region = where(self)
    hub_name, content_type, name, version = _content_params(self)
    if public_hub.is_public(hub_name):
        raise ValidationError(message="Content of the SageMaker public hub cannot be deleted.")
    with raising_as(NOT_FOUND):
        store().delete_content(account_id, region, hub_name, content_type, name, str(version))
    return EmptyResult()

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
from moto.sagemaker.exceptions import ResourceInUseException, ResourceNotFound, ValidationError
from moto.sagemaker.responses import SageMakerResponse

from airflow_provider_smtrain.testing import moto_support
from airflow_provider_smtrain.testing.engine.simulator import active
from airflow_provider_smtrain.testing.engine.timeline import to_unix
from airflow_provider_smtrain.testing.services.hub import public_hub
from airflow_provider_smtrain.testing.services.hub.content import HubContent, version_key
from airflow_provider_smtrain.testing.services.hub.store import KIND, HubStore
from airflow_provider_smtrain.testing.services.paging import page


def store() -> HubStore:
    """The active simulator's hub store."""
    return cast(HubStore, active().service(KIND))


def install() -> None:
    """Install the hub patches (once per process)."""
    for operation, handler in _operations().items():
        moto_support.patch_once(SageMakerResponse, operation, _replacement(handler))
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


def _replacement(handler: Callable[[SageMakerResponse], Any]) -> Callable[[Any], Any]:
    def make(_original: Any) -> Callable[[SageMakerResponse], Any]:
        @functools.wraps(handler)
        def operation(self: SageMakerResponse) -> Any:
            return handler(self)

        return operation

    return make


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


def _where(response: SageMakerResponse) -> tuple[str, str]:
    backend = response.sagemaker_backend
    return backend.account_id, backend.region_name


def _params(response: SageMakerResponse, *names: str) -> dict[str, Any]:
    return {name: response._get_param(name) for name in names if response._get_param(name) is not None}


def _not_found(err: LookupError) -> ResourceNotFound:
    return ResourceNotFound(message=str(err.args[0]) if err.args else "Resource not found.")


def _create_hub(self: SageMakerResponse) -> ActionResult:
    account_id, region = _where(self)
    params = _params(
        self, "HubName", "HubDescription", "HubDisplayName", "HubSearchKeywords", "S3StorageConfig"
    )
    if public_hub.is_public(str(params.get("HubName", ""))):
        raise ResourceInUseException(message=f"Hub {params['HubName']} already exists.")
    try:
        hub = store().create_hub(account_id, region, params)
    except FileExistsError as err:
        raise ResourceInUseException(message=str(err)) from None
    except ValueError as err:
        raise ValidationError(message=str(err)) from None
    return ActionResult({"HubArn": hub.arn})


def _describe_hub(self: SageMakerResponse) -> ActionResult:
    account_id, region = _where(self)
    name = str(self._get_param("HubName"))
    if public_hub.is_public(name):
        return ActionResult(public_hub.describe_hub(region))
    try:
        return ActionResult(store().hub(account_id, region, name).describe())
    except LookupError as err:
        raise _not_found(err) from None


def _list_hubs(self: SageMakerResponse) -> ActionResult:
    account_id, region = _where(self)
    hubs = store().list_hubs(account_id, region)
    summaries = []
    for hub in hubs:
        described = hub.describe()
        described.pop("S3StorageConfig", None)
        summaries.append(described)
    return ActionResult(_page(self, summaries, "HubSummaries"))


def _delete_hub(self: SageMakerResponse) -> EmptyResult:
    account_id, region = _where(self)
    try:
        store().delete_hub(account_id, region, str(self._get_param("HubName")))
    except LookupError as err:
        raise _not_found(err) from None
    return EmptyResult()


def _import_hub_content(self: SageMakerResponse) -> ActionResult:
    account_id, region = _where(self)
    params = _params(
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
    if public_hub.is_public(str(params.get("HubName", ""))):
        raise ValidationError(message="Content cannot be imported into the SageMaker public hub.")
    try:
        content = store().import_content(account_id, region, params)
    except LookupError as err:
        raise _not_found(err) from None
    except FileExistsError as err:
        raise ResourceInUseException(message=str(err)) from None
    except ValueError as err:
        raise ValidationError(message=str(err)) from None
    return ActionResult({"HubArn": content.hub.arn, "HubContentArn": content.arn})


def _content_params(response: SageMakerResponse) -> tuple[str, str, str, str | None]:
    return (
        str(response._get_param("HubName")),
        str(response._get_param("HubContentType")),
        str(response._get_param("HubContentName")),
        response._get_param("HubContentVersion"),
    )


def _describe_hub_content(self: SageMakerResponse) -> ActionResult:
    account_id, region = _where(self)
    hub_name, content_type, name, version = _content_params(self)
    try:
        if public_hub.is_public(hub_name):
            return ActionResult(
                public_hub.describe(public_hub.find(region, content_type, name, version), region)
            )
        hubs = store()
        return ActionResult(
            hubs.content(account_id, region, hub_name, content_type, name, version).describe(hubs.now())
        )
    except LookupError as err:
        raise _not_found(err) from None


def _list_hub_contents(self: SageMakerResponse) -> ActionResult:
    account_id, region = _where(self)
    hub_name = str(self._get_param("HubName"))
    content_type = str(self._get_param("HubContentType"))
    try:
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
    except LookupError as err:
        raise _not_found(err) from None
    contains = self._get_param("NameContains")
    if contains:
        summaries = [s for s in summaries if contains in s["HubContentName"]]
    summaries = _time_filtered(self, summaries)
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
    return ActionResult(_page(self, summaries, "HubContentSummaries"))


def _list_hub_content_versions(self: SageMakerResponse) -> ActionResult:
    account_id, region = _where(self)
    hub_name, content_type, name, _ = _content_params(self)
    summaries: list[dict[str, Any]] = []
    if public_hub.is_public(hub_name):
        try:
            summaries = [public_hub.summary(public_hub.find(region, content_type, name, None), region)]
        except LookupError:  # no such content: no versions
            pass
    else:
        hubs = store()
        try:
            versions: list[HubContent] = hubs.versions(account_id, region, hub_name, content_type, name)
        except LookupError as err:  # no such hub
            raise _not_found(err) from None
        summaries = [v.summary(hubs.now()) for v in versions]
    minimum = self._get_param("MinVersion")
    if minimum:
        summaries = [s for s in summaries if version_key(s["HubContentVersion"]) >= version_key(minimum)]
    summaries = _time_filtered(self, summaries)
    descending = self._get_param("SortOrder") == "Descending"
    summaries.sort(key=lambda s: version_key(s["HubContentVersion"]), reverse=descending)
    return ActionResult(_page(self, summaries, "HubContentSummaries"))


def _delete_hub_content(self: SageMakerResponse) -> EmptyResult:
    account_id, region = _where(self)
    hub_name, content_type, name, version = _content_params(self)
    if public_hub.is_public(hub_name):
        raise ValidationError(message="Content of the SageMaker public hub cannot be deleted.")
    try:
        store().delete_content(account_id, region, hub_name, content_type, name, str(version))
    except LookupError as err:
        raise _not_found(err) from None
    return EmptyResult()


def _time_filtered(response: SageMakerResponse, summaries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    after, before = response._get_param("CreationTimeAfter"), response._get_param("CreationTimeBefore")
    if after is not None:
        summaries = [s for s in summaries if to_unix(s["CreationTime"]) > float(after)]
    if before is not None:
        summaries = [s for s in summaries if to_unix(s["CreationTime"]) < float(before)]
    return summaries


def _page(response: SageMakerResponse, items: list[dict[str, Any]], key: str) -> dict[str, Any]:
    try:
        return page(items, key, response._get_param("MaxResults"), response._get_param("NextToken"))
    except ValueError as err:
        raise ValidationError(message=str(err)) from None

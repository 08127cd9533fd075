"""
The moto patches of the MLflow app service (server process only; idempotent): ``CreateMlflowApp``,
``DescribeMlflowApp``, ``ListMlflowApps``, ``UpdateMlflowApp``, ``DeleteMlflowApp`` and
``CreatePresignedMlflowAppUrl`` (a URL on the local server itself, ``/_local/mlflow/<app id>/auth``,
behind which :mod:`.tracking` answers the MLflow REST calls the SDK makes).
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable
from typing import Any, cast

from moto.core.responses import ActionResult
from moto.sagemaker.exceptions import ResourceInUseException, ResourceNotFound, ValidationError
from moto.sagemaker.responses import SageMakerResponse

from airflow_provider_smtrain.testing import moto_support
from airflow_provider_smtrain.testing.config import CONTROL_PREFIX
from airflow_provider_smtrain.testing.engine.simulator import active
from airflow_provider_smtrain.testing.engine.timeline import to_unix
from airflow_provider_smtrain.testing.services.mlflow.apps import KIND, MlflowApp, MlflowApps
from airflow_provider_smtrain.testing.services.paging import page

SORT_KEYS = {"Name": "Name", "CreationTime": "CreationTime", "Status": "Status"}


def apps() -> MlflowApps:
    """The active simulator's MLflow apps."""
    return cast(MlflowApps, active().service(KIND))


def install() -> None:
    """Install the MLflow app patches (once per process)."""
    handlers: dict[str, Callable[[SageMakerResponse], Any]] = {
        "create_mlflow_app": _create,
        "describe_mlflow_app": _describe,
        "list_mlflow_apps": _list,
        "update_mlflow_app": _update,
        "delete_mlflow_app": _delete,
        "create_presigned_mlflow_app_url": _presigned_url,
    }
    for operation, handler in handlers.items():
        moto_support.patch_once(SageMakerResponse, operation, _replacement(handler))


def _replacement(handler: Callable[[SageMakerResponse], Any]) -> Callable[[Any], Any]:
    def make(_original: Any) -> Callable[[SageMakerResponse], Any]:
        @functools.wraps(handler)
        def operation(self: SageMakerResponse) -> Any:
            return handler(self)

        return operation

    return make


def _where(response: SageMakerResponse) -> tuple[str, str]:
    backend = response.sagemaker_backend
    return backend.account_id, backend.region_name


def _params(response: SageMakerResponse, *names: str) -> dict[str, Any]:
    return {name: response._get_param(name) for name in names if response._get_param(name) is not None}


def _app(response: SageMakerResponse) -> MlflowApp:
    account_id, region = _where(response)
    try:
        return apps().get(account_id, region, str(response._get_param("Arn")))
    except LookupError as err:
        raise ResourceNotFound(message=str(err)) from None


def _create(self: SageMakerResponse) -> ActionResult:
    account_id, region = _where(self)
    params = _params(
        self,
        "Name",
        "ArtifactStoreUri",
        "RoleArn",
        "KmsKeyId",
        "ModelRegistrationMode",
        "WeeklyMaintenanceWindowStart",
        "AccountDefaultStatus",
        "DefaultDomainIdList",
    )
    try:
        app = apps().create(account_id, region, params)
    except FileExistsError as err:
        raise ResourceInUseException(message=str(err)) from None
    except ValueError as err:
        raise ValidationError(message=str(err)) from None
    return ActionResult({"Arn": app.arn})


def _describe(self: SageMakerResponse) -> ActionResult:
    return ActionResult(_app(self).describe(apps().now()))


def _list(self: SageMakerResponse) -> ActionResult:
    account_id, region = _where(self)
    store = apps()
    now = store.now()
    listed = store.in_region(account_id, region)
    domain = self._get_param("DefaultForDomainId")
    if domain:
        listed = [a for a in listed if domain in a.domain_ids]
    default = self._get_param("AccountDefaultStatus")
    if default:
        listed = [a for a in listed if a.account_default == default]
    summaries = [a.summary(now) for a in listed]
    for param, member in (("Status", "Status"), ("MlflowVersion", "MlflowVersion")):
        wanted = self._get_param(param)
        if wanted:
            summaries = [s for s in summaries if s[member] == wanted]
    after, before = self._get_param("CreatedAfter"), self._get_param("CreatedBefore")
    if after is not None:
        summaries = [s for s in summaries if to_unix(s["CreationTime"]) > float(after)]
    if before is not None:
        summaries = [s for s in summaries if to_unix(s["CreationTime"]) < float(before)]
    sort_key = SORT_KEYS.get(self._get_param("SortBy") or "CreationTime", "CreationTime")
    summaries.sort(key=lambda s: s[sort_key], reverse=self._get_param("SortOrder") != "Ascending")
    try:
        return ActionResult(
            page(summaries, "Summaries", self._get_param("MaxResults"), self._get_param("NextToken"))
        )
    except ValueError as err:
        raise ValidationError(message=str(err)) from None


def _update(self: SageMakerResponse) -> ActionResult:
    account_id, region = _where(self)
    params = _params(
        self,
        "Arn",
        "Name",
        "ArtifactStoreUri",
        "ModelRegistrationMode",
        "WeeklyMaintenanceWindowStart",
        "DefaultDomainIdList",
        "AccountDefaultStatus",
    )
    try:
        app = apps().update(account_id, region, params)
    except LookupError as err:
        raise ResourceNotFound(message=str(err)) from None
    return ActionResult({"Arn": app.arn})


def _delete(self: SageMakerResponse) -> ActionResult:
    account_id, region = _where(self)
    try:
        app = apps().delete(account_id, region, str(self._get_param("Arn")))
    except LookupError as err:
        raise ResourceNotFound(message=str(err)) from None
    return ActionResult({"Arn": app.arn})


def _presigned_url(self: SageMakerResponse) -> ActionResult:
    app = _app(self)
    status = app.status(apps().now())[0]
    if status not in ("Created", "Updated"):
        raise ValidationError(message=f"MLflow app {app.arn} is not ready (status {status}).")
    base = active().endpoint_url or "http://127.0.0.1"
    token = secrets.token_urlsafe(24)
    return ActionResult(
        {"AuthorizedUrl": f"{base}{CONTROL_PREFIX}mlflow/{app.app_id}/auth?authToken={token}"}
    )

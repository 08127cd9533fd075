"""
The moto patches of the MLflow app service (server process only; idempotent): ``CreateMlflowApp``,
``DescribeMlflowApp``, ``ListMlflowApps``, ``UpdateMlflowApp``, ``DeleteMlflowApp`` and
``CreatePresignedMlflowAppUrl`` (a URL on the local server itself, ``/_local/mlflow/<app id>/auth``,
behind which :mod:`.tracking` answers the MLflow REST calls the SDK makes).
"""

from __future__ import annotations

import secrets
from typing import cast

from moto.core.responses import ActionResult
from moto.sagemaker.exceptions import ValidationError
from moto.sagemaker.responses import SageMakerResponse

from airflow_provider_smtrain.testing.config import CONTROL_PREFIX
from airflow_provider_smtrain.testing.engine.simulator import active
from airflow_provider_smtrain.testing.services.mlflow.apps import KIND, MlflowApp, MlflowApps
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

SORT_KEYS = {"Name": "Name", "CreationTime": "CreationTime", "Status": "Status"}


def apps() -> MlflowApps:
    """The active simulator's MLflow apps."""
    return cast(MlflowApps, active().service(KIND))


def install() -> None:
    """Install the MLflow app patches (once per process)."""
    install_actions(
        {
            "create_mlflow_app": _create,
            "describe_mlflow_app": _describe,
            "list_mlflow_apps": _list,
            "update_mlflow_app": _update,
            "delete_mlflow_app": _delete,
            "create_presigned_mlflow_app_url": _presigned_url,
        }
    )


def _app(response: SageMakerResponse) -> MlflowApp:
    with raising_as(NOT_FOUND):
        return apps().get(*where(response), str(response._get_param("Arn")))


def _create(self: SageMakerResponse) -> ActionResult:
    given = params(
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
    with raising_as(IN_USE, INVALID):
        app = apps().create(*where(self), given)
    return ActionResult({"Arn": app.arn})


def _describe(self: SageMakerResponse) -> ActionResult:
    return ActionResult(_app(self).describe(apps().now()))


def _list(self: SageMakerResponse) -> ActionResult:
    store = apps()
    now = store.now()
    listed = store.in_region(*where(self))
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
    summaries = created_between(self, summaries, "CreatedAfter", "CreatedBefore")
    sort_key = SORT_KEYS.get(self._get_param("SortBy") or "CreationTime", "CreationTime")
    summaries.sort(key=lambda s: s[sort_key], reverse=self._get_param("SortOrder") != "Ascending")
    return ActionResult(paged(self, summaries, "Summaries"))


def _update(self: SageMakerResponse) -> ActionResult:
    given = params(
        self,
        "Arn",
        "Name",
        "ArtifactStoreUri",
        "ModelRegistrationMode",
        "WeeklyMaintenanceWindowStart",
        "DefaultDomainIdList",
        "AccountDefaultStatus",
    )
    with raising_as(NOT_FOUND):
        app = apps().update(*where(self), given)
    return ActionResult({"Arn": app.arn})


def _delete(self: SageMakerResponse) -> ActionResult:
    with raising_as(NOT_FOUND):
        app = apps().delete(*where(self), str(self._get_param("Arn")))
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

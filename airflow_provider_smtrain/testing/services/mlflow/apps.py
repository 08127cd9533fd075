"""
MLflow apps on the simulated clock (server process only; callers hold the simulator lock).

``CreateMlflowApp`` makes an app ``Creating``; it is ``Created`` ``mlflow_app_seconds`` later, or
``CreateFailed`` when an outcome rule of kind ``mlflow_app`` matches its name. ``UpdateMlflowApp`` goes
``Updating`` -> ``Updated`` the same way; ``DeleteMlflowApp`` removes the app.
"""

from __future__ import annotations

import re
import secrets
import string
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_smtrain.testing.engine.simulator import key_named, touched
from airflow_provider_smtrain.testing.engine.timeline import to_datetime

KIND = "mlflow_app"
APP_STATUSES = (
    "Creating",
    "Created",
    "CreateFailed",
    "Updating",
    "Updated",
    "UpdateFailed",
    "Deleting",
    "DeleteFailed",
    "Deleted",
)
MLFLOW_VERSION = "3.10.0"
NAME_PATTERN = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}$")
_ID_ALPHABET = string.ascii_lowercase + string.digits


@dataclass
class MlflowApp:
    """One MLflow app."""

    account_id: str
    region: str
    app_id: str
    name: str
    artifact_store_uri: str
    role_arn: str
    created: float
    ready_at: float
    failed: bool
    account_default: str = "DISABLED"
    domain_ids: list[str] = field(default_factory=list)
    registration_mode: str = "AutoModelRegistrationDisabled"
    maintenance_window: str = "Sun:02:00"
    kms_key_id: str | None = None
    updated: float | None = None
    forced: str | None = None
    #: Tracking data behind the presigned URL (see :mod:`.tracking`): experiment name -> experiment.
    experiments: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def arn(self) -> str:
        """The app's ARN."""
        return f"arn:aws:sagemaker:{self.region}:{self.account_id}:mlflow-app/{self.app_id}"

    def status(self, now: float) -> tuple[str, float]:
        """``(Status, LastModifiedTime)`` at simulated time ``now``."""
        if self.forced is not None:
            return self.forced, now
        if now < self.ready_at:
            return ("Updating" if self.updated is not None else "Creating"), self.updated or self.created
        if self.failed:
            return ("UpdateFailed" if self.updated is not None else "CreateFailed"), self.ready_at
        return ("Updated" if self.updated is not None else "Created"), self.ready_at

    def summary(self, now: float) -> dict[str, Any]:
        """``MlflowAppSummary``."""
        status, modified = self.status(now)
        return {
            "Arn": self.arn,
            "Name": self.name,
            "Status": status,
            "CreationTime": to_datetime(self.created),
            "LastModifiedTime": to_datetime(modified),
            "MlflowVersion": MLFLOW_VERSION,
        }

    def describe(self, now: float) -> dict[str, Any]:
        """DescribeMlflowApp response."""
        out = self.summary(now)
        out.update(
            {
                "ArtifactStoreUri": self.artifact_store_uri,
                "RoleArn": self.role_arn,
                "ModelRegistrationMode": self.registration_mode,
                "AccountDefaultStatus": self.account_default,
                "DefaultDomainIdList": list(self.domain_ids),
                "WeeklyMaintenanceWindowStart": self.maintenance_window,
                "MaintenanceStatus": "MaintenanceComplete",
            }
        )
        if self.kms_key_id:
            out["KmsKeyId"] = self.kms_key_id
        return out


class MlflowApps:
    """
    Every MLflow app of every account and region.

    :param simulator: The simulator (clock, rules, config).
    """

    name = KIND
    statuses = APP_STATUSES

    def __init__(self, simulator: Any) -> None:
        self.simulator = simulator
        self.apps: dict[str, MlflowApp] = {}

    def now(self) -> float:
        """The simulated time."""
        return float(self.simulator.clock.now())

    def _timing(self, name: str) -> tuple[float, bool]:
        seconds, reason = self.simulator.outcome(KIND, name, float(self.simulator.config.mlflow_app_seconds))
        return self.now() + seconds, reason is not None

    def create(self, account_id: str, region: str, params: dict[str, Any]) -> MlflowApp:
        """
        CreateMlflowApp.

        :raises ValueError: invalid name or default status; ``FileExistsError``: the name is taken.
        """
        name = str(params["Name"])
        if not NAME_PATTERN.match(name):
            raise ValueError(
                f"1 validation error detected: Value '{name}' at 'name' failed to satisfy constraint: "
                "Member must satisfy regular expression pattern: [a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}"
            )
        if any((a.account_id, a.region, a.name) == (account_id, region, name) for a in self.apps.values()):
            raise FileExistsError(f"MLflow app with name {name} already exists.")
        ready_at, failed = self._timing(name)
        app = MlflowApp(
            account_id=account_id,
            region=region,
            app_id="app-" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(12)),
            name=name,
            artifact_store_uri=str(params["ArtifactStoreUri"]),
            role_arn=str(params["RoleArn"]),
            created=self.now(),
            ready_at=ready_at,
            failed=failed,
            account_default=str(params.get("AccountDefaultStatus") or "DISABLED"),
            domain_ids=list(params.get("DefaultDomainIdList") or []),
            registration_mode=str(params.get("ModelRegistrationMode") or "AutoModelRegistrationDisabled"),
            maintenance_window=str(params.get("WeeklyMaintenanceWindowStart") or "Sun:02:00"),
            kms_key_id=params.get("KmsKeyId"),
        )
        if app.account_default == "ENABLED":  # one account default per account and region
            for other in self.in_region(account_id, region):
                other.account_default = "DISABLED"
        self.apps[app.arn] = app
        self.simulator.ticks[KIND] += 1
        return app

    def get(self, account_id: str, region: str, arn: str) -> MlflowApp:
        """
        The app with ``arn``.

        :raises LookupError: No such app in this account and region.
        """
        app = self.apps.get(arn)
        if app is None or (app.account_id, app.region) != (account_id, region):
            raise LookupError(f"MLflow app {arn} does not exist.")
        return app

    def in_region(self, account_id: str, region: str) -> list[MlflowApp]:
        """The apps of an account and region, oldest first."""
        return sorted(
            (a for a in self.apps.values() if (a.account_id, a.region) == (account_id, region)),
            key=lambda a: a.created,
        )

    def update(self, account_id: str, region: str, params: dict[str, Any]) -> MlflowApp:
        """UpdateMlflowApp: ``Updating``, then ``Updated`` after ``mlflow_app_seconds``."""
        app = self.get(account_id, region, str(params["Arn"]))
        for param, attr in (
            ("Name", "name"),
            ("ArtifactStoreUri", "artifact_store_uri"),
            ("ModelRegistrationMode", "registration_mode"),
            ("WeeklyMaintenanceWindowStart", "maintenance_window"),
            ("AccountDefaultStatus", "account_default"),
        ):
            if params.get(param) is not None:
                setattr(app, attr, str(params[param]))
        if params.get("DefaultDomainIdList") is not None:
            app.domain_ids = list(params["DefaultDomainIdList"])
        app.updated = self.now()
        app.ready_at, app.failed = self._timing(app.name)
        app.forced = None
        return app

    def delete(self, account_id: str, region: str, arn: str) -> MlflowApp:
        """DeleteMlflowApp."""
        app = self.get(account_id, region, arn)
        del self.apps[arn]
        return app

    # ------------------------------------------------------------------ Service protocol (force_job)

    def touch(self, key: tuple[str, str, str]) -> Any:
        """The app named ``key[2]`` in the account and region, or ``None``."""
        return next((a for a in self.in_region(key[0], key[1]) if a.name == key[2]), None)

    def find(self, name: str, account_id: str | None, region: str | None) -> tuple[str, str, str] | None:
        """Key of the app called ``name``, or ``None``."""
        return key_named(((a.account_id, a.region, a.name) for a in self.apps.values()), name, account_id, region)

    def force(
        self, key: tuple[str, str, str], status: str, secondary_status: str | None, failure_reason: str | None
    ) -> None:
        """Put an app into ``status`` now, until updated or forced again."""
        app = touched(self, key, "MLflow app")
        app.forced = status

    def snapshot(self) -> list[dict[str, Any]]:
        """JSON-able view of every app."""
        now = self.now()
        return [{"name": a.name, "arn": a.arn, "status": a.status(now)[0]} for a in self.apps.values()]

    def clear(self) -> None:
        """Forget every app."""
        self.apps.clear()

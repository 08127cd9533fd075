"""
Real-time endpoints on the simulated clock (server process only; callers hold the simulator lock).

``CreateEndpoint`` makes an endpoint ``Creating``; ``endpoint_seconds`` later it is ``InService``, or
``Failed`` with a ``FailureReason`` when an outcome rule of kind ``endpoint`` matches its name.
``DescribeEndpoint`` names the config from creation on. ``UpdateEndpoint`` makes it ``Updating``: the new config is the ``PendingDeploymentSummary`` while it
deploys (``EndpointConfigName`` still names the serving one), then becomes the endpoint's config
(``InService``), or the endpoint ends ``Failed`` (a rule again). Only an ``InService`` or ``Failed``
endpoint can be updated. ``force_job("endpoint", name, status, failure_reason=...)`` puts one into any
status until it is updated or forced again. Each request brings only the endpoints it touches up to
the simulated time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from airflow_provider_smtrain.testing.engine.simulator import key_named, touched
from airflow_provider_smtrain.testing.engine.timeline import to_datetime

KIND = "endpoint"
ENDPOINT_STATUSES = (
    "OutOfService",
    "Creating",
    "Updating",
    "SystemUpdating",
    "RollingBack",
    "InService",
    "Deleting",
    "Failed",
    "UpdateRollbackFailed",
)
#: Statuses in which SageMaker accepts ``UpdateEndpoint``.
UPDATABLE = ("InService", "Failed")
DEFAULT_FAILURE_REASON = "ModelError: the primary container did not pass the ping health check (LocalSageMaker rule)"


def _ms(ts: float) -> float:
    return int(ts * 1000) / 1000.0


@dataclass
class Endpoint:
    """One endpoint: the serving config, a pending one while it deploys, and the planned outcome."""

    account_id: str
    region: str
    name: str
    config_name: str | None
    created: float
    modified: float
    status: str
    ready_at: float
    failure: str | None
    pending_config: str | None
    pending_variants: list[dict[str, Any]]
    variants: list[dict[str, Any]] = field(default_factory=list)
    failure_reason: str | None = None
    started: float | None = None
    forced: bool = False
    never_served: bool = True

    @property
    def arn(self) -> str:
        """The endpoint's ARN (SageMaker lower-cases the name in it)."""
        return f"arn:aws:sagemaker:{self.region}:{self.account_id}:endpoint/{self.name.lower()}"

    @property
    def creation_time(self) -> Any:
        """Creation time as moto stores times (for the shared listing helper)."""
        return to_datetime(self.created)

    @property
    def last_modified_time(self) -> Any:
        """Last status change as moto stores times."""
        return to_datetime(self.modified)

    def advance(self, now: float) -> bool:
        """Apply the planned outcome once its time has come; return whether anything changed."""
        if self.forced or self.status not in ("Creating", "Updating") or now < self.ready_at:
            return False
        self.modified = max(_ms(self.ready_at), self.modified + 0.001)
        if self.failure is not None:  # a failed update keeps the serving config (no rollback is simulated)
            self.status, self.failure_reason = "Failed", self.failure
        else:
            self.status, self.failure_reason, self.never_served = "InService", None, False
            if self.pending_config is not None:
                self.config_name, self.variants = self.pending_config, self.pending_variants
        self.pending_config, self.pending_variants, self.started = None, [], None
        return True

    def summary(self) -> dict[str, Any]:
        """``EndpointSummary`` (ListEndpoints)."""
        return {
            "EndpointName": self.name,
            "EndpointArn": self.arn,
            "CreationTime": to_datetime(self.created),
            "LastModifiedTime": to_datetime(self.modified),
            "EndpointStatus": self.status,
        }

    def describe(self) -> dict[str, Any]:
        """DescribeEndpoint response."""
        out = self.summary()
        if self.config_name is not None:
            out["EndpointConfigName"] = self.config_name
            live = self.status != "Creating" and not (self.status == "Failed" and self.never_served)
            out["ProductionVariants"] = [_variant_summary(v, self.modified, live=live) for v in self.variants]
        if self.failure_reason:
            out["FailureReason"] = self.failure_reason
        if self.pending_config is not None:
            out["PendingDeploymentSummary"] = {
                "EndpointConfigName": self.pending_config,
                "ProductionVariants": [
                    {**_variant_summary(v, self.started or self.modified, live=False),
                     **({"InstanceType": v["InstanceType"]} if v.get("InstanceType") else {})}
                    for v in self.pending_variants
                ],
                "StartTime": to_datetime(self.started or self.modified),
            }
        return out


def _variant_summary(variant: dict[str, Any], at: float, *, live: bool) -> dict[str, Any]:
    """``ProductionVariantSummary`` of a config's variant (``live``: instances are up)."""
    out: dict[str, Any] = {"VariantName": variant["VariantName"]}
    if variant.get("Image"):
        out["DeployedImages"] = [
            {"SpecifiedImage": variant["Image"], "ResolvedImage": variant["Image"], "ResolutionTime": to_datetime(at)}
        ]
    weight = float(variant.get("InitialVariantWeight", 1.0))
    count = int(variant.get("InitialInstanceCount") or 0)
    out.update({"CurrentWeight": weight if live else 0.0, "DesiredWeight": weight})
    if variant.get("ServerlessConfig"):
        out["CurrentServerlessConfig"] = dict(variant["ServerlessConfig"])
        out["DesiredServerlessConfig"] = dict(variant["ServerlessConfig"])
    else:
        out.update({"CurrentInstanceCount": count if live else 0, "DesiredInstanceCount": count})
    return out


class EndpointStore:
    """
    Every endpoint of every account and region.

    :param simulator: The simulator (clock, rules, config).
    """

    name = KIND
    statuses = ENDPOINT_STATUSES

    def __init__(self, simulator: Any) -> None:
        self.simulator = simulator
        self.endpoints: dict[tuple[str, str, str], Endpoint] = {}

    def now(self) -> float:
        """The simulated time."""
        return float(self.simulator.clock.now())

    def _plan(self, name: str) -> tuple[float, str | None]:
        seconds, reason = self.simulator.outcome(KIND, name, float(self.simulator.config.endpoint_seconds))
        if reason is not None and reason.startswith("AlgorithmError: simulated failure"):
            reason = DEFAULT_FAILURE_REASON  # the rules' generic default reads like a training job's
        return self.now() + seconds, reason

    def get(self, account_id: str, region: str, name: str) -> Endpoint:
        """
        The endpoint called ``name``, up to the simulated time.

        :raises LookupError: No such endpoint (SageMaker's wording).
        """
        endpoint = self.touch((account_id, region, name))
        if endpoint is None:
            arn = f"arn:aws:sagemaker:{region}:{account_id}:endpoint/{name.lower()}"
            raise LookupError(f"Could not find endpoint \"{arn}\".")
        return endpoint

    def create(
        self, account_id: str, region: str, name: str, config_name: str, variants: list[dict[str, Any]]
    ) -> Endpoint:
        """
        CreateEndpoint: ``Creating`` with the config as the pending deployment.

        :raises FileExistsError: the name is taken (SageMaker's wording).
        """
        key = (account_id, region, name)
        if key in self.endpoints:
            arn = self.endpoints[key].arn
            raise FileExistsError(f"Cannot create already existing endpoint \"{arn}\".")
        ready_at, failure = self._plan(name)
        now = _ms(self.now())
        endpoint = Endpoint(account_id, region, name, config_name, now, now, "Creating", ready_at, failure,
                            None, [], variants=list(variants))
        self.endpoints[key] = endpoint
        self.simulator.ticks[KIND] += 1
        return endpoint

    def update(
        self, account_id: str, region: str, name: str, config_name: str, variants: list[dict[str, Any]]
    ) -> Endpoint:
        """
        UpdateEndpoint: ``Updating`` towards ``config_name``.

        :raises LookupError: no such endpoint; ``ValueError``: it is not ``InService`` or ``Failed``.
        """
        endpoint = self.get(account_id, region, name)
        if endpoint.status not in UPDATABLE:
            raise ValueError(f"Cannot update in-progress endpoint \"{endpoint.arn}\".")
        ready_at, failure = self._plan(name)
        now = _ms(self.now())
        endpoint.status, endpoint.ready_at, endpoint.failure, endpoint.forced = "Updating", ready_at, failure, False
        endpoint.pending_config, endpoint.pending_variants, endpoint.started = config_name, list(variants), now
        endpoint.failure_reason = None
        endpoint.modified = max(now, endpoint.modified + 0.001)
        self.simulator.ticks[KIND] += 1
        return endpoint

    def delete(self, account_id: str, region: str, name: str) -> Endpoint:
        """DeleteEndpoint (the endpoint is gone at once)."""
        endpoint = self.get(account_id, region, name)
        del self.endpoints[(account_id, region, name)]
        return endpoint

    def in_region(self, account_id: str, region: str) -> list[Endpoint]:
        """The endpoints of an account and region, up to the simulated time."""
        listed = [e for e in self.endpoints.values() if (e.account_id, e.region) == (account_id, region)]
        now = self.now()
        for endpoint in listed:
            if endpoint.advance(now):
                self.simulator.ticks[KIND] += 1
        return listed

    # ------------------------------------------------------------------ Service protocol (force_job)

    def touch(self, key: tuple[str, str, str]) -> Endpoint | None:
        """The endpoint ``key``, up to the simulated time, or ``None``."""
        endpoint = self.endpoints.get(key)
        if endpoint is not None and endpoint.advance(self.now()):
            self.simulator.ticks[KIND] += 1
        return endpoint

    def find(self, name: str, account_id: str | None, region: str | None) -> tuple[str, str, str] | None:
        """Key of the endpoint called ``name``, or ``None``."""
        return key_named(self.endpoints, name, account_id, region)

    def force(
        self, key: tuple[str, str, str], status: str, secondary_status: str | None, failure_reason: str | None
    ) -> None:
        """Put an endpoint into ``status`` now, until updated or forced again."""
        endpoint: Endpoint = touched(self, key, "endpoint")
        endpoint.status, endpoint.forced = status, True
        endpoint.never_served = endpoint.never_served and status != "InService"
        endpoint.failure_reason = (failure_reason or DEFAULT_FAILURE_REASON) if status == "Failed" else None
        if status in ("InService", "Failed") and endpoint.pending_config is not None:
            if status == "InService":
                endpoint.config_name, endpoint.variants = endpoint.pending_config, endpoint.pending_variants
            endpoint.pending_config, endpoint.pending_variants, endpoint.started = None, [], None
        endpoint.modified = max(_ms(self.now()), endpoint.modified + 0.001)

    def snapshot(self) -> list[dict[str, Any]]:
        """JSON-able view of every endpoint."""
        return [
            {"name": e.name, "arn": e.arn, "status": e.status, "config": e.config_name, "pending": e.pending_config}
            for key in list(self.endpoints) if (e := self.touch(key)) is not None
        ]

    def clear(self) -> None:
        """Forget every endpoint."""
        self.endpoints.clear()

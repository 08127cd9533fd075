"""Configuration of the local SageMaker test server (standard library only)."""

from __future__ import annotations

import ipaddress
from dataclasses import asdict, dataclass, fields
from typing import Any

DEFAULT_HOST = "127.0.0.1"
DEFAULT_REGION = "us-east-1"
DEFAULT_TRAINING_SECONDS = 2.0
DEFAULT_TUNING_SECONDS = 3.0
DEFAULT_STOP_SECONDS = 0.5
DEFAULT_SCRIPT_TIMEOUT_SECONDS = 120.0
DEFAULT_HUB_IMPORT_SECONDS = 2.0
DEFAULT_MLFLOW_APP_SECONDS = 5.0
DEFAULT_ENDPOINT_SECONDS = 5.0

#: Prefix of the control API paths served next to the AWS APIs.
CONTROL_PREFIX = "/_local/"


@dataclass
class ServerConfig:
    """
    Runtime settings of the simulated SageMaker service; changeable through the control API.

    :param training_seconds: Wall-clock seconds from CreateTrainingJob until the job is terminal.
    :param tuning_seconds: Wall-clock seconds from CreateHyperParameterTuningJob until it is terminal.
    :param stop_seconds: Seconds a job stays ``Stopping`` after a Stop* call before it is ``Stopped``.
    :param run_scripts: Actually run ``SourceCode`` entry scripts of training jobs (see ``script_runner``).
    :param script_timeout_seconds: Timeout of one entry script run.
    :param hub_import_seconds: Seconds a hub content version stays ``Importing`` after ImportHubContent.
    :param mlflow_app_seconds: Seconds an MLflow app stays ``Creating`` after CreateMlflowApp.
    :param endpoint_seconds: Seconds an endpoint stays ``Creating`` / ``Updating`` after CreateEndpoint / UpdateEndpoint.
    """

    training_seconds: float = DEFAULT_TRAINING_SECONDS
    tuning_seconds: float = DEFAULT_TUNING_SECONDS
    stop_seconds: float = DEFAULT_STOP_SECONDS
    run_scripts: bool = False
    script_timeout_seconds: float = DEFAULT_SCRIPT_TIMEOUT_SECONDS
    hub_import_seconds: float = DEFAULT_HUB_IMPORT_SECONDS
    mlflow_app_seconds: float = DEFAULT_MLFLOW_APP_SECONDS
    endpoint_seconds: float = DEFAULT_ENDPOINT_SECONDS

    def update(self, values: dict[str, Any]) -> None:
        """
        Update settings in place from a mapping, validating names and types.

        :param values: Setting name to new value; ``None`` values are ignored.
        """
        known = {f.name: f for f in fields(self)}
        for name, value in values.items():
            if name not in known:
                raise ValueError(f"unknown setting {name!r}; known: {sorted(known)}")
            if value is None:
                continue
            if name == "run_scripts":
                setattr(self, name, bool(value))
                continue
            number = float(value)
            if number < 0:
                raise ValueError(f"{name} must be >= 0, got {value!r}")
            setattr(self, name, number)

    def copy(self) -> ServerConfig:
        """Return an independent copy."""
        return ServerConfig(**asdict(self))

    def as_dict(self) -> dict[str, Any]:
        """Return the settings as a JSON-serialisable dict."""
        return asdict(self)


def ensure_loopback(host: str) -> str:
    """
    Return ``host`` if it is a loopback address, else raise ``ValueError``.

    ``localhost`` is accepted and mapped to ``127.0.0.1``; any other name, and any non-loopback
    address (``0.0.0.0`` included), is refused so the server is never reachable from the network.

    :param host: Host name or IP literal to bind to.
    """
    if host == "localhost":
        return "127.0.0.1"
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        raise ValueError(f"refusing to bind to {host!r}: only loopback IP addresses are allowed") from None
    if not address.is_loopback:
        raise ValueError(f"refusing to bind to {host!r}: not a loopback address")
    return str(address)

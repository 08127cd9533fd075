"""Test-wide guards: no address but the loopback, no ambient AWS configuration, dummy credentials."""

from __future__ import annotations

import ipaddress
import os
import socket

import pytest

pytest_plugins = ["airflow_provider_smtrain.testing.pytest_plugin"]

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo


def _is_loopback(host: object) -> bool:
    if not isinstance(host, str):
        return True  # unix sockets and other families
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _guarded_connect(self: socket.socket, address: object) -> None:
    if isinstance(address, tuple) and not _is_loopback(address[0]):
        raise OSError(f"tests may only connect to the loopback address, not {address!r}")
    return _real_connect(self, address)  # type: ignore[arg-type]


def _guarded_connect_ex(self: socket.socket, address: object) -> int:
    if isinstance(address, tuple) and not _is_loopback(address[0]):
        raise OSError(f"tests may only connect to the loopback address, not {address!r}")
    return _real_connect_ex(self, address)  # type: ignore[arg-type]


def _guarded_getaddrinfo(host: object, *args: object, **kwargs: object) -> object:
    if isinstance(host, (str, bytes)):
        name = host.decode() if isinstance(host, bytes) else host
        if not _is_loopback(name):
            raise OSError(f"tests may only resolve loopback names, not {name!r}")
    return _real_getaddrinfo(host, *args, **kwargs)  # type: ignore[arg-type]


socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]
socket.getaddrinfo = _guarded_getaddrinfo  # type: ignore[assignment]

# Ambient credentials that must never sign a request made through an Airflow connection.
AMBIENT_ACCESS_KEY = "AKIAAMBIENTDONTUSE00"
for _name in list(os.environ):
    if _name.startswith("AWS_"):
        del os.environ[_name]
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": AMBIENT_ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": "ambient-secret",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
)


@pytest.fixture
def ambient_access_key() -> str:
    """The access key of the process's ambient (environment) credentials."""
    return AMBIENT_ACCESS_KEY

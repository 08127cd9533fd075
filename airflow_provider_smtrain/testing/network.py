"""A process-wide guard that refuses every address but the loopback (tests, demos and benchmarks)."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any


def is_loopback(host: object) -> bool:
    """
    Whether ``host`` is a loopback address or name (unix sockets and other families count as local).

    :param host: a host as given to ``connect`` or ``getaddrinfo``.
    """
    if isinstance(host, bytes):
        host = host.decode()
    if not isinstance(host, str):
        return True
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def install_loopback_guard(who: str = "this process") -> None:
    """
    Make this process refuse to connect to, or resolve, anything but the loopback (idempotent).

    :param who: named in the error, e.g. ``"tests"`` or ``"trigger_scale"``.
    """
    if getattr(socket.socket.connect, "_loopback_guard", False):
        return
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def check(address: object) -> None:
        if isinstance(address, tuple) and not is_loopback(address[0]):
            raise OSError(f"{who} may only connect to the loopback address, not {address!r}")

    def connect(self: socket.socket, address: Any) -> None:
        check(address)
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        check(address)
        return real_connect_ex(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host is not None and not is_loopback(host):
            raise OSError(f"{who} may only resolve loopback names, not {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    connect._loopback_guard = True  # type: ignore[attr-defined]
    socket.socket.connect = connect  # type: ignore[method-assign,assignment]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign,assignment]
    socket.getaddrinfo = getaddrinfo

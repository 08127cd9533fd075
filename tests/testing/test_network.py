"""The loopback guard the tests, the demo and the benchmarks run under."""

from __future__ import annotations

import socket

import pytest

from airflow_provider_smtrain.testing.network import install_loopback_guard, is_loopback


def test_the_test_process_refuses_other_addresses_and_names() -> None:
    install_loopback_guard("tests")  # idempotent: the conftest installed it already
    with pytest.raises(OSError, match="loopback"):
        socket.create_connection(("10.1.2.3", 80), timeout=1)
    with pytest.raises(OSError, match="loopback"):
        socket.getaddrinfo("example.com", 443)
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.create_connection(server.getsockname(), timeout=1):
            pass


@pytest.mark.parametrize(("host", "local"), [("127.0.0.1", True), ("::1", True), ("localhost", True),
                                             (b"127.0.0.5", True), ("10.0.0.1", False), ("8.8.8.8", False),
                                             ("example.com", False)])
def test_is_loopback(host: object, local: bool) -> None:
    assert is_loopback(host) is local

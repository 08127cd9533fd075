"""
The WSGI router in front of moto: control API, faults, the request log, and JSON hygiene.

For every AWS request: identify it (service, operation, signing access key), decide its fault, then

* an **error** fault answers with an AWS error and never reaches moto;
* a **dropped request** closes the connection without reaching moto;
* otherwise moto handles it under the simulator lock (the moto patches bring the jobs the request
  touches up to the simulated time), and a **lost response** then closes the connection instead of
  answering.

``/_local/...`` goes to the control API. awsJson responses lose their ``null`` members on the way out:
AWS omits absent members, it never sends ``null``.
"""

from __future__ import annotations

import io
import json
import logging
import socket
import struct
import time
from collections.abc import Callable, Iterable
from typing import Any

from airflow_provider_smtrain.testing.config import CONTROL_PREFIX
from airflow_provider_smtrain.testing.engine.simulator import Simulator
from airflow_provider_smtrain.testing.server.faults import Drop, FaultInjector, InjectedError, error_response
from airflow_provider_smtrain.testing.server.requests_log import RequestIdentity, RequestLog, identify_request

log = logging.getLogger(__name__)

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class ResponseDropped(ConnectionResetError):
    """Raised to the WSGI server so that it writes nothing: werkzeug treats it as a dropped connection."""


class Router:
    """
    Wrap moto's WSGI app.

    :param moto_app: moto's ``DomainDispatcherApplication``.
    :param control: Control API WSGI handler.
    :param simulator: Job simulator (its lock serialises moto access).
    :param faults: Fault injector.
    :param request_log: Request log.
    """

    def __init__(
        self,
        moto_app: WSGIApp,
        control: WSGIApp,
        simulator: Simulator,
        faults: FaultInjector,
        request_log: RequestLog,
    ) -> None:
        self.moto_app = moto_app
        self.control = control
        self.simulator = simulator
        self.faults = faults
        self.request_log = request_log

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """
        Handle one request.

        :param environ: WSGI environ.
        :param start_response: WSGI start_response.
        """
        path = environ.get("PATH_INFO", "")
        if path.startswith(CONTROL_PREFIX):
            return list(self.control(environ, start_response))
        started = time.time()
        identity = identify_request(environ, _read_small_body(environ))
        method = environ.get("REQUEST_METHOD", "GET")
        decision = self.faults.decide(identity)
        if decision.latency > 0:
            time.sleep(decision.latency)

        def record(status_code: int | None, fault: str | None) -> None:
            self.request_log.record(
                identity, method=method, path=path, status_code=status_code, fault=fault, started=started
            )

        if decision.error is not None:
            status, headers, body = error_response(decision.error, identity.protocol)
            start_response(status, headers)
            record(decision.error.status, decision.error.kind)
            return [body]
        drop = decision.drop
        if drop is not None and not drop.carried_out:
            record(None, drop.kind)
            _drop_connection(environ, drop)
        status_code, headers, body = self._forward(environ, identity)
        if drop is not None:
            record(status_code, drop.kind)
            _drop_connection(environ, drop)
        start_response(f"{status_code} {_reason(status_code)}", headers)
        record(status_code, None)
        return [body]

    def _forward(
        self, environ: dict[str, Any], identity: RequestIdentity
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """Let moto handle the request under the simulator lock; return its status, headers and body."""
        captured: dict[str, Any] = {}

        def capture(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], None]:
            captured["status"], captured["headers"] = int(status.split(" ", 1)[0]), list(headers)
            return lambda _data: None

        with self.simulator.lock:
            try:
                result = self.moto_app(environ, capture)
                try:
                    body = b"".join(result)
                finally:
                    close = getattr(result, "close", None)
                    if close is not None:
                        close()
            except NotImplementedError:
                # moto raises this for operations it lacks; answer fast (501 is not retried by botocore)
                # instead of letting werkzeug render an HTML 500 page that botocore retries.
                message = f"LocalSageMaker (moto) does not implement {identity.service}:{identity.operation}"
                log.warning(message)
                error = InjectedError("not_implemented", "NotImplemented", 501, message)
                status, headers, body = error_response(error, identity.protocol)
                return int(status.split(" ", 1)[0]), headers, body
        headers = captured.get("headers", [])
        if identity.protocol == "json":
            body, headers = _without_nulls(body, headers)
        return captured.get("status", 500), headers, body


def _drop_connection(environ: dict[str, Any], drop: Drop) -> None:
    """Close the client's connection without a response (at once, or after ``drop.seconds``)."""
    if drop.mode == "timeout" and drop.seconds > 0:
        time.sleep(drop.seconds)
    sock = environ.get("werkzeug.socket")
    if isinstance(sock, socket.socket):
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST on close
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    raise ResponseDropped(f"{drop.kind} ({drop.mode}): response withheld by fault injection")


def _without_nulls(body: bytes, headers: list[tuple[str, str]]) -> tuple[bytes, list[tuple[str, str]]]:
    """Drop ``null`` members from an awsJson body (AWS omits absent members); fix Content-Length."""
    if b"null" not in body:  # nothing to drop: skip parsing and re-encoding
        return body, headers
    try:
        data = json.loads(body) if body else None
    except ValueError:
        return body, headers
    cleaned = _prune(data)
    if cleaned == data:
        return body, headers
    new_body = json.dumps(cleaned).encode()
    new_headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
    new_headers.append(("Content-Length", str(len(new_body))))
    return new_body, new_headers


def _prune(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _prune(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_prune(v) for v in value]
    return value


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _read_small_body(environ: dict[str, Any]) -> bytes | None:
    """Read (and put back) a form-encoded or awsJson body: where ``Action=`` and job names are."""
    content_type = environ.get("CONTENT_TYPE", "")
    is_json = bool(environ.get("HTTP_X_AMZ_TARGET")) or content_type.startswith("application/x-amz-json")
    if not (is_json or content_type.startswith("application/x-www-form-urlencoded")):
        return None
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    if length <= 0:
        return None
    body: bytes = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)
    return body

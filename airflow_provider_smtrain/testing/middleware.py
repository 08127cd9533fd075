"""WSGI middleware in front of moto: control API, fault injection, request log, lifecycle ticks."""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from airflow_provider_smtrain.testing.config import CONTROL_PREFIX
from airflow_provider_smtrain.testing.faults import FaultInjector, InjectedError, error_response
from airflow_provider_smtrain.testing.requests_log import RequestLog, identify_request
from airflow_provider_smtrain.testing.simulation import Simulator

log = logging.getLogger(__name__)

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class LocalSageMakerMiddleware:
    """
    Wrap moto's WSGI app.

    For every AWS request: identify it (service, operation, signing access key), maybe inject a fault
    (which then never reaches moto), else tick the simulator and forward to moto with the simulator lock
    held, and record the outcome in the request log. ``/_local/...`` goes to the control API.

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
            with self.simulator.lock:
                return list(self.control(environ, start_response))
        started = time.time()
        identity = identify_request(environ, _read_form_body(environ))
        method = environ.get("REQUEST_METHOD", "GET")
        error, latency = self.faults.decide(identity)
        if latency > 0:
            time.sleep(latency)
        if error is not None:
            status, headers, body = error_response(error, identity.protocol)
            start_response(status, headers)
            self.request_log.record(
                identity, method=method, path=path, status_code=error.status, fault=error.kind, started=started
            )
            return [body]

        captured: dict[str, int] = {}

        def _start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured["status"] = int(status.split(" ", 1)[0])
            return start_response(status, headers, exc_info)

        with self.simulator.lock:
            self.simulator.tick()
            try:
                result = self.moto_app(environ, _start_response)
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
                _start_response(status, headers)
        self.request_log.record(
            identity,
            method=method,
            path=path,
            status_code=captured.get("status", 500),
            fault=None,
            started=started,
        )
        return [body]


def _read_form_body(environ: dict[str, Any]) -> bytes | None:
    """Read (and put back) a form-encoded body, where query-protocol services keep ``Action=``."""
    if not environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
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

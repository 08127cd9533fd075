"""
Control API of the LocalSageMaker server, served under ``/_local/`` next to the AWS APIs.

All bodies are JSON. Endpoints:

* ``GET  /_local/health`` -> ``{"status": "ok", "pid", "config"}``
* ``GET|POST /_local/config`` -> update ``training_seconds``, ``tuning_seconds``, ``stop_seconds``,
  ``run_scripts``, ``script_timeout_seconds``; returns the config
* ``GET|POST|DELETE /_local/rules`` -> list / add (OutcomeRule fields) / clear outcome rules
* ``GET|POST|DELETE /_local/faults`` -> show / set (FaultSettings fields) / clear random faults
* ``POST /_local/fail_next`` -> ``{"operation", "kind", "code", "status", "count", "message", "mode", "seconds"}``
* ``GET|DELETE /_local/requests`` -> request log (query ``operation=``, ``service=``, ``name=``) / clear it
* ``GET  /_local/jobs`` -> simulated jobs, brought up to date
* ``POST /_local/jobs/force`` -> ``{"kind", "name", "status", "failure_reason", "secondary_status", "region"}``
  (kinds ``training``, ``tuning``, ``agent_rft``, ``hub_content``, ``mlflow_app``, ``pipeline_execution``)
* ``GET|POST /_local/clock`` -> clock state / ``{"action": "freeze"|"advance"|"resume", "seconds"}``
* ``GET  /_local/stats`` -> work counters (job applications per service)
* ``GET  /_local/mlflow/<app id>/auth`` -> the MLflow app a presigned URL opens (``{"Arn", "Name", "Status"}``);
  ``GET .../api/2.0/mlflow/experiments/get-by-name``, ``POST .../api/2.0/mlflow/runs/search`` (MLflow REST)
* ``POST /_local/mlflow_runs`` -> ``{"app_arn", "experiment_name", "run_name"}`` -> ``{"MlflowExperimentId", "MlflowRunId"}``
* ``POST /_local/model_packages/register`` -> ``register_model_package`` fields (+ ``account_id``,
  ``region``) -> ``{"ModelPackageArn"}``
* ``POST /_local/reset`` -> reset moto (all services), jobs, clock, rules, faults, request log, config
* ``POST /_local/shutdown`` -> stop the server process
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from airflow_provider_smtrain.testing.config import CONTROL_PREFIX, ServerConfig
from airflow_provider_smtrain.testing.engine.simulator import Simulator
from airflow_provider_smtrain.testing.server.faults import FaultInjector
from airflow_provider_smtrain.testing.server.requests_log import RequestLog

StartResponse = Callable[..., Any]


class ControlError(Exception):
    """A client error in a control request (HTTP 400/404)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class ControlAPI:
    """
    WSGI handler for ``/_local/...``.

    :param config: Live config (mutated in place).
    :param defaults: Config restored by ``reset``.
    :param simulator: The simulator (clock, rules, jobs); its lock is taken for routes that touch jobs.
    :param faults: Fault injector.
    :param request_log: Request log.
    :param reset_moto: Callable that resets moto and the simulator (called under the simulator lock).
    :param shutdown: Callable that stops the server (may be None).
    """

    def __init__(
        self,
        *,
        config: ServerConfig,
        defaults: ServerConfig,
        simulator: Simulator,
        faults: FaultInjector,
        request_log: RequestLog,
        reset_moto: Callable[[], None],
        shutdown: Callable[[], None] | None = None,
    ) -> None:
        self.config = config
        self.defaults = defaults
        self.simulator = simulator
        self.rules = simulator.rules
        self.faults = faults
        self.request_log = request_log
        self.reset_moto = reset_moto
        self.shutdown = shutdown
        self.started = time.time()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """
        Handle one control request.

        :param environ: WSGI environ.
        :param start_response: WSGI start_response.
        """
        method = environ.get("REQUEST_METHOD", "GET").upper()
        route = environ.get("PATH_INFO", "")[len(CONTROL_PREFIX) :].strip("/")
        try:
            payload = self._body(environ)
            query = {k: v[-1] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
            status, result = self.handle(method, route, payload, query)
        except ControlError as err:
            status, result = err.status, {"error": str(err)}
        except LookupError as err:
            status, result = 404, {"error": str(err.args[0]) if err.args else repr(err)}
        except (TypeError, ValueError) as err:
            status, result = 400, {"error": str(err)}
        body = json.dumps(result, default=str).encode()
        start_response(
            f"{status} {'OK' if status == 200 else 'Error'}",
            [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
        )
        return [body]

    @staticmethod
    def _body(environ: dict[str, Any]) -> dict[str, Any]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if not length:
            return {}
        data = json.loads(environ["wsgi.input"].read(length) or b"{}")
        if not isinstance(data, dict):
            raise ControlError("body must be a JSON object")
        return data

    def handle(
        self, method: str, route: str, payload: dict[str, Any], query: dict[str, str]
    ) -> tuple[int, Any]:
        """
        Dispatch a control request; returns ``(HTTP status, JSON-able result)``.

        :param method: HTTP method.
        :param route: Path below ``/_local/``.
        :param payload: JSON body.
        :param query: Query parameters.
        """
        if route == "health":
            return 200, {
                "status": "ok",
                "pid": os.getpid(),
                "uptime": round(time.time() - self.started, 3),
                "config": self.config.as_dict(),
            }
        if route == "config":
            if method == "POST":
                self.config.update(payload)
            return 200, self.config.as_dict()
        if route == "rules":
            if method == "POST":
                return 200, self.rules.add(**payload).as_dict()
            if method == "DELETE":
                self.rules.clear()
            return 200, self.rules.as_list()
        if route == "faults":
            if method == "POST":
                self.faults.set_faults(**payload)
            elif method == "DELETE":
                self.faults.clear()
            return 200, self.faults.snapshot()
        if route == "fail_next" and method == "POST":
            if "operation" not in payload:
                raise ControlError("fail_next needs 'operation'")
            self.faults.fail_next(**payload)
            return 200, self.faults.snapshot()
        if route == "clock":
            return 200, self._clock(method, payload)
        if route == "stats":
            return 200, self.simulator.stats()
        if route == "requests":
            if method == "DELETE":
                self.request_log.clear()
                return 200, []
            return 200, self.request_log.query(
                operation=query.get("operation"), service=query.get("service"), name=query.get("name")
            )
        if route == "jobs":
            with self.simulator.lock:
                return 200, self.simulator.snapshot()
        if route == "jobs/force" and method == "POST":
            if "name" not in payload or "status" not in payload:
                raise ControlError("jobs/force needs 'name' and 'status'")
            with self.simulator.lock:
                self.simulator.force(
                    str(payload.get("kind", "training")),
                    str(payload["name"]),
                    str(payload["status"]),
                    failure_reason=payload.get("failure_reason"),
                    secondary_status=payload.get("secondary_status"),
                    account_id=payload.get("account_id"),
                    region=payload.get("region"),
                )
                return 200, self.simulator.snapshot()
        if route.startswith("mlflow/") or route == "mlflow_runs":
            return self._mlflow(method, route, payload, query)
        if route == "model_packages/register" and method == "POST":
            return 200, self._register_model_package(payload)
        if route == "reset" and method == "POST":
            with self.simulator.lock:
                self.reset_moto()
            self.rules.clear()
            self.faults.clear()
            self.request_log.clear()
            self.config.update(self.defaults.as_dict())
            return 200, {"status": "reset", "config": self.config.as_dict()}
        if route == "shutdown" and method == "POST" and self.shutdown is not None:
            self.shutdown()
            return 200, {"status": "shutting down"}
        raise ControlError(f"no control endpoint {method} {CONTROL_PREFIX}{route}", status=404)

    def _mlflow(
        self, method: str, route: str, payload: dict[str, Any], query: dict[str, str]
    ) -> tuple[int, Any]:
        """MLflow behind presigned URLs (``mlflow/<app id>/...``) and run recording (``mlflow_runs``)."""
        from airflow_provider_smtrain.testing.services.mlflow import tracking

        with self.simulator.lock:
            apps: Any = self.simulator.service("mlflow_app")
            if route == "mlflow_runs" and method == "POST":
                run = tracking.record_run(
                    apps, str(payload["app_arn"]), str(payload["experiment_name"]), payload.get("run_name")
                )
                return 200, run
            return tracking.handle(apps, method, route.split("/", 1)[1], payload, query)

    def _register_model_package(self, payload: dict[str, Any]) -> dict[str, Any]:
        """``/_local/model_packages/register``: a new version in a group, as a completed fine-tuning job makes."""
        from moto.core import DEFAULT_ACCOUNT_ID

        from airflow_provider_smtrain.testing.services.model_registry import register_model_package

        fields = dict(payload)
        account_id = str(fields.pop("account_id", None) or DEFAULT_ACCOUNT_ID)
        region = str(fields.pop("region"))
        group = str(fields.pop("group"))
        with self.simulator.lock:
            try:
                arn = register_model_package(account_id, region, group, **fields)
            except Exception as err:  # moto's ValidationException for a missing group
                raise ControlError(f"cannot register a model package in {group!r}: {err}") from None
        return {"ModelPackageArn": arn}

    def _clock(self, method: str, payload: dict[str, Any]) -> dict[str, Any]:
        """
        ``/_local/clock``: show the clock, or freeze / advance / resume it.

        :param method: HTTP method.
        :param payload: ``{"action": "freeze"|"advance"|"resume", "seconds": float}``.
        """
        clock = self.simulator.clock
        if method == "POST":
            action = payload.get("action")
            if action == "freeze":
                clock.freeze()
            elif action == "advance":
                clock.advance(float(payload.get("seconds", 0)))
            elif action == "resume":
                clock.resume()
            else:
                raise ControlError(f"clock action must be freeze, advance or resume; got {action!r}")
        return clock.as_dict()

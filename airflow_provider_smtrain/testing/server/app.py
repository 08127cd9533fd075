"""
The LocalSageMaker server process: moto (server mode, patched) behind our middleware on a loopback port.

Run it with ``python -m airflow_provider_smtrain.testing serve --port 0 --port-file PATH``.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

from airflow_provider_smtrain.testing.config import DEFAULT_HOST, ServerConfig, ensure_loopback

log = logging.getLogger(__name__)


@dataclass
class ServerParts:
    """
    The assembled server: WSGI app plus its collaborators (useful in-process, e.g. for debugging).

    :param app: The outer WSGI application.
    :param simulator: Job simulator.
    :param config: Live config.
    """

    app: Any
    simulator: Any
    config: ServerConfig


def build_app(config: ServerConfig, shutdown: Any = None) -> ServerParts:
    """
    Patch moto and assemble the WSGI application.

    :param config: Startup config (also what ``reset`` restores).
    :param shutdown: Callable stopping the server, exposed as ``POST /_local/shutdown``.
    """
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    from airflow_provider_smtrain.testing import moto_support
    from airflow_provider_smtrain.testing.engine.rules import RuleBook
    from airflow_provider_smtrain.testing.engine.simulator import Simulator, activate
    from airflow_provider_smtrain.testing.server.control_api import ControlAPI
    from airflow_provider_smtrain.testing.server.faults import FaultInjector
    from airflow_provider_smtrain.testing.server.requests_log import RequestLog
    from airflow_provider_smtrain.testing.server.router import Router
    from airflow_provider_smtrain.testing.services import agentcore, artifacts, bedrock, iam, model_registry
    from airflow_provider_smtrain.testing.services.agent_rft import patches as agent_rft_patches
    from airflow_provider_smtrain.testing.services.agent_rft.service import AgentRFTService
    from airflow_provider_smtrain.testing.services.awslambda import invoke as lambda_invoke
    from airflow_provider_smtrain.testing.services.endpoints import patches as endpoint_patches
    from airflow_provider_smtrain.testing.services.endpoints.store import EndpointStore
    from airflow_provider_smtrain.testing.services.hub import patches as hub_patches
    from airflow_provider_smtrain.testing.services.hub.store import HubStore
    from airflow_provider_smtrain.testing.services.mlflow import patches as mlflow_patches
    from airflow_provider_smtrain.testing.services.mlflow.apps import MlflowApps
    from airflow_provider_smtrain.testing.services.pipelines import patches as pipeline_patches
    from airflow_provider_smtrain.testing.services.pipelines.service import PipelineExecutions
    from airflow_provider_smtrain.testing.services.training import patches as training_patches
    from airflow_provider_smtrain.testing.services.training import script_runner
    from airflow_provider_smtrain.testing.services.training.lifecycle import TrainingService
    from airflow_provider_smtrain.testing.services.tuning import patches as tuning_patches
    from airflow_provider_smtrain.testing.services.tuning.lifecycle import TuningService

    live = config.copy()
    faults = FaultInjector()
    request_log = RequestLog()
    simulator = Simulator(live, RuleBook())
    training = TrainingService(simulator)
    simulator.register(training)
    simulator.register(TuningService(simulator, training))
    simulator.register(AgentRFTService(simulator))
    simulator.register(HubStore(simulator))
    simulator.register(MlflowApps(simulator))
    simulator.register(EndpointStore(simulator))
    simulator.register(PipelineExecutions(simulator))
    activate(simulator)
    training_patches.install()
    tuning_patches.install()
    agent_rft_patches.install()
    lambda_invoke.install()
    iam.install()
    agentcore.install()
    hub_patches.install()
    model_registry.install()
    mlflow_patches.install()
    endpoint_patches.install()
    pipeline_patches.install()
    artifacts.install()
    bedrock.install()
    script_runner.install(training)

    def reset_moto() -> None:
        simulator.clear()
        moto_support.reset_all_backends()

    control = ControlAPI(
        config=live,
        defaults=config.copy(),
        simulator=simulator,
        faults=faults,
        request_log=request_log,
        reset_moto=reset_moto,
        shutdown=shutdown,
    )
    moto_app = DomainDispatcherApplication(create_backend_app)
    app = Router(moto_app, control, simulator, faults, request_log)
    return ServerParts(app=app, simulator=simulator, config=live)


def serve(
    host: str = DEFAULT_HOST,
    port: int = 0,
    port_file: str | None = None,
    config: ServerConfig | None = None,
    parent_pid: int | None = None,
    verbose: bool = False,
) -> None:
    """
    Serve until SIGTERM/SIGINT, ``POST /_local/shutdown``, or death of ``parent_pid``.

    :param host: Loopback address to bind (anything else is refused).
    :param port: TCP port; 0 picks a free one.
    :param port_file: Write the bound port here (atomically) once listening.
    :param config: Startup config.
    :param parent_pid: Exit when this process is gone (orphan protection for test runs).
    :param verbose: Log every request to stderr.
    """
    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from werkzeug.serving import make_server

    host = ensure_loopback(host)
    config = config or ServerConfig()
    holder: dict[str, Any] = {}

    def shutdown() -> None:
        server = holder.get("server")
        if server is not None:
            threading.Thread(target=server.shutdown, daemon=True).start()

    parts = build_app(config, shutdown=shutdown)

    class _Handler(MotoRequestHandler):
        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            if verbose:
                super().log_request(code, size)

    server = make_server(host, port, parts.app, threaded=True, request_handler=_Handler)
    holder["server"] = server
    bound_port = server.server_port
    url_host = f"[{host}]" if ":" in host else host
    parts.simulator.endpoint_url = f"http://{url_host}:{bound_port}"
    if port_file:
        tmp = f"{port_file}.tmp{os.getpid()}"
        with open(tmp, "w") as fh:
            fh.write(str(bound_port))
        os.replace(tmp, port_file)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: shutdown())
    if parent_pid:
        threading.Thread(target=_watch_parent, args=(parent_pid, shutdown), daemon=True).start()
    print(f"LocalSageMaker listening on {parts.simulator.endpoint_url}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        with parts.simulator.lock:
            parts.simulator.clear()
        server.server_close()


def _watch_parent(parent_pid: int, shutdown: Any) -> None:
    while True:
        time.sleep(0.5)
        try:
            os.kill(parent_pid, 0)
        except ProcessLookupError:
            shutdown()
            return
        except PermissionError:
            pass


def main(argv: list[str] | None = None) -> int:
    """
    Command line entry point (``python -m airflow_provider_smtrain.testing serve ...``).

    :param argv: Arguments (default ``sys.argv[1:]``).
    """
    parser = argparse.ArgumentParser(prog="python -m airflow_provider_smtrain.testing")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("serve", help="run the local SageMaker (moto) server")
    p.add_argument("--host", default=DEFAULT_HOST, help="loopback address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=0, help="port, 0 = any free port")
    p.add_argument("--port-file", help="write the chosen port to this file")
    defaults = ServerConfig()
    p.add_argument("--training-seconds", type=float, default=defaults.training_seconds)
    p.add_argument("--tuning-seconds", type=float, default=defaults.tuning_seconds)
    p.add_argument("--stop-seconds", type=float, default=defaults.stop_seconds)
    p.add_argument("--run-scripts", action="store_true", help="run SourceCode entry scripts for real")
    p.add_argument("--script-timeout-seconds", type=float, default=defaults.script_timeout_seconds)
    p.add_argument("--parent-pid", type=int, help="exit when this process dies")
    p.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    try:
        host = ensure_loopback(args.host)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    config = ServerConfig()
    config.update(
        {
            "training_seconds": args.training_seconds,
            "tuning_seconds": args.tuning_seconds,
            "stop_seconds": args.stop_seconds,
            "run_scripts": args.run_scripts,
            "script_timeout_seconds": args.script_timeout_seconds,
        }
    )
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    serve(host, args.port, args.port_file, config, args.parent_pid, args.verbose)
    return 0

"""Start, stop or attach the LocalSageMaker server process, and talk to its control API (standard library only)."""

from __future__ import annotations

import atexit
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlencode, urlsplit

from airflow_provider_smtrain.testing.config import (
    DEFAULT_HOST,
    DEFAULT_REGION,
    DEFAULT_STOP_SECONDS,
    DEFAULT_TRAINING_SECONDS,
    DEFAULT_TUNING_SECONDS,
    ensure_loopback,
)

DEFAULT_ACCESS_KEY_ID = "AKIALOCALSAGEMAKER"
DEFAULT_SECRET_ACCESS_KEY = "local-secret"


class LocalSageMakerError(RuntimeError):
    """The server could not be started or a control call failed."""


class Launcher:
    """
    The lifecycle part of :class:`~airflow_provider_smtrain.testing.client.LocalSageMaker`.

    Use as a context manager: ``with LocalSageMaker() as sm: ...`` starts
    ``python -m airflow_provider_smtrain.testing serve`` on a free loopback port, waits until it is
    healthy, and stops it on exit (and at interpreter exit). Point every AWS client at
    :attr:`endpoint_url`.

    :param region: Region the helpers and :meth:`aws_env` use.
    :param training_seconds: Default duration of training jobs (restored by :meth:`reset`).
    :param tuning_seconds: Default duration of tuning jobs (restored by :meth:`reset`).
    :param stop_seconds: Time a job stays ``Stopping`` (restored by :meth:`reset`).
    :param run_scripts: Run ``SourceCode`` entry scripts of training jobs for real.
    :param host: Loopback address to bind.
    :param port: Port, 0 = any free port.
    :param startup_timeout: Seconds to wait for the server to become healthy.
    :param python: Interpreter for the server process (default: this one).
    :param verbose: Let the server log every request (to its log file).
    """

    def __init__(
        self,
        region: str = DEFAULT_REGION,
        training_seconds: float = DEFAULT_TRAINING_SECONDS,
        tuning_seconds: float = DEFAULT_TUNING_SECONDS,
        stop_seconds: float = DEFAULT_STOP_SECONDS,
        run_scripts: bool = False,
        host: str = DEFAULT_HOST,
        port: int = 0,
        startup_timeout: float = 15.0,
        python: str | None = None,
        verbose: bool = False,
    ) -> None:
        self.region = region
        self.host = ensure_loopback(host)
        self.training_seconds = training_seconds
        self.tuning_seconds = tuning_seconds
        self.stop_seconds = stop_seconds
        self.run_scripts = run_scripts
        self.requested_port = port
        self.startup_timeout = startup_timeout
        self.python = python or sys.executable
        self.verbose = verbose
        self.port: int | None = None
        self.log_path: str | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._tmpdir: tempfile.TemporaryDirectory[str] | None = None
        self._attached_url: str | None = None
        #: Output of the last server process started by this object (filled by :meth:`stop`).
        self.last_log = ""
        self._boto3_session: Any = None
        self._clients: dict[tuple[str, ...], Any] = {}

    # ------------------------------------------------------------------------------ lifecycle

    @classmethod
    def attach(cls, endpoint_url: str, region: str = DEFAULT_REGION) -> Self:
        """
        Control an already running server (not started nor stopped by this object).

        :param endpoint_url: ``http://127.0.0.1:PORT`` of the server.
        :param region: Region for the helpers and :meth:`aws_env`.
        """
        parts = urlsplit(endpoint_url)
        if parts.hostname is None or parts.port is None:
            raise ValueError(f"endpoint_url must look like http://127.0.0.1:PORT, got {endpoint_url!r}")
        sm = cls(region=region, host=parts.hostname, port=parts.port)
        sm.port = parts.port
        host = f"[{sm.host}]" if ":" in sm.host else sm.host
        sm._attached_url = f"http://{host}:{parts.port}"
        sm.health()
        return sm

    @property
    def endpoint_url(self) -> str:
        """``http://127.0.0.1:PORT`` of the running server."""
        if self._attached_url:
            return self._attached_url
        if self.port is None:
            raise LocalSageMakerError("server not started; use start() or a with-block")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def running(self) -> bool:
        """Whether a server started by this object is alive."""
        return self._process is not None and self._process.poll() is None

    def start(self) -> Self:
        """Start the server subprocess and wait until ``/_local/health`` answers."""
        if self._attached_url or self.running:
            return self
        self._tmpdir = tempfile.TemporaryDirectory(prefix="local-sagemaker-")
        port_file = os.path.join(self._tmpdir.name, "port")
        self.log_path = os.path.join(self._tmpdir.name, "server.log")
        cmd = [
            self.python,
            "-m",
            "airflow_provider_smtrain.testing",
            "serve",
            "--host",
            self.host,
            "--port",
            str(self.requested_port),
            "--port-file",
            port_file,
            "--training-seconds",
            str(self.training_seconds),
            "--tuning-seconds",
            str(self.tuning_seconds),
            "--stop-seconds",
            str(self.stop_seconds),
            "--parent-pid",
            str(os.getpid()),
        ]
        if self.run_scripts:
            cmd.append("--run-scripts")
        if self.verbose:
            cmd.append("--verbose")
        env = dict(os.environ)
        env.setdefault("PYTHONUNBUFFERED", "1")
        with open(self.log_path, "wb") as log_file:
            self._process = subprocess.Popen(
                cmd, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env
            )
        atexit.register(self.stop)
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise LocalSageMakerError(
                    f"server exited with {self._process.returncode}:\n{self._log_tail()}"
                )
            if os.path.exists(port_file):
                with open(port_file) as fh:
                    self.port = int(fh.read().strip())
                try:
                    self.health()
                    return self
                except (LocalSageMakerError, OSError):
                    pass
            time.sleep(0.05)
        self.stop()
        raise LocalSageMakerError(f"server not healthy after {self.startup_timeout}s:\n{self._log_tail()}")

    def stop(self) -> None:
        """Stop the server subprocess (no-op when attached or already stopped)."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        if self._tmpdir is not None and process is not None:
            try:
                with open(os.path.join(self._tmpdir.name, "server.log"), "rb") as fh:
                    self.last_log = fh.read().decode("utf-8", "replace")
            except OSError:
                pass
            self._tmpdir.cleanup()
            self._tmpdir = None
        try:
            atexit.unregister(self.stop)
        except Exception:  # pragma: no cover - interpreter shutdown
            pass

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _log_tail(self, limit: int = 4000) -> str:
        if not self.log_path or not os.path.exists(self.log_path):
            return ""
        with open(self.log_path, "rb") as fh:
            return fh.read()[-limit:].decode("utf-8", "replace")

    # ------------------------------------------------------------------------------ control API

    def _control(
        self,
        method: str,
        route: str,
        payload: dict[str, Any] | None = None,
        query: dict[str, str | None] | None = None,
    ) -> Any:
        """
        Call the control API; return the decoded JSON answer.

        :param method: HTTP method.
        :param route: Path below ``/_local/``.
        :param payload: JSON body.
        :param query: Query parameters (``None`` values are left out).
        """
        url = f"{self.endpoint_url}/_local/{route}"
        if query:
            url += "?" + urlencode({k: v for k, v in query.items() if v is not None})
        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(url, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via a proxy
        try:
            with opener.open(request, timeout=30) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as err:
            detail = err.read().decode("utf-8", "replace")
            raise LocalSageMakerError(f"{method} /_local/{route} -> {err.code}: {detail}") from None

    def health(self) -> dict[str, Any]:
        """Return ``{"status": "ok", "pid", "config", ...}``."""
        result: dict[str, Any] = self._control("GET", "health")
        return result

    def __repr__(self) -> str:
        where = self._attached_url or (self.endpoint_url if self.port else "not started")
        return f"LocalSageMaker({where}, region={self.region!r})"

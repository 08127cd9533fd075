"""
Launcher and control client for the LocalSageMaker server (standard library only at import time).

boto3 is imported lazily, only by the S3/IAM convenience helpers.
"""

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
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

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


class LocalSageMaker:
    """
    A moto-based SageMaker (plus S3, IAM, STS, CloudWatch Logs, ...) server in its own process.

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
    def attach(cls, endpoint_url: str, region: str = DEFAULT_REGION) -> LocalSageMaker:
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

    def start(self) -> LocalSageMaker:
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
                raise LocalSageMakerError(f"server exited with {self._process.returncode}:\n{self._log_tail()}")
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

    def __enter__(self) -> LocalSageMaker:
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

    def _control(self, method: str, route: str, payload: dict[str, Any] | None = None,
                 query: dict[str, str] | None = None) -> Any:
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

    def configure(
        self,
        training_seconds: float | None = None,
        tuning_seconds: float | None = None,
        stop_seconds: float | None = None,
        run_scripts: bool | None = None,
        script_timeout_seconds: float | None = None,
    ) -> dict[str, Any]:
        """
        Change server settings (``None`` = unchanged); returns the config. :meth:`reset` restores defaults.

        :param training_seconds: Duration of new training jobs.
        :param tuning_seconds: Duration of new tuning jobs.
        :param stop_seconds: Time a stopped job stays ``Stopping``.
        :param run_scripts: Run ``SourceCode`` entry scripts of new training jobs for real.
        :param script_timeout_seconds: Timeout of one script run.
        """
        payload = {
            "training_seconds": training_seconds,
            "tuning_seconds": tuning_seconds,
            "stop_seconds": stop_seconds,
            "run_scripts": run_scripts,
            "script_timeout_seconds": script_timeout_seconds,
        }
        result: dict[str, Any] = self._control("POST", "config", {k: v for k, v in payload.items() if v is not None})
        return result

    def add_rule(
        self,
        kind: str = "training",
        name_glob: str = "*",
        outcome: str | None = "Failed",
        failure_reason: str | None = None,
        seconds: float | None = None,
        times: int | None = None,
    ) -> dict[str, Any]:
        """
        Make new jobs whose name matches ``name_glob`` end differently. First matching rule wins.

        :param kind: ``training`` (also matches tuning children) or ``tuning``.
        :param name_glob: ``fnmatch`` pattern on the job name.
        :param outcome: ``Failed``, ``Completed`` or ``None`` (only change the duration).
        :param failure_reason: FailureReason of failed jobs.
        :param seconds: Duration override.
        :param times: Apply to at most this many jobs.
        """
        result: dict[str, Any] = self._control(
            "POST",
            "rules",
            {
                "kind": kind,
                "name_glob": name_glob,
                "outcome": outcome,
                "failure_reason": failure_reason,
                "seconds": seconds,
                "times": times,
            },
        )
        return result

    def rules(self) -> list[dict[str, Any]]:
        """Return the outcome rules with their match counts."""
        result: list[dict[str, Any]] = self._control("GET", "rules")
        return result

    def clear_rules(self) -> None:
        """Remove every outcome rule."""
        self._control("DELETE", "rules")

    def set_faults(
        self,
        throttle_rate: float = 0.0,
        error_5xx_rate: float = 0.0,
        latency_ms: float = 0,
        operations: list[str] | None = None,
        seed: int | None = None,
    ) -> dict[str, Any]:
        """
        Inject random faults into SageMaker API calls (replaces previous settings).

        :param throttle_rate: Probability of ``ThrottlingException`` (HTTP 400).
        :param error_5xx_rate: Probability of HTTP 500 ``InternalFailure`` / 503 ``ServiceUnavailable``.
        :param latency_ms: Latency added to each matching call.
        :param operations: Only these operations (default: all SageMaker operations).
        :param seed: Random seed, for reproducible fault sequences.
        """
        result: dict[str, Any] = self._control(
            "POST",
            "faults",
            {
                "throttle_rate": throttle_rate,
                "error_5xx_rate": error_5xx_rate,
                "latency_ms": latency_ms,
                "operations": list(operations) if operations is not None else None,
                "seed": seed,
            },
        )
        return result

    def clear_faults(self) -> None:
        """Remove random faults and pending :meth:`fail_next` errors."""
        self._control("DELETE", "faults")

    def fail_next(
        self,
        operation: str,
        code: str = "AccessDeniedException",
        status: int = 400,
        count: int = 1,
        message: str = "",
    ) -> dict[str, Any]:
        """
        Fail the next ``count`` calls of ``operation`` (any JSON/query service) with an error response.

        :param operation: Operation name, e.g. ``DescribeTrainingJob``.
        :param code: Error code.
        :param status: HTTP status.
        :param count: Number of calls to fail.
        :param message: Error message.
        """
        result: dict[str, Any] = self._control(
            "POST",
            "fail_next",
            {"operation": operation, "code": code, "status": status, "count": count, "message": message},
        )
        return result

    def requests(self, operation: str | None = None, service: str | None = None) -> list[dict[str, Any]]:
        """
        Request log, oldest first; each entry has ``service``, ``operation``, ``access_key_id``,
        ``status_code``, ``fault`` (None, ``throttle``, ``5xx`` or ``fail_next``), ``time`` and more.

        :param operation: Only this operation (e.g. ``CreateTrainingJob``).
        :param service: Only this signing service (e.g. ``sagemaker``, ``s3``, ``iam``, ``logs``).
        """
        result: list[dict[str, Any]] = self._control(
            "GET", "requests", query={"operation": operation, "service": service}  # type: ignore[dict-item]
        )
        return result

    def clear_requests(self) -> None:
        """Empty the request log."""
        self._control("DELETE", "requests")

    def jobs(self) -> dict[str, Any]:
        """Simulated training and tuning jobs (debugging aid)."""
        result: dict[str, Any] = self._control("GET", "jobs")
        return result

    def reset(self) -> None:
        """Clear all moto state, rules, faults and the request log; restore the startup config."""
        self._control("POST", "reset")

    def shutdown(self) -> None:
        """Ask the server to exit (works for attached servers too)."""
        self._control("POST", "shutdown")

    # ------------------------------------------------------------------------------ client config

    def aws_env(
        self, access_key_id: str = DEFAULT_ACCESS_KEY_ID, secret_access_key: str = DEFAULT_SECRET_ACCESS_KEY
    ) -> dict[str, str]:
        """
        Environment variables pointing boto3/botocore (and the SageMaker SDK) at this server.

        :param access_key_id: Access key id to sign with (shows up in :meth:`requests`).
        :param secret_access_key: Secret key.
        """
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": access_key_id,
            "AWS_SECRET_ACCESS_KEY": secret_access_key,
            "AWS_DEFAULT_REGION": self.region,
        }

    def airflow_connection_extra(self) -> dict[str, Any]:
        """``extra`` of an Airflow ``aws`` connection to this server."""
        return {"endpoint_url": self.endpoint_url, "region_name": self.region}

    def airflow_connection_uri(
        self, access_key_id: str = DEFAULT_ACCESS_KEY_ID, secret_access_key: str = DEFAULT_SECRET_ACCESS_KEY
    ) -> str:
        """
        Airflow ``aws`` connection URI (e.g. for ``AIRFLOW_CONN_<ID>``) with endpoint_url/region_name extras.

        :param access_key_id: Connection login (access key id).
        :param secret_access_key: Connection password (secret key).
        """
        login = quote(access_key_id, safe="")
        password = quote(secret_access_key, safe="")
        extra = urlencode({"__extra__": json.dumps(self.airflow_connection_extra())})
        return f"aws://{login}:{password}@/?{extra}"

    def airflow_connection_json(
        self, access_key_id: str = DEFAULT_ACCESS_KEY_ID, secret_access_key: str = DEFAULT_SECRET_ACCESS_KEY
    ) -> str:
        """
        Airflow ``aws`` connection in the JSON form accepted by ``AIRFLOW_CONN_<ID>``.

        :param access_key_id: Connection login (access key id).
        :param secret_access_key: Connection password (secret key).
        """
        return json.dumps(
            {
                "conn_type": "aws",
                "login": access_key_id,
                "password": secret_access_key,
                "extra": self.airflow_connection_extra(),
            }
        )

    def boto3_client(
        self,
        service: str,
        access_key_id: str = DEFAULT_ACCESS_KEY_ID,
        secret_access_key: str = DEFAULT_SECRET_ACCESS_KEY,
        **config: Any,
    ) -> Any:
        """
        A (cached) boto3 client for ``service`` pointed at this server (boto3 imported lazily).

        :param service: Service name, e.g. ``sagemaker``.
        :param access_key_id: Access key id to sign with.
        :param secret_access_key: Secret key.
        :param config: ``botocore.config.Config`` keyword arguments (e.g. ``retries``).
        """
        import boto3
        from botocore.config import Config

        cache_key = (service, self.endpoint_url, access_key_id, secret_access_key, repr(sorted(config.items())))
        client = self._clients.get(cache_key)
        if client is None:
            if self._boto3_session is None:
                self._boto3_session = boto3.session.Session()
            client = self._boto3_session.client(
                service,
                region_name=self.region,
                endpoint_url=self.endpoint_url,
                aws_access_key_id=access_key_id,
                aws_secret_access_key=secret_access_key,
                config=Config(**config) if config else None,
            )
            self._clients[cache_key] = client
        return client

    # ------------------------------------------------------------------------------ conveniences

    def create_bucket(self, name: str) -> None:
        """
        Create an S3 bucket (in :attr:`region`).

        :param name: Bucket name.
        """
        kwargs: dict[str, Any] = {"Bucket": name}
        if self.region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        self.boto3_client("s3").create_bucket(**kwargs)

    def put_object(self, bucket: str, key: str, body: bytes | str) -> None:
        """
        Upload an object.

        :param bucket: Bucket name.
        :param key: Object key.
        :param body: Content (str is UTF-8 encoded).
        """
        data = body.encode() if isinstance(body, str) else body
        self.boto3_client("s3").put_object(Bucket=bucket, Key=key, Body=data)

    def get_object(self, bucket: str, key: str) -> bytes:
        """
        Download an object.

        :param bucket: Bucket name.
        :param key: Object key.
        """
        data: bytes = self.boto3_client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
        return data

    def create_role(self, name: str, service: str = "sagemaker.amazonaws.com") -> str:
        """
        Create an IAM role trusted by ``service`` and return its ARN.

        :param name: Role name.
        :param service: Service principal of the trust policy.
        """
        policy = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
        }
        role = self.boto3_client("iam").create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(policy))
        arn: str = role["Role"]["Arn"]
        return arn

    def __repr__(self) -> str:
        where = self._attached_url or (self.endpoint_url if self.port else "not started")
        return f"LocalSageMaker({where}, region={self.region!r})"

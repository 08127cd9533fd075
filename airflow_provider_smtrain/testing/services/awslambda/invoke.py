"""
Lambda ``Invoke`` that runs the function's Python handler locally (server process only; idempotent patch).

moto stores ``CreateFunction``'s zip but runs it only in Docker. Here the zip is unpacked into a temporary
directory and ``handler(event, context)`` runs in a child Python process (:mod:`.bootstrap`) with the
function's ``Timeout`` (real seconds), its ``Environment`` variables, ``AWS_ENDPOINT_URL`` pointing at
this server and a local access key, never the server's own environment. The answer is Lambda's: the JSON
payload, or for an exception, a timeout or a bad return value, the runtime's error object with
``X-Amz-Function-Error: Unhandled``; ``X-Amz-Log-Result`` carries the tail of the log (``LogType=Tail``),
and the log also goes to CloudWatch ``/aws/lambda/<function>``. The simulator lock is released while the
handler runs, so a handler may call this server.
"""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from moto.awslambda.exceptions import InvalidParameterValueException, LambdaClientError
from moto.awslambda.models import LambdaFunction

from airflow_provider_smtrain.testing import moto_support
from airflow_provider_smtrain.testing.engine.simulator import active

BOOTSTRAP = Path(__file__).with_name("bootstrap.py")
#: The access key a handler's own AWS calls are signed with (its execution role, locally).
FUNCTION_ACCESS_KEY_ID = "AKIALOCALLAMBDAROLE"
_LOG_TAIL_BYTES = 4096


def install() -> None:
    """Replace moto's Docker-based ``LambdaFunction.invoke`` (once per process)."""
    moto_support.patch_once(LambdaFunction, "invoke", lambda _: invoke)


def invoke(fn: Any, body: Any, request_headers: Any, response_headers: dict[str, str]) -> bytes:
    """
    Run the function once; return the response payload and set Lambda's response headers.

    :param fn: moto's ``LambdaFunction``.
    :param body: The request body (the event, JSON).
    :param request_headers: The request headers (``X-Amz-Invocation-Type``, ``X-Amz-Log-Type``).
    :param response_headers: Headers of the response, filled in here.
    """
    try:
        event = json.loads(body) if body else {}
    except ValueError:
        raise LambdaClientError("InvalidRequestContentException", "Could not parse request body into json") from None
    if fn.run_time and not str(fn.run_time).startswith("python"):
        raise InvalidParameterValueException(f"LocalSageMaker runs Python functions only, not {fn.run_time}")
    invocation = _header(request_headers, "X-Amz-Invocation-Type") or "RequestResponse"
    response_headers["x-amz-executed-version"] = "$LATEST"
    if invocation == "DryRun":
        return b""
    simulator = active()
    spec = _spec(fn, simulator.endpoint_url)
    if invocation == "Event":
        threading.Thread(target=run_handler, args=(spec, event), daemon=True).start()
        return b""
    with _released(simulator.lock):
        outcome = run_handler(spec, event)
    if not outcome.ok:
        response_headers["x-amz-function-error"] = "Unhandled"
    response_headers["x-amz-log-result"] = base64.b64encode(outcome.log_tail()).decode()
    return outcome.payload


class Outcome:
    """
    One handler run.

    :param ok: The handler returned a JSON-serialisable value.
    :param payload: The response payload (the value, or the runtime's error object), JSON bytes.
    :param log: The run's log: START, what the handler printed, END, REPORT.
    """

    def __init__(self, ok: bool, payload: bytes, log: str) -> None:
        self.ok = ok
        self.payload = payload
        self.log = log

    def log_tail(self) -> bytes:
        """The last 4 KB of the log (what ``LogType=Tail`` returns)."""
        return self.log.encode()[-_LOG_TAIL_BYTES:]


def run_handler(spec: dict[str, Any], event: Any) -> Outcome:
    """
    Unzip the code and run the handler in a child process with the function's timeout.

    :param spec: What :func:`_spec` read from the function (taken under the simulator lock).
    :param event: The decoded event.
    """
    request_id = str(uuid.uuid4())
    started = time.time()
    timeout = float(spec["timeout"])
    with tempfile.TemporaryDirectory(prefix="local-lambda-") as tmp:
        code_dir = os.path.join(tmp, "task")
        with zipfile.ZipFile(io.BytesIO(spec["code"])) as archive:
            archive.extractall(code_dir)
        event_file, result_file = os.path.join(tmp, "event.json"), os.path.join(tmp, "result.json")
        with open(event_file, "w", encoding="utf-8") as fh:
            json.dump(event, fh)
        context = {**spec["context"], "aws_request_id": request_id, "deadline_ms": (started + timeout) * 1000}
        command = [sys.executable, "-I", str(BOOTSTRAP), code_dir, spec["handler"], event_file, result_file,
                   json.dumps(context)]
        try:
            proc = subprocess.run(command, env=spec["env"], cwd=code_dir, capture_output=True, timeout=timeout,
                                  check=False)
            printed = (proc.stdout + proc.stderr).decode("utf-8", "replace")
            result = _read_result(result_file, proc.returncode)
        except subprocess.TimeoutExpired as expired:
            printed = ((expired.stdout or b"") + (expired.stderr or b"")).decode("utf-8", "replace")
            result = {"ok": False, "errorType": "Sandbox.Timedout",
                      "errorMessage": f"RequestId: {request_id} Error: Task timed out after {timeout:.2f} seconds"}
    duration_ms = (time.time() - started) * 1000
    log = (
        f"START RequestId: {request_id} Version: $LATEST\n{printed}"
        f"END RequestId: {request_id}\n"
        f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
        f"Memory Size: {spec['context']['memory_limit_in_mb']} MB\n"
    )
    _to_cloudwatch(spec, started, log)
    if result.get("ok"):
        return Outcome(True, str(result["payload"]).encode(), log)
    error = {key: result[key] for key in ("errorMessage", "errorType", "stackTrace") if result.get(key) is not None}
    if "stackTrace" in error and not error["stackTrace"]:
        del error["stackTrace"]
    return Outcome(False, json.dumps({**error, "requestId": request_id}).encode(), log)


def _read_result(result_file: str, returncode: int) -> dict[str, Any]:
    try:
        with open(result_file, encoding="utf-8") as fh:
            result: dict[str, Any] = json.load(fh)
            return result
    except (OSError, ValueError):
        return {"ok": False, "errorType": "Runtime.ExitError",
                "errorMessage": f"Runtime exited with error: exit status {returncode}"}


def _spec(fn: Any, endpoint_url: str | None) -> dict[str, Any]:
    """Everything a run needs from the moto function (read under the lock, used without it)."""
    region = fn.region
    stream = f"{datetime.now(UTC):%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}"
    memory = int(fn.memory_size or 128)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "TZ": ":UTC",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_ACCESS_KEY_ID": FUNCTION_ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": "local-lambda-secret",
        "AWS_SESSION_TOKEN": "local-lambda-session",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_LAMBDA_FUNCTION_NAME": fn.function_name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{fn.function_name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": stream,
        "LAMBDA_TASK_ROOT": "/var/task",
        **({"AWS_ENDPOINT_URL": endpoint_url} if endpoint_url else {}),
        **{str(k): str(v) for k, v in (fn.environment_vars or {}).items()},
    }
    return {
        "code": bytes(fn.code_bytes),
        "handler": str(fn.handler or "lambda_function.lambda_handler"),
        "timeout": float(fn.timeout or 3),
        "env": env,
        "account_id": fn.account_id,
        "region": region,
        "context": {
            "function_name": fn.function_name,
            "function_version": "$LATEST",
            "invoked_function_arn": fn.function_arn,
            "memory_limit_in_mb": memory,
            "log_group_name": env["AWS_LAMBDA_LOG_GROUP_NAME"],
            "log_stream_name": stream,
        },
    }


def _to_cloudwatch(spec: dict[str, Any], started: float, log: str) -> None:
    context = spec["context"]
    lines = [(started, line) for line in log.splitlines() if line]
    simulator = active()
    with simulator.lock:
        moto_support.append_log_events(
            spec["account_id"], spec["region"], context["log_group_name"], context["log_stream_name"], lines
        )


def _header(headers: Any, name: str) -> str | None:
    value = headers.get(name) if hasattr(headers, "get") else None
    if value is None and hasattr(headers, "get"):
        value = headers.get(name.lower())
    return None if value is None else str(value)


@contextmanager
def _released(lock: Any) -> Iterator[None]:
    """Release the (re-entrant) simulator lock held by this request for the duration of the block."""
    try:
        lock.release()
    except RuntimeError:  # not held by this thread
        yield
        return
    try:
        yield
    finally:
        lock.acquire()


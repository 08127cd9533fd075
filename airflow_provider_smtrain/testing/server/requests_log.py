"""Request log: who (which access key) called what, and what happened (standard library only)."""

from __future__ import annotations

import collections
import itertools
import json
import re
import threading
import time
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import parse_qs, unquote

_CREDENTIAL_RE = re.compile(r"Credential=([^/,\s]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request")

#: Best-effort S3 operation names for path-style REST calls: (method, has_key) -> name.
_S3_OPERATIONS = {
    ("GET", False): "ListObjects",
    ("PUT", False): "CreateBucket",
    ("HEAD", False): "HeadBucket",
    ("DELETE", False): "DeleteBucket",
    ("POST", False): "DeleteObjects",
    ("GET", True): "GetObject",
    ("PUT", True): "PutObject",
    ("HEAD", True): "HeadObject",
    ("DELETE", True): "DeleteObject",
    ("POST", True): "PostObject",
}


@dataclass
class RequestIdentity:
    """
    What an incoming AWS request is, derived from its headers, query and body.

    :param service: Signing service from the SigV4 credential scope (``sagemaker``, ``s3``, ``iam``, ...).
    :param operation: API operation name (``CreateTrainingJob``, ``PutObject``, ...).
    :param access_key_id: Access key id from the SigV4 ``Credential=`` (header or presigned query).
    :param region: Region from the credential scope.
    :param protocol: ``json`` (X-Amz-Target), ``query`` (Action=), ``rest-json`` (Lambda), ``rest`` (anything else).
    :param name: The job (or log stream, hub content, model package group, Lambda function) the request is
        about: its ``...JobName``, ``logStreamName``, ``HubContentName`` or ``ModelPackageGroupName``
        parameter (awsJson requests), or the function of a Lambda call.
    """

    service: str | None
    operation: str | None
    access_key_id: str | None
    region: str | None
    protocol: str
    name: str | None = None


def identify_request(environ: dict[str, Any], body: bytes | None) -> RequestIdentity:
    """
    Derive service, operation and signing access key of a WSGI request.

    :param environ: WSGI environ.
    :param form_body: The body if it is ``application/x-www-form-urlencoded`` (query protocol), else None.
    """
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    auth = environ.get("HTTP_AUTHORIZATION", "")
    match = _CREDENTIAL_RE.search(auth)
    if match is None and "X-Amz-Credential" in query:  # presigned URL
        match = _CREDENTIAL_RE.search("Credential=" + query["X-Amz-Credential"][0])
    access_key = region = service = None
    if match is not None:
        access_key, _, region, service = match.groups()
        service = service.lower()

    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        prefix, _, operation = target.rpartition(".")
        if service is None:
            service = prefix.split("_")[0].lower() or None
        return RequestIdentity(service, operation, access_key, region, "json", _subject(body))

    action = query.get("Action", [None])[0]
    if action is None and body:
        form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        action = form.get("Action", [None])[0]
    if action:
        return RequestIdentity(service, action, access_key, region, "query")

    method = environ.get("REQUEST_METHOD", "GET").upper()
    path = environ.get("PATH_INFO", "/")
    if service == "lambda":
        operation, function = _lambda_operation(method, path)
        return RequestIdentity(service, operation, access_key, region, "rest-json", function)
    if service == "bedrock" and method == "GET" and path.startswith("/foundation-models/"):
        model_id = unquote(path[len("/foundation-models/") :])
        return RequestIdentity(service, "GetFoundationModel", access_key, region, "rest-json", model_id)
    operation = _s3_operation(method, path, query) if service in (None, "s3") else f"{method} {path}"
    return RequestIdentity(service, operation, access_key, region, "rest")


#: Lambda REST calls: (method, what follows ``/functions/<name>``) -> operation name.
_LAMBDA_OPERATIONS = {
    ("POST", "invocations"): "Invoke",
    ("POST", "invoke-async"): "InvokeAsync",
    ("GET", ""): "GetFunction",
    ("DELETE", ""): "DeleteFunction",
    ("GET", "configuration"): "GetFunctionConfiguration",
    ("PUT", "configuration"): "UpdateFunctionConfiguration",
    ("PUT", "code"): "UpdateFunctionCode",
}


def _lambda_operation(method: str, path: str) -> tuple[str, str | None]:
    """Operation name and function name of a Lambda REST call (``/2015-03-31/functions/<name>/...``)."""
    parts = [unquote(p) for p in path.split("/") if p]
    if len(parts) < 2 or parts[1] != "functions":
        return f"{method} {path}", None
    if len(parts) == 2:
        return ("CreateFunction" if method == "POST" else "ListFunctions"), None
    rest = "/".join(parts[3:])
    return _LAMBDA_OPERATIONS.get((method, rest), f"{method} {path}"), parts[2]


def _s3_operation(method: str, path: str, query: dict[str, list[str]]) -> str:
    parts = [p for p in path.split("/") if p]
    if not parts:
        return "ListBuckets" if method == "GET" else f"{method} /"
    has_key = len(parts) > 1
    if has_key and method == "POST" and "uploads" in query:
        return "CreateMultipartUpload"
    if has_key and method == "POST" and "uploadId" in query:
        return "CompleteMultipartUpload"
    if has_key and method == "PUT" and "partNumber" in query:
        return "UploadPart"
    if has_key and method == "DELETE" and "uploadId" in query:
        return "AbortMultipartUpload"
    if not has_key and method == "GET" and query.get("list-type") == ["2"]:
        return "ListObjectsV2"
    if not has_key and method == "GET" and "location" in query:
        return "GetBucketLocation"
    return _S3_OPERATIONS.get((method, has_key), f"{method} {path}")


@dataclass
class RequestRecord:
    """
    One logged request.

    :param seq: Increasing sequence number.
    :param time: Unix time the request arrived.
    :param service: See :class:`RequestIdentity`.
    :param operation: See :class:`RequestIdentity`.
    :param access_key_id: See :class:`RequestIdentity`.
    :param region: See :class:`RequestIdentity`.
    :param method: HTTP method.
    :param path: URL path.
    :param status_code: HTTP status of the response moto produced (``None`` if the request never reached moto).
    :param fault: ``None`` or the injected fault kind (``throttle``, ``5xx``, ``fail_next``).
    :param duration_ms: Server-side handling time (includes injected latency).
    :param name: See :class:`RequestIdentity`.
    """

    seq: int
    time: float
    service: str | None
    operation: str | None
    access_key_id: str | None
    region: str | None
    method: str
    path: str
    status_code: int | None
    fault: str | None
    duration_ms: float
    name: str | None = None


def _subject(body: bytes | None) -> str | None:
    """The ``...JobName`` (else ``logStreamName``, ``HubContentName``, ``ModelPackageGroupName``) of an awsJson body."""
    try:
        params = json.loads(body) if body else None
    except ValueError:
        return None
    if not isinstance(params, dict):
        return None
    for key, value in params.items():
        if key.endswith("JobName") and isinstance(value, str):
            return value
    for key in (
        "logStreamName", "HubContentName", "ModelPackageGroupName", "EndpointName", "EndpointConfigName",
        "ModelName", "PipelineExecutionArn", "PipelineName",
    ):
        value = params.get(key)
        if isinstance(value, str):
            return value
    return None


class RequestLog:
    """Bounded, thread-safe in-memory log of requests."""

    def __init__(self, maxlen: int = 100_000) -> None:
        self._lock = threading.Lock()
        self._records: collections.deque[RequestRecord] = collections.deque(maxlen=maxlen)
        self._seq = itertools.count(1)

    def record(
        self,
        identity: RequestIdentity,
        *,
        method: str,
        path: str,
        status_code: int | None,
        fault: str | None,
        started: float,
    ) -> RequestRecord:
        """
        Append one request.

        :param identity: What the request was.
        :param method: HTTP method.
        :param path: URL path.
        :param status_code: Response status (``None`` if the request never reached moto).
        :param fault: Injected fault kind or None.
        :param started: ``time.time()`` when the request arrived.
        """
        rec = RequestRecord(
            seq=next(self._seq),
            time=started,
            service=identity.service,
            operation=identity.operation,
            access_key_id=identity.access_key_id,
            region=identity.region,
            method=method,
            path=path,
            status_code=status_code,
            fault=fault,
            duration_ms=round((time.time() - started) * 1000.0, 3),
            name=identity.name,
        )
        with self._lock:
            self._records.append(rec)
        return rec

    def query(
        self, operation: str | None = None, service: str | None = None, name: str | None = None
    ) -> list[dict[str, Any]]:
        """
        Return records (oldest first), optionally filtered.

        :param operation: Only this operation name.
        :param service: Only this signing service name.
        :param name: Only requests about this job (see :attr:`RequestIdentity.name`).
        """
        with self._lock:
            records = list(self._records)
        return [
            asdict(r)
            for r in records
            if (operation is None or r.operation == operation)
            and (service is None or r.service == service)
            and (name is None or r.name == name)
        ]

    def clear(self) -> None:
        """Forget every record."""
        with self._lock:
            self._records.clear()

"""Fault injection for API calls: throttling, 5xx, latency, and one-shot errors (standard library only)."""

from __future__ import annotations

import collections
import json
import random
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

from airflow_provider_smtrain.testing.requests_log import RequestIdentity

FAULT_THROTTLE = "throttle"
FAULT_5XX = "5xx"
FAULT_FAIL_NEXT = "fail_next"


@dataclass
class InjectedError:
    """
    An error response to send instead of forwarding the request.

    :param kind: ``throttle``, ``5xx`` or ``fail_next`` (recorded in the request log).
    :param code: AWS error code, e.g. ``ThrottlingException``.
    :param status: HTTP status code.
    :param message: Error message.
    """

    kind: str
    code: str
    status: int
    message: str


@dataclass
class FaultSettings:
    """
    Random faults for SageMaker JSON API calls.

    :param throttle_rate: Probability (0..1) of a ``ThrottlingException`` (HTTP 400).
    :param error_5xx_rate: Probability (0..1) of an HTTP 500 ``InternalFailure`` / 503 ``ServiceUnavailable``.
    :param latency_ms: Added latency for matching calls, in milliseconds.
    :param operations: Restrict to these operation names; ``None`` = every SageMaker operation.
    :param seed: Seed of the random generator (same seed + same call sequence = same faults).
    """

    throttle_rate: float = 0.0
    error_5xx_rate: float = 0.0
    latency_ms: float = 0.0
    operations: list[str] | None = None
    seed: int | None = None
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def __post_init__(self) -> None:
        for name in ("throttle_rate", "error_5xx_rate"):
            value = float(getattr(self, name))
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be within [0, 1], got {value}")
            setattr(self, name, value)
        if self.throttle_rate + self.error_5xx_rate > 1.0:
            raise ValueError("throttle_rate + error_5xx_rate must be <= 1")
        self.latency_ms = max(0.0, float(self.latency_ms))
        if self.operations is not None:
            self.operations = [str(op) for op in self.operations]
        self.rng = random.Random(self.seed)

    def as_dict(self) -> dict[str, Any]:
        """Return the settings as a JSON-serialisable dict."""
        return {
            "throttle_rate": self.throttle_rate,
            "error_5xx_rate": self.error_5xx_rate,
            "latency_ms": self.latency_ms,
            "operations": self.operations,
            "seed": self.seed,
        }


class FaultInjector:
    """Decides, per request, whether to inject an error or latency. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._settings = FaultSettings()
        self._fail_next: dict[str, collections.deque[InjectedError]] = collections.defaultdict(
            collections.deque
        )

    def set_faults(self, **kwargs: Any) -> FaultSettings:
        """
        Replace the random-fault settings; see :class:`FaultSettings` for the keyword arguments.

        :param kwargs: FaultSettings fields.
        """
        kwargs.pop("rng", None)
        settings = FaultSettings(**kwargs)
        with self._lock:
            self._settings = settings
        return settings

    def fail_next(self, operation: str, code: str, status: int = 400, count: int = 1, message: str = "") -> None:
        """
        Make the next ``count`` calls of ``operation`` fail with the given error.

        :param operation: Operation name, e.g. ``DescribeTrainingJob`` (any JSON or query protocol service).
        :param code: AWS error code, e.g. ``AccessDeniedException``.
        :param status: HTTP status code.
        :param count: Number of calls to fail.
        :param message: Error message.
        """
        error = InjectedError(FAULT_FAIL_NEXT, code, int(status), message or f"Injected {code}")
        with self._lock:
            self._fail_next[operation].extend(error for _ in range(int(count)))

    def clear(self) -> None:
        """Remove every fault setting and pending one-shot error."""
        with self._lock:
            self._settings = FaultSettings()
            self._fail_next.clear()

    def snapshot(self) -> dict[str, Any]:
        """Return current settings and pending one-shot error counts."""
        with self._lock:
            return {
                **self._settings.as_dict(),
                "fail_next": {op: len(q) for op, q in self._fail_next.items() if q},
            }

    def decide(self, identity: RequestIdentity) -> tuple[InjectedError | None, float]:
        """
        Return ``(error or None, latency seconds)`` for a request.

        One-shot errors apply to JSON and query protocol calls of any service; random faults and
        latency only to SageMaker JSON calls (``X-Amz-Target: SageMaker.<Op>``), optionally filtered by
        operation name.

        :param identity: The identified request.
        """
        op = identity.operation
        if op is None or identity.protocol == "rest":
            return None, 0.0
        with self._lock:
            queue = self._fail_next.get(op)
            pending = queue.popleft() if queue else None
            settings = self._settings
            is_sagemaker = identity.protocol == "json" and identity.service == "sagemaker"
            selected = is_sagemaker and (settings.operations is None or op in settings.operations)
            if not selected:
                return pending, 0.0
            latency = settings.latency_ms / 1000.0
            if pending is not None:
                return pending, latency
            if settings.throttle_rate <= 0 and settings.error_5xx_rate <= 0:
                return None, latency
            draw = settings.rng.random()
            if draw < settings.throttle_rate:
                return InjectedError(FAULT_THROTTLE, "ThrottlingException", 400, "Rate exceeded"), latency
            if draw < settings.throttle_rate + settings.error_5xx_rate:
                if settings.rng.random() < 0.5:
                    error = InjectedError(FAULT_5XX, "InternalFailure", 500, "Internal failure (injected)")
                else:
                    error = InjectedError(FAULT_5XX, "ServiceUnavailable", 503, "Service unavailable (injected)")
                return error, latency
            return None, latency


def error_response(error: InjectedError, protocol: str) -> tuple[str, list[tuple[str, str]], bytes]:
    """
    Render an injected error the way AWS would for the request's protocol.

    :param error: The error.
    :param protocol: ``json`` (awsJson ``__type`` body) or ``query`` (XML ``ErrorResponse``).
    """
    request_id = str(uuid.uuid4())
    status = f"{error.status} {_REASONS.get(error.status, 'Error')}"
    if protocol == "json":
        body = json.dumps({"__type": error.code, "message": error.message}).encode()
        content_type = "application/x-amz-json-1.1"
    else:
        sender = "Sender" if error.status < 500 else "Receiver"
        body = (
            "<ErrorResponse><Error>"
            f"<Type>{sender}</Type><Code>{escape(error.code)}</Code><Message>{escape(error.message)}</Message>"
            f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        ).encode()
        content_type = "text/xml"
    headers = [
        ("Content-Type", content_type),
        ("Content-Length", str(len(body))),
        ("x-amzn-RequestId", request_id),
        ("x-amzn-ErrorType", error.code),
    ]
    return status, headers, body


_REASONS = {
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    501: "Not Implemented",
    503: "Service Unavailable",
}

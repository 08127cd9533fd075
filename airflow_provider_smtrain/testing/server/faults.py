"""
Fault injection for API calls (standard library only).

Two families of faults:

* **errors**: an AWS error response instead of the real one (``throttle``, ``5xx``, ``fail_next``);
  the request never reaches moto, so it has no effect;
* **drops**: no response at all. ``lost_response`` carries the request out (the job is created or
  stopped) and then drops the response; ``dropped_request`` drops it without carrying it out. Either
  way the connection is reset at once (``mode="reset"``) or held silent for ``seconds`` and then
  closed (``mode="timeout"``: the client's read timeout usually fires first).
"""

from __future__ import annotations

import collections
import itertools
import json
import random
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

from airflow_provider_smtrain.testing.server.requests_log import RequestIdentity

FAULT_THROTTLE = "throttle"
FAULT_5XX = "5xx"
FAULT_FAIL_NEXT = "fail_next"
FAULT_LOST_RESPONSE = "lost_response"
FAULT_DROPPED_REQUEST = "dropped_request"
#: ``kind`` values of :meth:`FaultInjector.fail_next`.
FAIL_NEXT_KINDS = ("error", FAULT_LOST_RESPONSE, FAULT_DROPPED_REQUEST)
DROP_MODES = ("reset", "timeout")
DEFAULT_DROP_SECONDS = 10.0
DEFAULT_SERVICES = ("sagemaker",)


@dataclass
class Drop:
    """
    No response for a request.

    :param kind: ``lost_response`` (the request is carried out) or ``dropped_request`` (it is not).
    :param mode: ``reset`` (close the connection at once) or ``timeout`` (stay silent, then close).
    :param seconds: How long ``timeout`` stays silent.
    """

    kind: str
    mode: str = "reset"
    seconds: float = DEFAULT_DROP_SECONDS

    def __post_init__(self) -> None:
        if self.kind not in (FAULT_LOST_RESPONSE, FAULT_DROPPED_REQUEST):
            raise ValueError(f"drop kind must be lost_response or dropped_request, got {self.kind!r}")
        if self.mode not in DROP_MODES:
            raise ValueError(f"mode must be one of {DROP_MODES}, got {self.mode!r}")
        self.seconds = float(self.seconds)
        if self.seconds < 0:
            raise ValueError("seconds must be >= 0")

    @property
    def carried_out(self) -> bool:
        """Whether the request reaches moto before the response is dropped."""
        return self.kind == FAULT_LOST_RESPONSE


@dataclass
class Decision:
    """
    What to do with one request.

    :param error: Error response to send instead of forwarding, if any.
    :param drop: Response to withhold, if any.
    :param latency: Seconds to wait first.
    """

    error: InjectedError | None = None
    drop: Drop | None = None
    latency: float = 0.0


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
    Random faults for API calls of some services (SageMaker by default).

    Error responses (throttling, 5xx) apply to JSON and query protocol calls; drops to any call
    (S3 REST calls included).

    :param throttle_rate: Probability (0..1) of a ``ThrottlingException`` (HTTP 400).
    :param error_5xx_rate: Probability (0..1) of an HTTP 500 ``InternalFailure`` / 503 ``ServiceUnavailable``.
    :param lost_response_rate: Probability (0..1) that a call is carried out and its response dropped.
    :param dropped_request_rate: Probability (0..1) that a call is dropped without being carried out.
    :param drop_mode: ``reset`` or ``timeout`` for the drops (see :class:`Drop`).
    :param drop_seconds: Silence of a ``timeout`` drop, in seconds.
    :param latency_ms: Added latency for matching calls, in milliseconds.
    :param operations: Restrict to these operation names; ``None`` = every operation of ``services``.
    :param services: Signing service names (``sagemaker``, ``s3``, ``logs``...); ``None`` = SageMaker only.
    :param seed: Seed of the random generator (same seed + same call sequence = same faults).
    """

    throttle_rate: float = 0.0
    error_5xx_rate: float = 0.0
    lost_response_rate: float = 0.0
    dropped_request_rate: float = 0.0
    drop_mode: str = "reset"
    drop_seconds: float = DEFAULT_DROP_SECONDS
    latency_ms: float = 0.0
    operations: list[str] | None = None
    services: list[str] | None = None
    seed: int | None = None
    rng: random.Random = field(default_factory=random.Random, repr=False)

    _RATES = ("throttle_rate", "error_5xx_rate", "lost_response_rate", "dropped_request_rate")

    def __post_init__(self) -> None:
        for name in self._RATES:
            value = float(getattr(self, name))
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be within [0, 1], got {value}")
            setattr(self, name, value)
        if sum(getattr(self, name) for name in self._RATES) > 1.0:
            raise ValueError(f"the sum of {', '.join(self._RATES)} must be <= 1")
        Drop(FAULT_LOST_RESPONSE, self.drop_mode, self.drop_seconds)  # validates mode and seconds
        self.drop_seconds = float(self.drop_seconds)
        self.latency_ms = max(0.0, float(self.latency_ms))
        if self.operations is not None:
            self.operations = [str(op) for op in self.operations]
        self.services = [str(s).lower() for s in self.services] if self.services is not None else None
        self.rng = random.Random(self.seed)

    def selects(self, identity: RequestIdentity) -> bool:
        """
        Whether random faults and latency apply to a request.

        :param identity: The identified request.
        """
        services = self.services if self.services is not None else DEFAULT_SERVICES
        if identity.service not in services:
            return False
        return self.operations is None or identity.operation in self.operations

    def draw(self, identity: RequestIdentity) -> Decision:
        """
        Draw the random fault of one selected request.

        :param identity: The identified request.
        """
        decision = Decision(latency=self.latency_ms / 1000.0)
        if not any(getattr(self, name) for name in self._RATES):
            return decision
        draw = self.rng.random()
        bounds = iter(itertools.accumulate(getattr(self, name) for name in self._RATES))
        if draw < next(bounds):
            if identity.protocol != "rest":
                decision.error = InjectedError(FAULT_THROTTLE, "ThrottlingException", 400, "Rate exceeded")
        elif draw < next(bounds):
            if identity.protocol != "rest":
                decision.error = _server_error(self.rng)
        elif draw < next(bounds):
            decision.drop = Drop(FAULT_LOST_RESPONSE, self.drop_mode, self.drop_seconds)
        elif draw < next(bounds):
            decision.drop = Drop(FAULT_DROPPED_REQUEST, self.drop_mode, self.drop_seconds)
        return decision

    def as_dict(self) -> dict[str, Any]:
        """Return the settings as a JSON-serialisable dict."""
        return {
            "throttle_rate": self.throttle_rate,
            "error_5xx_rate": self.error_5xx_rate,
            "lost_response_rate": self.lost_response_rate,
            "dropped_request_rate": self.dropped_request_rate,
            "drop_mode": self.drop_mode,
            "drop_seconds": self.drop_seconds,
            "latency_ms": self.latency_ms,
            "operations": self.operations,
            "services": self.services,
            "seed": self.seed,
        }


def _server_error(rng: random.Random) -> InjectedError:
    if rng.random() < 0.5:
        return InjectedError(FAULT_5XX, "InternalFailure", 500, "Internal failure (injected)")
    return InjectedError(FAULT_5XX, "ServiceUnavailable", 503, "Service unavailable (injected)")


class FaultInjector:
    """Decides, per request, whether to inject an error or latency. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._settings = FaultSettings()
        self._fail_next: dict[str, collections.deque[InjectedError | Drop]] = collections.defaultdict(
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

    def fail_next(
        self,
        operation: str,
        code: str = "",
        status: int = 400,
        count: int = 1,
        message: str = "",
        kind: str = "error",
        mode: str = "reset",
        seconds: float = DEFAULT_DROP_SECONDS,
    ) -> None:
        """
        Make the next ``count`` calls of ``operation`` fail (any service and protocol).

        :param operation: Operation name, e.g. ``DescribeTrainingJob`` or ``PutObject``.
        :param code: AWS error code for ``kind="error"``, e.g. ``AccessDeniedException``.
        :param status: HTTP status code for ``kind="error"``.
        :param count: Number of calls to fail.
        :param message: Error message for ``kind="error"``.
        :param kind: ``error`` (an error response; the call has no effect), ``lost_response`` (the call
            is carried out, its response dropped) or ``dropped_request`` (dropped, not carried out).
        :param mode: For drops: ``reset`` or ``timeout`` (see :class:`Drop`).
        :param seconds: For ``timeout`` drops: seconds of silence before the connection closes.
        """
        fault: InjectedError | Drop
        if kind == "error":
            if not code:
                raise ValueError("fail_next of kind 'error' needs a 'code'")
            fault = InjectedError(FAULT_FAIL_NEXT, code, int(status), message or f"Injected {code}")
        elif kind in FAIL_NEXT_KINDS:
            fault = Drop(kind, mode, seconds)
        else:
            raise ValueError(f"kind must be one of {FAIL_NEXT_KINDS}, got {kind!r}")
        with self._lock:
            self._fail_next[operation].extend(fault for _ in range(int(count)))

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

    def decide(self, identity: RequestIdentity) -> Decision:
        """
        What to do with a request: one-shot faults first, then the random ones.

        One-shot faults apply to every service; an ``error`` one only to JSON and query protocol calls
        (REST calls such as S3's keep it for their next JSON/query namesake, i.e. never). Random faults
        and latency apply to the services and operations of the current :class:`FaultSettings`.

        :param identity: The identified request.
        """
        op = identity.operation
        if op is None:
            return Decision()
        with self._lock:
            settings = self._settings
            selected = settings.selects(identity)
            latency = settings.latency_ms / 1000.0 if selected else 0.0
            queue = self._fail_next.get(op)
            if queue and (identity.protocol != "rest" or isinstance(queue[0], Drop)):
                pending = queue.popleft()
                if isinstance(pending, Drop):
                    return Decision(drop=pending, latency=latency)
                return Decision(error=pending, latency=latency)
            if not selected:
                return Decision()
            return settings.draw(identity)


def error_response(error: InjectedError, protocol: str) -> tuple[str, list[tuple[str, str]], bytes]:
    """
    Render an injected error the way AWS would for the request's protocol.

    :param error: The error.
    :param protocol: ``json`` (awsJson ``__type`` body), ``rest-json`` (Lambda: JSON body, code in
        ``x-amzn-ErrorType``) or ``query`` (XML ``ErrorResponse``).
    """
    request_id = str(uuid.uuid4())
    status = f"{error.status} {_REASONS.get(error.status, 'Error')}"
    if protocol in ("json", "rest-json"):
        body = json.dumps({"__type": error.code, "message": error.message}).encode()
        content_type = "application/x-amz-json-1.1" if protocol == "json" else "application/json"
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

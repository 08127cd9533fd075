"""
The simulator: one lock, one clock, the outcome rules and the emulated services (server process only).

moto creates SageMaker jobs already terminal and never changes them. Each service plans a timeline for
its jobs at creation and applies it to the moto model objects *lazily*: a request brings only the jobs
it touches up to the simulated time (a Describe one job, a List the jobs in its listing), so the cost
of a request does not grow with the number of jobs. :attr:`Simulator.ticks` counts those applications.

Everything here expects :attr:`Simulator.lock` to be held (moto's models are not thread-safe).
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Iterable
from typing import Any, Protocol

from airflow_provider_smtrain.testing.config import ServerConfig
from airflow_provider_smtrain.testing.engine.clock import SimClock
from airflow_provider_smtrain.testing.engine.rules import RuleBook

Key = tuple[str, str, str]
"""``(account id, region, job name)``."""

JOB_STATUSES = ("InProgress", "Completed", "Failed", "Stopping", "Stopped")


def key_named(keys: Iterable[Key], name: str, account_id: str | None, region: str | None) -> Key | None:
    """
    The first of ``keys`` whose job is called ``name``, in the account and region if given.

    :param keys: ``(account id, region, job name)`` keys.
    :param name: Job name.
    :param account_id: Account, ``None`` = any.
    :param region: Region, ``None`` = any.
    """
    return next(
        (key for key in keys if key[2] == name and account_id in (None, key[0]) and region in (None, key[1])),
        None,
    )


def touched(service: Service, key: Key, noun: str) -> Any:
    """
    The job ``key`` of ``service``, up to the simulated time; ``LookupError`` naming it if there is none.

    :param service: The service.
    :param key: The job's key.
    :param noun: What the service calls a job (``endpoint``), for the error.
    """
    found = service.touch(key)
    if found is None:
        raise LookupError(f"no {noun} {key[2]!r}")
    return found


class Service(Protocol):
    """An emulated job service (training, tuning, ...) as the simulator sees it."""

    name: str

    def touch(self, key: Key) -> Any:
        """Bring one job up to the simulated time; return its state or ``None`` if unknown."""

    def find(self, name: str, account_id: str | None, region: str | None) -> Key | None:
        """The key of the job called ``name`` (optionally in one account/region), or ``None``."""

    def force(self, key: Key, status: str, secondary_status: str | None, failure_reason: str | None) -> None:
        """Put a job into a state, now, and keep it there."""

    def snapshot(self) -> list[dict[str, Any]]:
        """JSON-able view of every job."""

    def clear(self) -> None:
        """Forget every job."""


class Simulator:
    """
    Owns the lock, the clock, the rules and the services.

    :param config: Live server config (shared with the control API).
    :param rules: Outcome rules.
    :param clock: Simulation clock (default: a new running one).
    """

    def __init__(self, config: ServerConfig, rules: RuleBook, clock: SimClock | None = None) -> None:
        self.lock = threading.RLock()
        self.config = config
        self.rules = rules
        self.clock = clock or SimClock()
        #: Job applications per service since the last reset: the work requests cause.
        self.ticks: collections.Counter[str] = collections.Counter()
        self.services: dict[str, Service] = {}
        #: The server's own URL (set by ``server.app.serve``), given to scripts as AWS_ENDPOINT_URL.
        self.endpoint_url: str | None = None

    def register(self, service: Service) -> None:
        """
        Add a service (one per name).

        :param service: The service.
        """
        self.services[service.name] = service

    def service(self, kind: str) -> Service:
        """
        The service of a job kind.

        :param kind: ``training`` or ``tuning``.
        """
        try:
            return self.services[kind]
        except KeyError:
            raise ValueError(f"unknown job kind {kind!r}; known: {sorted(self.services)}") from None

    def outcome(self, kind: str, name: str, duration: float) -> tuple[float, str | None]:
        """
        Duration and failure reason of a new job after the first matching outcome rule.

        :param kind: ``training`` or ``tuning``.
        :param name: The job name.
        :param duration: The configured duration, used when no rule sets one.
        """
        rule = self.rules.match(kind, name)
        if rule is None:
            return duration, None
        seconds = duration if rule.seconds is None else rule.seconds
        return seconds, rule.failure_reason if rule.outcome == "Failed" else None

    def force(
        self,
        kind: str,
        name: str,
        status: str,
        *,
        failure_reason: str | None = None,
        secondary_status: str | None = None,
        account_id: str | None = None,
        region: str | None = None,
    ) -> None:
        """
        Put a job into a state now; it stays there until forced again or stopped.

        :param kind: ``training`` or ``tuning``.
        :param name: Job name.
        :param status: ``InProgress``, ``Completed``, ``Failed``, ``Stopping`` or ``Stopped``.
        :param failure_reason: FailureReason (for ``Failed``).
        :param secondary_status: SecondaryStatus (training jobs); default derived from ``status``.
        :param account_id: Account of the job; ``None`` = any.
        :param region: Region of the job; ``None`` = any.
        :raises LookupError: No such job.
        """
        service = self.service(kind)
        statuses = getattr(service, "statuses", JOB_STATUSES)
        if status not in statuses:
            raise ValueError(f"status must be one of {statuses}, got {status!r}")
        key = service.find(name, account_id, region)
        if key is None:
            raise LookupError(f"no {kind} job {name!r}")
        service.force(key, status, secondary_status, failure_reason)

    def snapshot(self) -> dict[str, Any]:
        """JSON-able view of every simulated job, by service (control API ``/_local/jobs``)."""
        return {name: service.snapshot() for name, service in self.services.items()}

    def stats(self) -> dict[str, Any]:
        """Work counters (control API ``/_local/stats``)."""
        return {"ticks": dict(self.ticks)}

    def clear(self) -> None:
        """Forget every job of every service; reset the counters and the clock."""
        for service in self.services.values():
            service.clear()
        self.ticks.clear()
        self.clock.reset()


_active: Simulator | None = None


def activate(simulator: Simulator) -> None:
    """
    Make ``simulator`` the one the moto patches of this process report to.

    :param simulator: The simulator.
    """
    global _active
    _active = simulator


def active() -> Simulator:
    """The simulator the moto patches report to."""
    if _active is None:
        raise RuntimeError("no active Simulator: call server.app.build_app() first")
    return _active

"""Outcome rules: make matching jobs, hub content imports or MLflow apps fail or take a different time."""

from __future__ import annotations

import fnmatch
import itertools
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

RULE_KINDS = ("training", "tuning", "agent_rft", "hub_content", "mlflow_app", "endpoint")
RULE_OUTCOMES = ("Completed", "Failed")
DEFAULT_FAILURE_REASON = "AlgorithmError: simulated failure (LocalSageMaker rule)"

_ids = itertools.count(1)


@dataclass
class OutcomeRule:
    """
    How jobs whose name matches ``name_glob`` end.

    :param kind: ``training``, ``tuning``, ``agent_rft``, ``hub_content`` (``ImportFailed``) ``mlflow_app`` (``CreateFailed``) or ``endpoint``
        (``Failed``, on creation or update).
    :param name_glob: ``fnmatch`` pattern matched against the job / content / app name (case-sensitive).
    :param outcome: ``Completed`` or ``Failed``; ``None`` keeps the normal outcome (use with ``seconds``).
    :param failure_reason: FailureReason for ``Failed`` outcomes.
    :param seconds: Duration override in seconds; ``None`` keeps the configured default.
    :param times: Apply to at most this many jobs, then the rule is spent; ``None`` = unlimited.
    """

    kind: str = "training"
    name_glob: str = "*"
    outcome: str | None = None
    failure_reason: str | None = None
    seconds: float | None = None
    times: int | None = None
    matched: int = 0
    rule_id: int = field(default_factory=lambda: next(_ids))

    def __post_init__(self) -> None:
        if self.kind not in RULE_KINDS:
            raise ValueError(f"kind must be one of {RULE_KINDS}, got {self.kind!r}")
        if self.outcome is not None and self.outcome not in RULE_OUTCOMES:
            raise ValueError(f"outcome must be one of {RULE_OUTCOMES} or None, got {self.outcome!r}")
        if self.seconds is not None:
            self.seconds = float(self.seconds)
            if self.seconds < 0:
                raise ValueError("seconds must be >= 0")
        if self.times is not None:
            self.times = int(self.times)
        if self.outcome == "Failed" and not self.failure_reason:
            self.failure_reason = DEFAULT_FAILURE_REASON

    @property
    def spent(self) -> bool:
        """Whether the rule has been applied ``times`` times already."""
        return self.times is not None and self.matched >= self.times

    def as_dict(self) -> dict[str, Any]:
        """Return the rule as a JSON-serialisable dict."""
        return asdict(self)


class RuleBook:
    """Thread-safe ordered rule list; the first unspent matching rule wins."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[OutcomeRule] = []

    def add(self, **kwargs: Any) -> OutcomeRule:
        """
        Add a rule; see :class:`OutcomeRule` for the accepted keyword arguments.

        :param kwargs: OutcomeRule fields.
        """
        kwargs.pop("matched", None)
        kwargs.pop("rule_id", None)
        rule = OutcomeRule(**kwargs)
        with self._lock:
            self._rules.append(rule)
        return rule

    def match(self, kind: str, name: str) -> OutcomeRule | None:
        """
        Return (and count) the first unspent rule for a new job, or ``None``.

        :param kind: ``training`` or ``tuning``.
        :param name: Job name.
        """
        with self._lock:
            for rule in self._rules:
                if rule.kind == kind and not rule.spent and fnmatch.fnmatchcase(name, rule.name_glob):
                    rule.matched += 1
                    return rule
        return None

    def clear(self) -> None:
        """Remove every rule."""
        with self._lock:
            self._rules.clear()

    def as_list(self) -> list[dict[str, Any]]:
        """Return all rules as dicts."""
        with self._lock:
            return [rule.as_dict() for rule in self._rules]

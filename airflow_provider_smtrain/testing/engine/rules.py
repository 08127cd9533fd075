"""Outcome rules: make matching jobs, hub content imports or MLflow apps fail or take a different time."""

from __future__ import annotations

import fnmatch
import itertools
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

RULE_KINDS = ("training", "tuning", "agent_rft", "hub_content", "mlflow_app", "endpoint", "pipeline_execution")
RULE_OUTCOMES = ("Completed", "Failed", "Succeeded", "CompletedWithFailures")
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
    :param metrics: ``pipeline_execution``: metric values the evaluated (custom/fine-tuned) model gets.
    :param base_metrics: ``pipeline_execution``: metric values the base model gets.
    :param step: ``pipeline_execution``: glob of the step that fails (default: the last job step).
    """

    kind: str = "training"
    name_glob: str = "*"
    outcome: str | None = None
    failure_reason: str | None = None
    seconds: float | None = None
    times: int | None = None
    metrics: dict[str, float] | None = None
    base_metrics: dict[str, float] | None = None
    step: str | None = None
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
        for values in (self.metrics, self.base_metrics):
            if values is not None and not all(isinstance(v, int | float) for v in values.values()):
                raise ValueError("metrics and base_metrics map metric names to numbers")
        if self.outcome in ("Succeeded", "CompletedWithFailures") and self.kind != "pipeline_execution":
            raise ValueError(f"outcome {self.outcome!r} is only for kind 'pipeline_execution'")
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

    def match_any(self, kind: str, names: list[str]) -> OutcomeRule | None:
        """
        Return (and count) the first unspent rule whose glob matches any of ``names``, or ``None``.

        :param kind: Rule kind.
        :param names: Names of the new job (e.g. a pipeline name and an execution display name).
        """
        with self._lock:
            for rule in self._rules:
                if rule.kind == kind and not rule.spent and any(fnmatch.fnmatchcase(n, rule.name_glob) for n in names):
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

"""Simulation state of one hyperparameter tuning job, and hyperparameter sampling (standard library only)."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any


@dataclass
class TuningSim:
    """
    Simulation state of one hyperparameter tuning job.

    :param account_id: Account of the job.
    :param region: Region of the job.
    :param name: Tuning job name.
    :param job: The moto ``HyperParameterTuningJob`` that is mutated.
    :param created: Simulated creation time.
    :param end: Planned end time.
    :param child_starts: Planned start time of each child training job.
    :param child_ends: Planned end time of each child (parallel waves).
    :param child_names: Name of each planned child.
    :param failure_reason: Set if a rule makes the tuning job fail.
    """

    account_id: str
    region: str
    name: str
    job: Any
    created: float
    end: float
    child_starts: list[float]
    child_ends: list[float]
    child_names: list[str]
    failure_reason: str | None
    children: list[str] = field(default_factory=list)
    tuned: dict[str, dict[str, str]] = field(default_factory=dict)
    stop_at: float | None = None
    stop_seconds: float = 0.0
    status: str = "InProgress"
    terminal_at: float | None = None
    forced_at: float | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        """``(account, region, name)``."""
        return (self.account_id, self.region, self.name)

    @property
    def config(self) -> dict[str, Any]:
        """HyperParameterTuningJobConfig."""
        return dict(self.job.hyper_parameter_tuning_job_config or {})

    def definitions(self) -> list[dict[str, Any]]:
        """Training job definitions (single or multi-algorithm)."""
        if self.job.training_job_definitions:
            return list(self.job.training_job_definitions)
        return [self.job.training_job_definition or {}]

    def definition(self, index: int) -> dict[str, Any]:
        """
        The training job definition of child ``index``.

        :param index: Child index.
        """
        definitions = self.definitions()
        return definitions[index % len(definitions)]

    def objective(self, definition: dict[str, Any]) -> dict[str, Any] | None:
        """
        Objective ``{Type, MetricName}`` for a definition, if any.

        :param definition: A training job definition.
        """
        return self.config.get("HyperParameterTuningJobObjective") or definition.get("TuningObjective")


def sample_hyperparameters(ranges: dict[str, Any], seed: str) -> dict[str, str]:
    """
    Deterministically sample one value per tunable hyperparameter.

    :param ranges: ``ParameterRanges`` (Integer/Continuous/CategoricalParameterRanges).
    :param seed: Seed text (e.g. ``<tuning job>/<index>``).
    """
    rng = random.Random(seed)
    values: dict[str, str] = {}
    for spec in ranges.get("IntegerParameterRanges") or []:
        low, high = int(float(spec["MinValue"])), int(float(spec["MaxValue"]))
        if spec.get("ScalingType") == "Logarithmic" and low > 0:
            values[spec["Name"]] = str(int(round(math.exp(rng.uniform(math.log(low), math.log(high))))))
        else:
            values[spec["Name"]] = str(rng.randint(low, high))
    for spec in ranges.get("ContinuousParameterRanges") or []:
        low_f, high_f = float(spec["MinValue"]), float(spec["MaxValue"])
        if spec.get("ScalingType") == "Logarithmic" and low_f > 0:
            value = math.exp(rng.uniform(math.log(low_f), math.log(high_f)))
        else:
            value = rng.uniform(low_f, high_f)
        values[spec["Name"]] = f"{value:.6g}"
    for spec in ranges.get("CategoricalParameterRanges") or []:
        choices = list(spec.get("Values") or [])
        if choices:
            values[spec["Name"]] = str(rng.choice(choices))
    return values

"""``HyperparameterTunerSpec``: validated arguments for a SageMaker ``HyperparameterTuner`` job.

Parameter ranges mirror ``sagemaker.core.parameter`` (``ContinuousParameter``, ``IntegerParameter``,
``CategoricalParameter``); instances of those classes are accepted as range values. Warm start and
completion criteria accept the ``sagemaker.core.shapes`` objects as well as the flat forms below.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from airflow_provider_smtrain.specs.base import Loose, Problems, SpecModel, TaggedInput, matches, one_of
from airflow_provider_smtrain.specs.common import (
    HyperparameterName,
    MetricDefinitions,
    PositiveInt,
    RandomSeed,
    Tags,
    check_unique,
)
from airflow_provider_smtrain.specs.training import ModelTrainerSpec

__all__ = [
    "CategoricalRangeSpec",
    "CompletionCriteriaSpec",
    "ContinuousRangeSpec",
    "HyperbandStrategySpec",
    "HyperparameterTunerSpec",
    "IntegerRangeSpec",
    "WarmStartSpec",
]

SCALING_TYPES = ("Auto", "Linear", "Logarithmic", "ReverseLogarithmic")
STRATEGIES = ("Bayesian", "Random", "Hyperband", "Grid")
OBJECTIVE_TYPES = ("Maximize", "Minimize")
EARLY_STOPPING_TYPES = ("Off", "Auto")
WARM_START_TYPES = ("IdenticalDataAndAlgorithm", "TransferLearning")
MAX_RANGES = 30

FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]
TuningJobName = Annotated[
    str,
    Field(max_length=32),
    matches(r"[a-zA-Z0-9](-*[a-zA-Z0-9])*", "a tuning job name: letters, digits and hyphens, at most 32"),
]


class _BoundedRange(SpecModel):
    """Shared ``min_value < max_value`` and scaling checks of continuous and integer ranges."""

    type: str
    min_value: float
    max_value: float
    scaling_type: str = "Auto"

    @model_validator(mode="after")
    def _check_bounds(self) -> _BoundedRange:
        problems = Problems()
        low, high = self.min_value, self.max_value
        if low >= high:
            problems.add("max_value", f"must be greater than min_value ({low})", high, show=True)
        elif self.scaling_type == "Logarithmic" and low <= 0:
            problems.add("min_value", "must be > 0 with scaling_type Logarithmic", low, show=True)
        elif self.scaling_type == "ReverseLogarithmic" and not (0 <= low and high < 1):
            problems.add(
                "min_value" if low < 0 else "max_value",
                "ReverseLogarithmic scaling needs 0 <= min_value < max_value < 1",
                low if low < 0 else high,
                show=True,
            )
        problems.raise_if_any()
        return self


class ContinuousRangeSpec(_BoundedRange):
    """
    A float range (SDK ``ContinuousParameter``).

    :param type: ``continuous`` (any casing); selects this kind of range.
    :param min_value: lower bound (inclusive), a finite number.
    :param max_value: upper bound (inclusive), a finite number > ``min_value``.
    :param scaling_type: ``Auto``, ``Linear``, ``Logarithmic`` (needs ``min_value`` > 0) or
        ``ReverseLogarithmic`` (needs 0 <= ``min_value`` < ``max_value`` < 1).
    """

    type: Literal["continuous"] = "continuous"
    min_value: FiniteFloat
    max_value: FiniteFloat
    scaling_type: Annotated[
        Literal["Auto", "Linear", "Logarithmic", "ReverseLogarithmic"], one_of(SCALING_TYPES)
    ] = "Auto"


class IntegerRangeSpec(_BoundedRange):
    """
    An integer range (SDK ``IntegerParameter``).

    :param type: ``integer`` (any casing); selects this kind of range.
    :param min_value: lower bound (inclusive).
    :param max_value: upper bound (inclusive), > ``min_value``.
    :param scaling_type: ``Auto``, ``Linear`` or ``Logarithmic`` (needs ``min_value`` > 0).
    """

    type: Literal["integer"] = "integer"
    min_value: int
    max_value: int
    scaling_type: Annotated[Literal["Auto", "Linear", "Logarithmic"], one_of(SCALING_TYPES[:3])] = "Auto"


class CategoricalRangeSpec(SpecModel):
    """
    A set of discrete values (SDK ``CategoricalParameter``).

    :param type: ``categorical`` (any casing); selects this kind of range.
    :param values: 1..30 distinct strings or numbers.
    """

    type: Literal["categorical"] = "categorical"
    values: Annotated[list[str | int | float], Loose, Field(min_length=1, max_length=30)]

    @model_validator(mode="after")
    def _distinct(self) -> CategoricalRangeSpec:
        problems = Problems()
        check_unique(problems, "values", [str(v) for v in self.values])
        problems.raise_if_any()
        return self


ParameterRange = Annotated[
    ContinuousRangeSpec | IntegerRangeSpec | CategoricalRangeSpec, Field(discriminator="type"), TaggedInput
]


class WarmStartSpec(SpecModel):
    """
    Start from earlier tuning jobs (SDK ``HyperParameterTuningJobWarmStartConfig``).

    :param type: ``IdenticalDataAndAlgorithm`` or ``TransferLearning`` (any casing).
    :param parents: 1..5 distinct parent tuning job names (``^[a-zA-Z0-9](-*[a-zA-Z0-9])*$``, at most
        32 characters).
    """

    type: Annotated[Literal["IdenticalDataAndAlgorithm", "TransferLearning"], one_of(WARM_START_TYPES)]
    parents: Annotated[list[TuningJobName], Loose, Field(min_length=1, max_length=5)]

    @classmethod
    def _from_sdk(cls, data: dict[str, Any]) -> dict[str, Any]:
        parents = data.get("parent_hyper_parameter_tuning_jobs", [])
        return {
            "type": data.get("warm_start_type"),
            "parents": [
                p.get("hyper_parameter_tuning_job_name") if isinstance(p, dict) else p for p in parents
            ],
        }

    @model_validator(mode="after")
    def _distinct(self) -> WarmStartSpec:
        problems = Problems()
        check_unique(problems, "parents", self.parents)
        problems.raise_if_any()
        return self


class CompletionCriteriaSpec(SpecModel):
    """
    Stop tuning early (SDK ``TuningJobCompletionCriteria``, flattened); set at least one field.

    :param target_objective_metric_value: stop once the objective reaches this value.
    :param max_number_of_training_jobs_not_improving: stop after this many (>= 3) jobs without improvement.
    :param complete_on_convergence: stop when SageMaker detects convergence.
    """

    target_objective_metric_value: FiniteFloat | None = None
    max_number_of_training_jobs_not_improving: Annotated[int, Field(ge=3)] | None = None
    complete_on_convergence: bool | None = None

    @classmethod
    def _from_sdk(cls, data: dict[str, Any]) -> dict[str, Any]:
        flat = {
            k: v for k, v in data.items() if k not in ("best_objective_not_improving", "convergence_detected")
        }
        flat.update(data.get("best_objective_not_improving") or {})
        convergence = (data.get("convergence_detected") or {}).get("complete_on_convergence")
        if convergence is not None:
            flat["complete_on_convergence"] = str(convergence).lower() in ("enabled", "true")
        return flat

    @model_validator(mode="after")
    def _not_empty(self) -> CompletionCriteriaSpec:
        if all(value is None for _, value in self):
            problems = Problems()
            problems.add(
                (),
                "set at least one of target_objective_metric_value, "
                "max_number_of_training_jobs_not_improving, complete_on_convergence",
            )
            problems.raise_if_any()
        return self


class HyperbandStrategySpec(SpecModel):
    """
    Hyperband resource bounds (SDK ``HyperbandStrategyConfig``); only with ``strategy="Hyperband"``.

    :param min_resource: minimum epochs (or other resource) before a job may be stopped, >= 1.
    :param max_resource: maximum epochs (or other resource), 1..20000, >= ``min_resource``.
    """

    min_resource: PositiveInt | None = None
    max_resource: Annotated[int, Field(ge=1, le=20000)] | None = None

    @model_validator(mode="after")
    def _ordered(self) -> HyperbandStrategySpec:
        if (
            self.min_resource is not None
            and self.max_resource is not None
            and self.max_resource < self.min_resource
        ):
            problems = Problems()
            problems.add(
                "max_resource", f"must be >= min_resource ({self.min_resource})", self.max_resource, show=True
            )
            problems.raise_if_any()
        return self


class HyperparameterTunerSpec(SpecModel):
    """
    Everything needed to build a ``HyperparameterTuner`` around a ``ModelTrainer`` and start one tuning job.

    :param trainer: the training job template (``ModelTrainerSpec``); errors are reported as
        ``trainer.<path>``.
    :param objective_metric_name: metric to optimise, 1..255 characters; must be one of
        ``metric_definitions[*].name`` when those are given.
    :param objective_type: ``Maximize`` or ``Minimize`` (any casing).
    :param metric_definitions: as for the trainer; required unless ``trainer.algorithm_name`` is set.
    :param hyperparameter_ranges: 1..30 ranges, ``{name: {"type": "continuous" | "integer" |
        "categorical", ...}}`` (``ContinuousRangeSpec``, ``IntegerRangeSpec``, ``CategoricalRangeSpec``).
    :param strategy: ``Bayesian``, ``Random``, ``Hyperband`` or ``Grid`` (any casing). ``Grid``:
        categorical ranges only and no ``max_jobs``. ``Hyperband``: ``early_stopping_type`` must be ``Off``.
    :param max_jobs: total training jobs, >= 1; 1 when not given, except with ``Grid``, where it must
        be omitted (the grid size decides).
    :param max_parallel_jobs: concurrent training jobs, 1..``max_jobs``.
    :param early_stopping_type: ``Off`` or ``Auto``; must be ``Off`` with ``Hyperband``.
    :param warm_start: start from earlier tuning jobs (``WarmStartSpec``).
    :param completion_criteria: stop tuning early (``CompletionCriteriaSpec``).
    :param hyperband_strategy_config: Hyperband resource bounds (``HyperbandStrategySpec``); only with
        ``Hyperband``.
    :param random_seed: 0..2147483647.
    :param max_runtime_in_seconds: limit for the whole tuning job, 120..15768000.
    :param tags: tuning job tags, as for the trainer.
    :param base_tuning_job_name: tuning job name prefix, the operator's default one:
        ``^[a-zA-Z0-9](-*[a-zA-Z0-9])*$``, at most 32 characters.
    """

    trainer: ModelTrainerSpec
    objective_metric_name: Annotated[str, Field(min_length=1, max_length=255)]
    objective_type: Annotated[Literal["Maximize", "Minimize"], one_of(OBJECTIVE_TYPES)] = "Maximize"
    metric_definitions: MetricDefinitions = []
    hyperparameter_ranges: Annotated[
        dict[HyperparameterName, ParameterRange], Loose, Field(min_length=1, max_length=MAX_RANGES)
    ]
    strategy: Annotated[Literal["Bayesian", "Random", "Hyperband", "Grid"], one_of(STRATEGIES)] = "Bayesian"
    max_jobs: PositiveInt | None = None
    max_parallel_jobs: PositiveInt = 1
    early_stopping_type: Annotated[Literal["Off", "Auto"], one_of(EARLY_STOPPING_TYPES)] = "Off"
    warm_start: WarmStartSpec | None = None
    completion_criteria: CompletionCriteriaSpec | None = None
    hyperband_strategy_config: HyperbandStrategySpec | None = None
    random_seed: RandomSeed | None = None
    max_runtime_in_seconds: Annotated[int, Field(ge=120, le=15_768_000)] | None = None
    tags: Tags = {}
    base_tuning_job_name: TuningJobName | None = None

    @model_validator(mode="after")
    def _check_combination(self) -> HyperparameterTunerSpec:
        problems = Problems()
        self._check_metrics(problems)
        self._check_strategy(problems)
        self._check_inputs(problems)
        problems.raise_if_any()
        return self

    def _check_metrics(self, problems: Problems) -> None:
        names = [m.name for m in self.metric_definitions]
        check_unique(problems, "metric_definitions", names, key="name")
        if not names and self.trainer.algorithm_name is None:
            problems.add(
                "metric_definitions",
                "is required (a list of {name, regex}) unless trainer.algorithm_name is set",
            )
        elif names and self.objective_metric_name not in names:
            problems.add(
                "objective_metric_name",
                "must be one of the metric_definitions names: " + ", ".join(repr(n) for n in names),
                self.objective_metric_name,
                show=True,
            )

    def _check_inputs(self, problems: Problems) -> None:
        for index, channel in enumerate(self.trainer.input_data):
            if not channel.data_source.startswith("s3://"):
                problems.add(
                    ("trainer", "input_data", index, "data_source"),
                    "must be an s3:// URI for tuning (the tuner does not upload local data)",
                )

    def _check_strategy(self, problems: Problems) -> None:
        if self.strategy == "Grid":
            for name, rng in self.hyperparameter_ranges.items():
                if rng.type != "categorical":
                    problems.add(
                        ("hyperparameter_ranges", name),
                        f"strategy Grid only accepts categorical ranges (got {rng.type})",
                    )
            if self.max_jobs is not None:
                problems.add(
                    "max_jobs",
                    "must be omitted with strategy Grid (the grid size decides)",
                    self.max_jobs,
                    show=True,
                )
        elif self.max_jobs is None:
            object.__setattr__(self, "max_jobs", 1)  # the SDK default, made explicit
        if self.max_jobs is not None and self.max_parallel_jobs > self.max_jobs:
            problems.add(
                "max_parallel_jobs",
                f"must be <= max_jobs ({self.max_jobs})",
                self.max_parallel_jobs,
                show=True,
            )
        if self.strategy == "Hyperband" and self.early_stopping_type != "Off":
            problems.add(
                "early_stopping_type",
                "must be 'Off' with strategy Hyperband",
                self.early_stopping_type,
                show=True,
            )
        if self.strategy != "Hyperband" and self.hyperband_strategy_config is not None:
            problems.add("hyperband_strategy_config", "is only accepted with strategy Hyperband")

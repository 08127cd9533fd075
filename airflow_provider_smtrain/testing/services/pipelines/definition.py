"""
A pipeline definition as SageMaker Pipelines reads it: steps, their dependencies, and the values of
``Get`` / ``Std:Join`` expressions (standard library only).

Dependencies are a step's ``DependsOn`` plus every step its arguments read (``{"Get": "Steps.X..."}``),
as SageMaker infers data dependencies. Only what the SDK's evaluation templates use is evaluated:
``Execution.PipelineExecutionId``/``PipelineExecutionArn``, ``Parameters.<name>``,
``Steps.<step>.<member path>`` of a training step (its request, ``TrainingJobName`` = the job SageMaker
created) and ``Std:Join``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

#: Step types run as a (simulated) job; every other type completes at once.
JOB_STEP_TYPES = ("Training", "Job")


class DefinitionError(ValueError):
    """The definition is not valid JSON or its steps are inconsistent (a ValidationException)."""


@dataclass(frozen=True)
class StepSpec:
    """
    One step of a definition.

    :param name: ``Name``.
    :param step_type: ``Type`` (``Training``, ``Job``, ``Lineage``, ...).
    :param arguments: ``Arguments`` (unevaluated).
    :param depends_on: Names of the steps it waits for (``DependsOn`` and data dependencies).
    :param display_name: ``DisplayName``, if any.
    :param description: ``Description``, if any.
    """

    name: str
    step_type: str
    arguments: dict[str, Any]
    depends_on: tuple[str, ...] = ()
    display_name: str | None = None
    description: str | None = None

    @property
    def runs_job(self) -> bool:
        """Whether the step runs a job (training job or AgentRFT evaluation job)."""
        return self.step_type in JOB_STEP_TYPES


@dataclass(frozen=True)
class Definition:
    """
    A parsed pipeline definition.

    :param steps: Steps in definition order.
    :param parameters: ``Parameters`` defaults by name.
    :param mlflow_config: Top-level ``MlflowConfig`` (``MlflowResourceArn``, ``MlflowExperimentName``), if any.
    """

    steps: tuple[StepSpec, ...]
    parameters: dict[str, Any] = field(default_factory=dict)
    mlflow_config: dict[str, Any] | None = None

    def step(self, name: str) -> StepSpec:
        """
        The step called ``name``.

        :param name: Step name.
        """
        for spec in self.steps:
            if spec.name == name:
                return spec
        raise KeyError(name)


def parse(text: str) -> Definition:
    """
    Parse a ``PipelineDefinition``.

    :param text: The JSON document.
    :raises DefinitionError: Not JSON, no ``Steps`` list, duplicate or unknown step names, a cycle.
    """
    try:
        document = json.loads(text)
    except (TypeError, ValueError) as err:
        raise DefinitionError(f"Pipeline definition is not valid JSON: {err}") from None
    if not isinstance(document, dict) or not isinstance(document.get("Steps"), list):
        raise DefinitionError("Pipeline definition must be a JSON object with a 'Steps' list.")
    raw_steps = [s for s in document["Steps"] if isinstance(s, dict)]
    names = [str(s.get("Name") or "") for s in raw_steps]
    if "" in names or len(set(names)) != len(names):
        raise DefinitionError("Every pipeline step needs a unique 'Name'.")
    steps = []
    for raw, name in zip(raw_steps, names, strict=True):
        raw_arguments = raw.get("Arguments")
        arguments: dict[str, Any] = raw_arguments if isinstance(raw_arguments, dict) else {}
        depends = [str(d) for d in raw.get("DependsOn") or []] + sorted(_step_references(arguments))
        unknown = [d for d in depends if d not in names]
        if unknown:
            raise DefinitionError(f"Step {name} depends on unknown step(s) {sorted(set(unknown))}.")
        steps.append(
            StepSpec(
                name=name,
                step_type=str(raw.get("Type") or ""),
                arguments=arguments,
                depends_on=tuple(dict.fromkeys(d for d in depends if d != name)),
                display_name=raw.get("DisplayName"),
                description=raw.get("Description"),
            )
        )
    _check_acyclic(steps)
    parameters = {
        str(p.get("Name")): p.get("DefaultValue")
        for p in document.get("Parameters") or []
        if isinstance(p, dict) and p.get("Name")
    }
    mlflow = document.get("MlflowConfig") if isinstance(document.get("MlflowConfig"), dict) else None
    return Definition(steps=tuple(steps), parameters=parameters, mlflow_config=mlflow)


def _step_references(value: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(value, dict):
        get = value.get("Get")
        if isinstance(get, str) and get.startswith("Steps."):
            found.add(get.split(".")[1])
        for item in value.values():
            found |= _step_references(item)
    elif isinstance(value, list):
        for item in value:
            found |= _step_references(item)
    return found


def _check_acyclic(steps: list[StepSpec]) -> None:
    pending = {s.name: set(s.depends_on) for s in steps}
    while pending:
        ready = [name for name, deps in pending.items() if not deps & set(pending)]
        if not ready:
            raise DefinitionError(f"Pipeline steps have a dependency cycle among {sorted(pending)}.")
        for name in ready:
            del pending[name]


def evaluate(value: Any, resolve: Callable[[str], Any]) -> Any:
    """
    ``value`` with every ``{"Get": ...}`` and ``{"Std:Join": ...}`` replaced by its value.

    :param value: A (part of a) step's arguments.
    :param resolve: Value of a ``Get`` path (``Execution.PipelineExecutionId``, ``Steps.X.TrainingJobName`` ...).
    """
    if isinstance(value, dict):
        if set(value) == {"Get"}:
            return resolve(str(value["Get"]))
        if set(value) == {"Std:Join"}:
            join = value["Std:Join"] or {}
            parts = [evaluate(v, resolve) for v in join.get("Values") or []]
            return str(join.get("On", "")).join("" if p is None else str(p) for p in parts)
        return {k: evaluate(v, resolve) for k, v in value.items()}
    if isinstance(value, list):
        return [evaluate(v, resolve) for v in value]
    return value


def member(document: Any, path: list[str]) -> Any:
    """
    The value at a dotted member path of a request (``OutputDataConfig.S3OutputPath``), or ``None``.

    :param document: The request.
    :param path: Member names.
    """
    for part in path:
        if not isinstance(document, dict):
            return None
        document = document.get(part)
    return document

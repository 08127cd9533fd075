"""The one registry of job kinds: for each kind, its result, trigger, sensor, extra links and docs.

Everything that varies by kind and is not the kind's own shape (:class:`~airflow_provider_smtrain.jobs.kinds.JobKind`)
is listed here and nowhere else: triggers are built through :func:`trigger_class`, sensors and results
through :func:`job_result`, the provider metadata (``get_provider_info``) reads its trigger modules and
extra links from :data:`CATALOG`, and a contract test (``tests/contracts``) checks every entry against
the classes it names and against ``docs/outputs.md``.

Pure and cheap to import (no AWS, no SDK, no Airflow at import time): triggers, sensors and links are
named by dotted path and imported only when asked for, so this module sits below every layer that uses it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from airflow_provider_smtrain.jobs.endpoint_outputs import endpoint_result
from airflow_provider_smtrain.jobs.evaluation_results import pipeline_execution_result
from airflow_provider_smtrain.jobs.kinds import (
    AGENT_RFT,
    ENDPOINT,
    HUB_CONTENT,
    PIPELINE_EXECUTION,
    TRAINING,
    TUNING,
    JobKind,
)
from airflow_provider_smtrain.jobs.outputs import (
    agent_rft_result,
    hub_content_result,
    training_result,
    tuning_result,
)

if TYPE_CHECKING:
    from airflow_provider_smtrain.links.base import ConsoleLink
    from airflow_provider_smtrain.sensors.jobs import SageMakerJobSensor
    from airflow_provider_smtrain.triggers.base import SageMakerJobTrigger

_PACKAGE = "airflow_provider_smtrain"

#: Builds a kind's documented result from its describe response and region.
ResultBuilder = Callable[[dict[str, Any], str], dict[str, Any]]


@dataclass(frozen=True)
class CatalogEntry:
    """
    Everything the provider attaches to one job kind.

    :param kind: the kind's shape (how to read, judge and stop one job).
    :param result: builds the kind's documented result from a describe response and a region.
    :param result_doc: heading of the section of ``docs/outputs.md`` that documents the result.
    :param trigger: dotted path of the trigger class that waits for jobs of this kind.
    :param sensor: dotted path of the sensor class that waits for jobs of this kind started elsewhere.
    :param links: dotted paths of the operator extra links that point at jobs of this kind.
    :param result_links: dotted paths of extra links to what some operators' results name besides the
        job (a fine-tuned model package, an MLflow app); shown only by the operators that produce it.
    """

    kind: JobKind
    result: ResultBuilder
    result_doc: str
    trigger: str
    sensor: str | None
    links: tuple[str, ...]
    result_links: tuple[str, ...] = ()


def _entries(*entries: CatalogEntry) -> Mapping[str, CatalogEntry]:
    by_name = {item.kind.name: item for item in entries}
    if len(by_name) != len(entries):
        raise ValueError("two catalog entries share a kind name")
    return MappingProxyType(by_name)


def _watched(
    kind: JobKind,
    result: ResultBuilder,
    result_doc: str,
    stem: str,
    module: str,
    links: tuple[str, ...],
    result_links: tuple[str, ...] = (),
) -> CatalogEntry:
    """
    The entry of a kind whose trigger and sensor are ``<stem>Trigger`` and ``<stem>Sensor`` in
    ``triggers.<module>`` and ``sensors.<module>``.

    :param kind: the kind.
    :param result: builds its result.
    :param result_doc: the heading of its result in ``docs/outputs.md``.
    :param stem: the common start of its trigger and sensor class names (``TrainingJob``).
    :param module: the module of its trigger and sensor, in their packages (``jobs``).
    :param links: its links, as ``<module>.<Class>`` in the ``links`` package.
    :param result_links: its result links, likewise.
    """
    return CatalogEntry(
        kind=kind,
        result=result,
        result_doc=result_doc,
        trigger=f"{_PACKAGE}.triggers.{module}.{stem}Trigger",
        sensor=f"{_PACKAGE}.sensors.{module}.{stem}Sensor",
        links=tuple(f"{_PACKAGE}.links.{path}" for path in links),
        result_links=tuple(f"{_PACKAGE}.links.{path}" for path in result_links),
    )


#: What a fine-tuned model's result names besides the job: its model package and MLflow app.
_FINETUNE_RESULT_LINKS = ("finetune.ModelPackageLink", "finetune.MlflowLink")

#: Every job kind the provider runs or watches, by kind name.
CATALOG: Mapping[str, CatalogEntry] = _entries(
    _watched(
        TRAINING,
        training_result,
        "Training result",
        "TrainingJob",
        "jobs",
        ("sagemaker.TrainingJobLink", "sagemaker.TrainingLogsLink"),
        _FINETUNE_RESULT_LINKS,
    ),
    _watched(TUNING, tuning_result, "Tuning result", "TuningJob", "jobs", ("sagemaker.TuningJobLink",)),
    _watched(
        AGENT_RFT,
        agent_rft_result,
        "AgentRFT result",
        "AgentRFTJob",
        "jobs",
        ("sagemaker.AgentRFTJobLink", "sagemaker.AgentRFTLogsLink"),
        _FINETUNE_RESULT_LINKS,
    ),
    _watched(
        HUB_CONTENT, hub_content_result, "AI Registry result", "HubContent", "registry", ("sagemaker.HubContentLink",)
    ),
    _watched(
        PIPELINE_EXECUTION,
        pipeline_execution_result,
        "Evaluation result",
        "PipelineExecution",
        "pipelines",
        ("evaluation.PipelineExecutionLink",),
        ("finetune.MlflowLink",),
    ),
    _watched(ENDPOINT, endpoint_result, "Endpoint result", "Endpoint", "endpoint", ("sagemaker.EndpointLink",)),
)


def entry(kind: JobKind | str) -> CatalogEntry:
    """
    The catalog entry of a kind.

    :param kind: a :class:`JobKind` or its name.
    """
    name = kind if isinstance(kind, str) else kind.name
    try:
        return CATALOG[name]
    except KeyError:
        raise ValueError(f"Unknown job kind {name!r}; accepted: {sorted(CATALOG)}") from None


def kinds() -> tuple[JobKind, ...]:
    """Every job kind, in catalog order."""
    return tuple(item.kind for item in CATALOG.values())


def job_result(kind: JobKind | str, describe: dict[str, Any], region: str) -> dict[str, Any]:
    """
    The documented result of a job of any kind (``docs/outputs.md``).

    :param kind: the job kind (or its name).
    :param describe: the describe response.
    :param region: the AWS region of the job.
    """
    return entry(kind).result(describe, region)


def import_path(dotted_path: str) -> Any:
    """
    The object a ``package.module.Name`` path names, imported on first use (Airflow's ``import_string``).

    :param dotted_path: the dotted path.
    """
    from airflow.sdk.module_loading import import_string

    return import_string(dotted_path)


def trigger_class(kind: JobKind | str) -> type[SageMakerJobTrigger]:
    """
    The trigger class that waits for jobs of ``kind`` (imported on first use).

    :param kind: the job kind (or its name).
    """
    cls: type[SageMakerJobTrigger] = import_path(entry(kind).trigger)
    return cls


def sensor_class(kind: JobKind | str) -> type[SageMakerJobSensor] | None:
    """
    The sensor class that waits for jobs of ``kind`` started elsewhere, if the kind has one.

    :param kind: the job kind (or its name).
    """
    path = entry(kind).sensor
    if path is None:
        return None
    cls: type[SageMakerJobSensor] = import_path(path)
    return cls


def link_classes(kind: JobKind | str) -> tuple[type[ConsoleLink], ...]:
    """
    The operator extra link classes that point at jobs of ``kind``.

    :param kind: the job kind (or its name).
    """
    return tuple(import_path(path) for path in entry(kind).links)


def result_link_classes(kind: JobKind | str) -> tuple[type[ConsoleLink], ...]:
    """
    The extra link classes to what some results of ``kind`` name besides the job (model package, MLflow).

    :param kind: the job kind (or its name).
    """
    return tuple(import_path(path) for path in entry(kind).result_links)


def trigger_modules() -> list[str]:
    """The modules that define the triggers of every kind (for the provider metadata)."""
    return list(dict.fromkeys(item.trigger.rpartition(".")[0] for item in CATALOG.values()))


def sensor_modules() -> list[str]:
    """The modules that define the sensors of every kind (for the provider metadata)."""
    return list(dict.fromkeys(item.sensor.rpartition(".")[0] for item in CATALOG.values() if item.sensor))


def extra_links() -> list[str]:
    """Dotted paths of every kind's extra links (for the provider metadata)."""
    return list(
        dict.fromkeys(path for item in CATALOG.values() for path in (*item.links, *item.result_links))
    )

"""Find every operator, sensor, trigger and link the provider ships, the way Airflow does: from its metadata."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from typing import Any

from airflow.sdk import BaseOperator, BaseOperatorLink
from airflow.triggers.base import BaseTrigger

import airflow_provider_smtrain.triggers as triggers_package
from airflow_provider_smtrain.get_provider_info import get_provider_info

PACKAGE = "airflow_provider_smtrain"

__all__ = [
    "job_operator_classes",
    "link_classes",
    "operator_classes",
    "sensor_classes",
    "spec_operator_classes",
    "task_operator_classes",
    "trigger_classes",
]


def _classes_in(modules: list[str], base: type) -> list[type[Any]]:
    found: dict[str, type[Any]] = {}
    for name in modules:
        module = importlib.import_module(name)
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, base) and obj.__module__ in modules:  # defined there, not imported
                found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return sorted(found.values(), key=lambda cls: cls.__qualname__)


def _modules(section: str) -> list[str]:
    return [module for entry in get_provider_info()[section] for module in entry["python-modules"]]


def operator_classes() -> list[type[Any]]:
    """Public concrete operators (not sensors) in the provider's operator modules."""
    return [
        cls
        for cls in _classes_in(_modules("operators"), BaseOperator)
        if not inspect.isabstract(cls) and not cls.__name__.startswith("_")
    ]


def job_operator_classes() -> list[type[Any]]:
    """Listed operators that run one remote job each (``SageMakerJobOperator``: a job kind, a trigger)."""
    from airflow_provider_smtrain.operators.base import SageMakerJobOperator

    return [cls for cls in operator_classes() if issubclass(cls, SageMakerJobOperator)]


def task_operator_classes() -> list[type[Any]]:
    """Listed operators that run no remote job: they finish inside ``execute`` (gates, approval)."""
    jobs = set(job_operator_classes())
    return [cls for cls in operator_classes() if cls not in jobs]


def spec_operator_classes() -> list[type[Any]]:
    """Listed operators whose arguments are validated into a spec (``SageMakerSdkOperator.build_spec``)."""
    from airflow_provider_smtrain.operators.sdk_operator import SageMakerSdkOperator

    return [cls for cls in operator_classes() if issubclass(cls, SageMakerSdkOperator)]


def sensor_classes() -> list[type[Any]]:
    """Sensors that wait for one kind of job, in the provider's sensor modules."""
    return [cls for cls in _classes_in(_modules("sensors"), BaseOperator) if "job_kind" in vars(cls)]


def trigger_classes() -> list[type[Any]]:
    """Every trigger class defined anywhere under ``airflow_provider_smtrain.triggers``."""
    modules = [info.name for info in pkgutil.walk_packages(triggers_package.__path__, f"{PACKAGE}.triggers.")]
    return _classes_in(modules, BaseTrigger)


def link_classes() -> list[type[Any]]:
    """Every operator extra link class defined under ``airflow_provider_smtrain.links``."""
    import airflow_provider_smtrain.links as links_package

    modules = [info.name for info in pkgutil.walk_packages(links_package.__path__, f"{PACKAGE}.links.")]
    return [cls for cls in _classes_in(modules, BaseOperatorLink) if getattr(cls, "key", None)]

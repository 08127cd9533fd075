"""The lazy exports of the operators, sensors and specs packages: imported on first use, then kept."""

from __future__ import annotations

import json.decoder
from typing import Any

import pytest

from airflow_provider_smtrain.lazy_exports import lazy_exports


def test_an_export_is_imported_from_its_submodule_once_and_kept() -> None:
    namespace: dict[str, Any] = {"already": 1}
    getattr_, dir_ = lazy_exports("json", {"JSONDecoder": "decoder"}, namespace)
    assert "JSONDecoder" not in namespace
    assert getattr_("JSONDecoder") is json.decoder.JSONDecoder
    assert namespace["JSONDecoder"] is json.decoder.JSONDecoder  # later accesses never reach __getattr__
    assert dir_() == ["JSONDecoder", "already"]


def test_an_unknown_name_is_an_attribute_error_naming_the_package() -> None:
    getattr_, _ = lazy_exports("json", {"JSONDecoder": "decoder"}, {})
    with pytest.raises(AttributeError, match="module 'json' has no attribute 'Nope'"):
        getattr_("Nope")


def test_the_packages_resolve_their_classes_lazily() -> None:
    import airflow_provider_smtrain.operators as operators
    import airflow_provider_smtrain.sensors as sensors
    import airflow_provider_smtrain.specs as specs

    for package in (operators, sensors, specs):
        assert sorted(package.__all__) == sorted(set(package.__all__) & set(dir(package)))
    assert operators.SFTTrainerOperator.__module__ == "airflow_provider_smtrain.operators.finetune"
    assert sensors.TrainingJobSensor.__module__ == "airflow_provider_smtrain.sensors.jobs"
    with pytest.raises(AttributeError):
        _ = specs.NoSuchSpec

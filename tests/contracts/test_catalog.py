"""The job catalog is the one registry: every kind's trigger, sensor, links, result and docs agree with it."""

from __future__ import annotations

import inspect
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore import xform_name

from airflow_provider_smtrain.get_provider_info import get_provider_info
from airflow_provider_smtrain.jobs import catalog
from airflow_provider_smtrain.jobs.console import console_url
from airflow_provider_smtrain.jobs.kinds import JobKind, get_kind
from airflow_provider_smtrain.links.sagemaker import SageMakerJobLink
from tests.contracts.discovery import (
    job_operator_classes,
    link_classes,
    operator_classes,
    sensor_classes,
    task_operator_classes,
    trigger_classes,
)

OUTPUTS_DOC = Path(__file__).resolve().parents[2] / "docs" / "outputs.md"
KINDS = catalog.kinds()
SAGEMAKER = botocore.session.get_session().get_service_model("sagemaker")
OPERATIONS = {xform_name(name): name for name in SAGEMAKER.operation_names}


#: Kinds whose describe request takes several parameters: an example of their handle.
EXAMPLE_HANDLES = {
    "hub_content": "arn:aws:sagemaker:us-east-1:123456789012:hub-content/HUB/DataSet/my-data/2.0.0",
}
#: The statuses of each kind that mean "still running" (every other status is classified).
RUNNING_STATUSES = {
    "hub_content": {"Importing", "PendingImport"},
    "pipeline_execution": {"Executing"},
    "endpoint": {"Creating", "Updating", "SystemUpdating", "RollingBack"},
}


def kind_id(kind: JobKind) -> str:
    return kind.name


def provider_modules(section: str) -> set[str]:
    return {module for entry in get_provider_info()[section] for module in entry["python-modules"]}


def describe_shape(kind: JobKind) -> Any:
    return SAGEMAKER.operation_model(OPERATIONS[kind.describe_method])


def sample_describe(kind: JobKind) -> dict[str, Any]:
    """A describe response with every top-level member the service model has (scalar placeholders)."""
    now = datetime(2026, 1, 1, tzinfo=UTC)
    values = {"string": "x", "integer": 1, "long": 1, "timestamp": now, "boolean": True, "float": 1.0}
    describe: dict[str, Any] = {}
    for name, shape in describe_shape(kind).output_shape.members.items():
        if shape.type_name in values:
            describe[name] = values[shape.type_name]
    describe[kind.status_key] = next(iter(kind.succeeded))
    return describe


def documented_result_keys(heading: str) -> set[str]:
    """The keys in the first table of the ``## {heading}`` section of docs/outputs.md."""
    section = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", OUTPUTS_DOC.read_text(), re.M | re.S)
    assert section, f"docs/outputs.md has no section '## {heading}'"
    table = re.search(r"^\|.*?(?=^\s*$)", section.group(1).split("| key |", 1)[1], re.M | re.S)
    assert table
    keys: set[str] = set()
    for row in table.group(0).splitlines():
        first_cell = row.split("|")[1] if row.count("|") > 2 else ""
        keys |= set(re.findall(r"`(\w+)`", first_cell))
    return keys


def test_kind_names_are_unique_and_resolve() -> None:
    assert len({kind.name for kind in KINDS}) == len(KINDS) >= 2
    for kind in KINDS:
        assert get_kind(kind.name) is kind
    with pytest.raises(ValueError, match="accepted"):
        get_kind("no-such-kind")


@pytest.mark.parametrize("kind", KINDS, ids=kind_id)
def test_kind_matches_the_sagemaker_service_model(kind: JobKind) -> None:
    describe = describe_shape(kind)
    if kind.handle_params is None:
        assert list(describe.input_shape.required_members) == list(kind.request_params("job-1"))
    else:  # the handle (an ARN) stands for several request parameters
        params = kind.request_params(EXAMPLE_HANDLES[kind.name])
        assert set(describe.input_shape.required_members) <= set(params) <= set(describe.input_shape.members)
    for param, value in kind.fixed_params:  # e.g. JobCategory=AgentRFT: a value the API accepts
        assert value in (describe.input_shape.members[param].enum or [value])
    assert kind.name_param.endswith("Arn" if kind.identity == "arn" else "Name")
    out = describe.output_shape.members
    for key in (kind.status_key, kind.secondary_status_key, kind.failure_key, kind.arn_key):
        assert key is None or key in out, f"{key} is not in {describe.name}'s response"
    statuses = set(out[kind.status_key].enum)
    buckets = (kind.succeeded, kind.failed, kind.stopped, kind.stopping)
    assert sum(len(bucket) for bucket in buckets) == len(set().union(*buckets)), "a status in two buckets"
    running = RUNNING_STATUSES.get(kind.name, {"InProgress"})
    assert statuses - set().union(*buckets) == running, "a SageMaker status the kind does not classify"
    assert kind.succeeded <= statuses and kind.stopping <= statuses
    if kind.stoppable:
        stop = SAGEMAKER.operation_model(OPERATIONS[kind.stop_method])
        assert set(kind.stop_params("job-1")) == set(stop.input_shape.required_members)
    if kind.token_param:
        assert kind.identity == "arn"


@pytest.mark.parametrize("kind", KINDS, ids=kind_id)
def test_trigger_is_the_catalogs_and_listed_for_airflow(kind: JobKind) -> None:
    trigger = catalog.trigger_class(kind)
    assert trigger.fixed_kind == kind.name
    assert trigger.__module__ in provider_modules("triggers")
    instance = trigger(job_name="contract-1")
    assert instance.job_kind is kind


def test_no_trigger_for_a_kind_outside_the_catalog() -> None:
    for trigger in trigger_classes():
        fixed = getattr(trigger, "fixed_kind", None)
        if fixed is not None:
            assert catalog.trigger_class(fixed) is trigger


@pytest.mark.parametrize("kind", KINDS, ids=kind_id)
def test_sensor_is_the_catalogs_and_listed_for_airflow(kind: JobKind) -> None:
    sensor = catalog.sensor_class(kind)
    assert sensor is not None and sensor.job_kind is kind
    assert sensor.__module__ in provider_modules("sensors")


def test_every_sensor_is_in_the_catalog() -> None:
    for sensor in sensor_classes():
        assert catalog.sensor_class(sensor.job_kind) is sensor


@pytest.mark.parametrize("kind", KINDS, ids=kind_id)
def test_links_are_the_catalogs_and_point_where_results_do(kind: JobKind) -> None:
    links = catalog.link_classes(kind)
    assert links, f"{kind.name} has no extra link"
    registered = set(get_provider_info()["extra-links"])
    result = catalog.job_result(kind, {**sample_describe(kind), kind.name_param: "job-1"}, "eu-west-1")
    for link in links:
        assert f"{link.__module__}.{link.__qualname__}" in registered
        assert link.key in OUTPUTS_DOC.read_text(), f"XCom key {link.key} is not in docs/outputs.md"
        url = link().format_link(region_name="eu-west-1", aws_domain="aws.amazon.com", job_name="job-1")
        assert url in result.values(), f"{link.__name__} points where no result URL does"
    job_links = [link for link in links if issubclass(link, SageMakerJobLink)]
    assert [link.job_kind for link in job_links] == [kind]
    assert result["console_url"] == console_url(kind, "job-1", "eu-west-1")


def test_every_link_is_in_the_catalog() -> None:
    listed = {link for kind in KINDS for link in (*catalog.link_classes(kind), *catalog.result_link_classes(kind))}
    assert set(link_classes()) == listed


def test_every_job_operator_runs_a_catalog_kind_and_shows_its_links() -> None:
    assert job_operator_classes(), "no job operator listed for Airflow"
    for operator in job_operator_classes():
        kind = operator.job_kind
        assert catalog.entry(kind).kind is kind
        links = set(catalog.link_classes(kind))
        assert operator.job_link in links
        shown = {type(link) for link in operator.operator_extra_links}
        assert links <= shown <= links | set(catalog.result_link_classes(kind))


def test_operators_without_a_remote_job_never_wait_for_one() -> None:
    """Operators that finish inside ``execute`` (gates, approval) have no job kind, job link or trigger."""
    registered = set(get_provider_info()["extra-links"])
    for operator in task_operator_classes():
        assert not hasattr(operator, "job_kind") and not hasattr(operator, "job_link"), operator.__name__
        assert not hasattr(operator, "execute_complete"), f"{operator.__name__} defers without a job kind"
        assert "deferrable" not in inspect.signature(operator.__init__).parameters, operator.__name__
        for link in operator.operator_extra_links:
            assert f"{type(link).__module__}.{type(link).__qualname__}" in registered, type(link).__name__


def test_every_public_operator_is_listed_for_airflow() -> None:
    """``get_provider_info()`` lists every operator ``airflow_provider_smtrain.operators`` exports, jobs or not."""
    import airflow_provider_smtrain.operators as operators

    exported = {getattr(operators, name) for name in operators._EXPORTS}
    assert {cls.__name__ for cls in exported} - {cls.__name__ for cls in operator_classes()} == set()
    assert set(job_operator_classes()) | set(task_operator_classes()) == set(operator_classes())


@pytest.mark.parametrize("kind", KINDS, ids=kind_id)
def test_result_is_json_native_and_documented_key_for_key(kind: JobKind) -> None:
    describe = {**sample_describe(kind), kind.name_param: "job-1"}
    result = catalog.job_result(kind, describe, "us-east-1")
    minimal = catalog.job_result(kind, {kind.name_param: "job-1"}, "us-east-1")

    assert json.loads(json.dumps(result)) == result
    assert set(minimal) == set(result), "the result's keys must not depend on what the describe holds"
    assert result["kind"] == kind.name and result["job_name"] == "job-1"
    assert documented_result_keys(catalog.entry(kind).result_doc) == set(result)


def test_provider_info_lists_exactly_the_catalogs_triggers_sensors_and_links() -> None:
    entries = [catalog.entry(kind) for kind in KINDS]
    assert provider_modules("triggers") == {e.trigger.rpartition(".")[0] for e in entries}
    assert provider_modules("sensors") == {e.sensor.rpartition(".")[0] for e in entries if e.sensor}
    assert set(get_provider_info()["extra-links"]) == {p for e in entries for p in (*e.links, *e.result_links)}

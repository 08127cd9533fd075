"""``Search`` of ``Resource="PipelineExecution"`` in the local SageMaker: filters, sort, pages, moving times."""

from __future__ import annotations

import time
from datetime import UTC, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from airflow_provider_smtrain.testing.client import LocalSageMaker
from tests.testing import evaluation_pipelines as ep
from tests.testing.conftest import BUCKET

PREFIX = "SagemakerEvaluation-BenchmarkEvaluation-search"


@pytest.fixture
def client(sm: LocalSageMaker) -> Any:
    """SageMaker client; the clock stands still."""
    sm.clock.freeze()
    return sm.boto3_client("sagemaker")


def _start(client: Any, name: str, n: int, display: str) -> str:
    return str(client.start_pipeline_execution(
        PipelineName=name, PipelineExecutionDisplayName=display, ClientRequestToken=ep.token(n)
    )["PipelineExecutionArn"])


def _search(client: Any, *filters: tuple[str, str, Any], **params: Any) -> list[dict[str, Any]]:
    """Every page of a search; the records' executions, in order."""
    request: dict[str, Any] = {"Resource": "PipelineExecution", **params}
    if filters:
        request["SearchExpression"] = {"Filters": [
            {"Name": name, "Operator": op, "Value": value.isoformat() if hasattr(value, "isoformat") else value}
            for name, op, value in filters
        ]}
    found: list[dict[str, Any]] = []
    while True:
        page = client.search(**request)
        found += [record["PipelineExecution"] for record in page["Results"]]
        if not page.get("NextToken"):
            return found
        request["NextToken"] = page["NextToken"]


@pytest.fixture
def three(sm: LocalSageMaker, client: Any) -> list[dict[str, Any]]:
    """Three executions of three pipelines, created 10 s apart, running for 100 s (the last one fails)."""
    sm.add_rule(kind="pipeline_execution", name_glob="s-*", outcome="Succeeded", seconds=100)
    sm.add_rule(kind="pipeline_execution", name_glob="f-*", outcome="Failed", seconds=100,
                failure_reason="ClientError: bad eval", step="EvaluateCustomModel")
    described = []
    for i, display in enumerate(["s-0", "s-1", "f-2"]):
        name = f"{PREFIX}-{time.monotonic_ns()}-{i}"
        ep.create(sm, client, name, "DETERMINISTIC_TEMPLATE", BUCKET)
        arn = _start(client, name, i, display)
        described.append(client.describe_pipeline_execution(PipelineExecutionArn=arn))
        sm.clock.advance(10.0)
    return described


def arns(found: list[dict[str, Any]], among: list[dict[str, Any]]) -> list[str]:
    """The ARNs of ``found`` that are among the executions ``among`` (other tests' executions are ignored)."""
    mine = {e["PipelineExecutionArn"] for e in among}
    return [e["PipelineExecutionArn"] for e in found if e["PipelineExecutionArn"] in mine]


def test_filters_on_times_arn_and_status(client: Any, three: list[dict[str, Any]]) -> None:
    first, second, third = (e["PipelineExecutionArn"] for e in three)
    created = [e["CreationTime"] for e in three]
    asc = {"SortBy": "CreationTime", "SortOrder": "Ascending"}
    assert arns(_search(client, ("CreationTime", "GreaterThan", created[0]), **asc), three) == [second, third]
    assert arns(_search(client, ("CreationTime", "GreaterThanOrEqualTo", created[0]), **asc), three) == [
        first, second, third]
    assert arns(_search(client, ("CreationTime", "LessThan", created[1]), **asc), three) == [first]
    assert arns(_search(client, ("LastModifiedTime", "GreaterThan", created[1]), **asc), three) == [third]
    assert arns(_search(client, ("PipelineArn", "Equals", three[1]["PipelineArn"])), three) == [second]
    both = _search(client, ("PipelineExecutionStatus", "Equals", "Executing"),
                   ("CreationTime", "GreaterThanOrEqualTo", created[1]), **asc)
    assert arns(both, three) == [second, third]
    # the documented format of a timestamp (``YYYY-mm-dd'T'HH:MM:SS``, UTC), as the shared poller sends it
    whole_second = created[1].astimezone(UTC).replace(microsecond=0) + timedelta(seconds=1)
    documented = whole_second.strftime("%Y-%m-%dT%H:%M:%S")
    assert arns(_search(client, ("CreationTime", "LessThan", documented), **asc), three) == [first, second]
    # default order: newest first
    assert arns(_search(client, ("CreationTime", "GreaterThanOrEqualTo", created[0])), three) == [third, second, first]


def test_last_modified_time_moves_as_executions_step_and_a_failure_carries_its_reason(
    sm: LocalSageMaker, client: Any, three: list[dict[str, Any]]
) -> None:
    since = three[-1]["LastModifiedTime"]
    assert arns(_search(client, ("LastModifiedTime", "GreaterThan", since)), three) == []
    sm.clock.advance(100.0)  # the first two end, the third is still running
    changed = _search(client, ("LastModifiedTime", "GreaterThan", since),
                      SortBy="LastModifiedTime", SortOrder="Ascending")
    ended = [e for e in changed if e["PipelineExecutionArn"] in arns(three[:2], three)]
    assert [e["PipelineExecutionArn"] for e in ended] == arns(three[:2], three)
    assert [e["PipelineExecutionStatus"] for e in ended] == ["Succeeded"] * 2
    assert all(e["LastModifiedTime"] > since for e in ended)
    sm.clock.advance(20.0)
    [failed] = [e for e in _search(client, ("PipelineExecutionStatus", "Equals", "Failed"))
                if e["PipelineExecutionArn"] == three[2]["PipelineExecutionArn"]]
    assert failed["FailureReason"] and failed["LastModifiedTime"] == since + timedelta(seconds=100)
    described = client.describe_pipeline_execution(PipelineExecutionArn=three[2]["PipelineExecutionArn"])
    for key in ("PipelineArn", "PipelineExecutionStatus", "FailureReason", "CreationTime", "LastModifiedTime"):
        assert failed[key] == described[key], key


def test_pages_sorted_by_creation_cover_every_execution_once(sm: LocalSageMaker, client: Any) -> None:
    name = f"{PREFIX}-paged-{time.monotonic_ns()}"
    ep.create(sm, client, name, "DETERMINISTIC_TEMPLATE", BUCKET)
    started = []
    for i in range(7):
        started.append({"PipelineExecutionArn": _start(client, name, 100 + i, f"p-{i}")})
        sm.clock.advance(1.0 if i % 2 else 0.0)  # some share a creation time: ties broken by ARN
    pipeline_arn = client.describe_pipeline(PipelineName=name)["PipelineArn"]
    where = ("PipelineArn", "Equals", pipeline_arn)
    whole = _search(client, where, SortBy="CreationTime", SortOrder="Ascending", MaxResults=100)
    paged = _search(client, where, SortBy="CreationTime", SortOrder="Ascending", MaxResults=2)
    assert len(whole) == 7 and [e["PipelineExecutionArn"] for e in paged] == [e["PipelineExecutionArn"] for e in whole]
    order = sorted(whole, key=lambda e: (e["CreationTime"], e["PipelineExecutionArn"]))
    assert [e["PipelineExecutionArn"] for e in whole] == [e["PipelineExecutionArn"] for e in order]
    assert client.search(Resource="PipelineExecution", SearchExpression={"Filters": [
        {"Name": "PipelineArn", "Operator": "Equals", "Value": pipeline_arn}]}, MaxResults=3)["NextToken"]


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({"SortBy": "Name"}, "sortBy"),
        ({"SortOrder": "Up"}, "sortOrder"),
        ({"SearchExpression": {"Filters": [{"Name": "LastModifiedTime", "Operator": "Contains", "Value": "x"}]}},
         "Operator 'Contains'"),
        ({"SearchExpression": {"Filters": [{"Name": "DisplayName", "Operator": "Equals", "Value": "x"}]}},
         "DisplayName"),
        ({"SearchExpression": {"Filters": [{"Name": "CreationTime", "Operator": "GreaterThan", "Value": "soon"}]}},
         "soon"),
        ({"SearchExpression": {"Filters": [{"Name": "CreationTime", "Operator": "Exists"}]}}, "Exists"),
        ({"NextToken": "nope"}, "pagination token"),
    ],
)
def test_unsupported_or_invalid_requests_are_validation_errors(client: Any, params: dict[str, Any], needle: str) -> None:
    with pytest.raises(ClientError) as raised:
        client.search(Resource="PipelineExecution", **params)
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert needle in raised.value.response["Error"]["Message"]


def test_other_resources_keep_motos_search(sm: LocalSageMaker, client: Any) -> None:
    name = f"{PREFIX}-moto-{time.monotonic_ns()}"
    ep.create(sm, client, name, "DETERMINISTIC_TEMPLATE", BUCKET)
    found = client.search(Resource="Pipeline", SearchExpression={"Filters": [
        {"Name": "PipelineName", "Operator": "Equals", "Value": name}]})["Results"]
    assert [r["Pipeline"]["PipelineName"] for r in found] == [name]


def test_search_faults_are_injectable(sm: LocalSageMaker, client: Any, three: list[dict[str, Any]]) -> None:
    sm.fail_next("Search", code="AccessDeniedException", status=400)
    with pytest.raises(ClientError) as raised:
        client.search(Resource="PipelineExecution")
    assert raised.value.response["Error"]["Code"] == "AccessDeniedException"
    assert arns(_search(client), three)  # one shot: the next search answers

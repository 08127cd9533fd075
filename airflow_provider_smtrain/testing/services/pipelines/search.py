"""
``Search`` with ``Resource="PipelineExecution"`` over the simulated executions (server process only).

What an account-wide status read of many pipeline executions needs: ``SearchExpression.Filters`` on
``LastModifiedTime`` and ``CreationTime`` (``GreaterThan``, ``GreaterThanOrEqualTo``, ``LessThan``,
``LessThanOrEqualTo``; ISO 8601, UTC when it has no offset, as AWS documents ``YYYY-mm-dd'T'HH:MM:SS``) and on ``PipelineArn``, ``PipelineExecutionArn``,
``PipelineExecutionStatus`` (``Equals``, ``NotEquals``), all of which must hold; ``SortBy``
``CreationTime`` or ``LastModifiedTime`` (ties broken by ARN, so pages never overlap), ``SortOrder``
(default ``Descending``), ``MaxResults`` (1-100, default 10) and ``NextToken``. Each record is
``{"PipelineExecution": {...}}`` with the describe's fields (``LastModifiedTime`` moves as the
execution steps through simulated time). Other operators, ``NestedFilters``, ``SubExpressions`` and
other filter names are a ``ValidationException`` naming them. Other resources keep moto's ``Search``.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from moto.sagemaker.exceptions import AWSValidationException

from airflow_provider_smtrain.testing.engine.timeline import to_datetime
from airflow_provider_smtrain.testing.services.listing import as_datetime, enum_error
from airflow_provider_smtrain.testing.services.paging import page
from airflow_provider_smtrain.testing.services.pipelines.model import ExecutionSim
from airflow_provider_smtrain.testing.services.pipelines.service import PipelineExecutions

RESOURCE = "PipelineExecution"
SORT_BY = ("CreationTime", "LastModifiedTime")
SORT_ORDER = ("Ascending", "Descending")
TIME_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "GreaterThan": operator.gt,
    "GreaterThanOrEqualTo": operator.ge,
    "LessThan": operator.lt,
    "LessThanOrEqualTo": operator.le,
}
TEXT_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {"Equals": operator.eq, "NotEquals": operator.ne}
#: Filter name -> (the execution's value, its operators, how the filter's value is read).
FIELDS: dict[str, tuple[Callable[[ExecutionSim], Any], dict[str, Callable[[Any, Any], bool]], Callable[[Any], Any]]] = {
    "LastModifiedTime": (lambda e: to_datetime(max(e.created, e.last_modified)), TIME_OPERATORS, as_datetime),
    "CreationTime": (lambda e: to_datetime(e.created), TIME_OPERATORS, as_datetime),
    "PipelineArn": (lambda e: e.pipeline_arn, TEXT_OPERATORS, str),
    "PipelineExecutionArn": (lambda e: e.arn, TEXT_OPERATORS, str),
    "PipelineExecutionStatus": (lambda e: e.status, TEXT_OPERATORS, str),
}

Test = Callable[[ExecutionSim], bool]


def _invalid(message: str) -> AWSValidationException:
    return AWSValidationException(message)


def compile_filters(expression: Any) -> list[Test]:
    """
    The tests a ``SearchExpression`` puts on an execution (all must hold).

    :param expression: the request's ``SearchExpression`` (or None).
    :raises AWSValidationException: an unsupported part, filter name, operator or value.
    """
    if not expression:
        return []
    unsupported = sorted(k for k in ("NestedFilters", "SubExpressions") if expression.get(k))
    if unsupported or expression.get("Operator", "And") != "And":
        what = ", ".join(unsupported) or f"Operator {expression.get('Operator')!r}"
        raise _invalid(f"The LocalSageMaker does not support {what} in a PipelineExecution search.")
    tests: list[Test] = []
    for item in expression.get("Filters") or []:
        name, op = item.get("Name"), item.get("Operator") or "Equals"
        if name not in FIELDS:
            raise _invalid(f"Invalid filter name {name!r} for resource {RESOURCE}; supported: {', '.join(FIELDS)}.")
        value_of, operators, parse = FIELDS[name]
        if op not in operators:
            raise _invalid(f"Operator {op!r} is not supported for filter {name!r}; supported: {', '.join(operators)}.")
        if item.get("Value") is None:
            raise _invalid(f"Filter {name!r} needs a Value.")
        try:
            bound = parse(item["Value"])
        except (TypeError, ValueError):
            raise _invalid(f"Invalid value {item['Value']!r} for filter {name!r}.") from None
        tests.append(_test(value_of, operators[op], bound))
    return tests


def _test(value_of: Callable[[ExecutionSim], Any], compare: Callable[[Any, Any], bool], bound: Any) -> Test:
    return lambda execution: bool(compare(value_of(execution), bound))


def record(execution: ExecutionSim) -> dict[str, Any]:
    """
    The ``SearchRecord`` of one execution.

    :param execution: the execution (up to date).
    """
    described = execution.describe()
    fields = ("PipelineArn", "PipelineExecutionArn", "PipelineExecutionDisplayName", "PipelineExecutionStatus",
              "PipelineExecutionDescription", "FailureReason", "CreationTime", "LastModifiedTime", "PipelineVersionId")
    return {"PipelineExecution": {k: described[k] for k in fields if k in described}}


def search(service: PipelineExecutions, where: tuple[str, str], params: dict[str, Any]) -> dict[str, Any]:
    """
    One page of a ``Search`` of the pipeline executions of an account and region.

    :param service: the simulated executions.
    :param where: ``(account, region)`` of the request.
    :param params: the request.
    :raises AWSValidationException: invalid sort, filter or paging.
    """
    sort_by = params.get("SortBy") or "CreationTime"
    sort_order = params.get("SortOrder") or "Descending"
    errors = [enum_error(sort_by, "sortBy", SORT_BY)] if sort_by not in SORT_BY else []
    if sort_order not in SORT_ORDER:
        errors.append(enum_error(sort_order, "sortOrder", SORT_ORDER))
    if errors:
        noun = "error" if len(errors) == 1 else "errors"
        raise _invalid(f"{len(errors)} validation {noun} detected: " + "; ".join(errors))
    tests = compile_filters(params.get("SearchExpression"))
    now = service.simulator.clock.now()
    found = []
    for execution in service.executions.values():
        if (execution.account_id, execution.region) != where:
            continue
        service.advance(execution, now)
        if all(test(execution) for test in tests):
            found.append(execution)
    sort_key: Callable[[ExecutionSim], tuple[float, str]] = (
        (lambda e: (max(e.created, e.last_modified), e.arn)) if sort_by == "LastModifiedTime"
        else (lambda e: (e.created, e.arn))
    )
    found.sort(key=sort_key, reverse=sort_order == "Descending")
    try:
        result = page(found, "Results", params.get("MaxResults"), params.get("NextToken"))
    except ValueError as err:
        raise _invalid(str(err)) from None
    result["Results"] = [record(e) for e in result["Results"]]
    return result


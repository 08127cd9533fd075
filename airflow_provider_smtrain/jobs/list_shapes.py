"""
How a kind's jobs are read many at once (coalesced status reads in the triggerer): the List* call of
the kind (:class:`ListShape`) and, where SageMaker's ``Search`` covers the kind across every container,
the ``Search`` that replaces it (:class:`SearchShape`). Pure data (no AWS, no SDK).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

__all__ = ["SEARCH_REFUSED_CODES", "ListShape", "SearchShape"]

#: Error codes of a ``Search`` that make a poller fall back to the List* call: denied by IAM, or
#: rejected (the resource type or a filter is not supported in the region).
SEARCH_REFUSED_CODES = frozenset({"AccessDeniedException", "AccessDenied", "UnauthorizedOperation",
                                  "ValidationException"})


@dataclass(frozen=True)
class SearchShape:
    """
    How ``Search`` reports the jobs of a kind across the whole account and region, one request per page.

    The request keeps jobs changed after a time (``Filters``: ``<modified_key> GreaterThan <time>``, the
    window of :mod:`~airflow_provider_smtrain.triggers.list_window`), sorted by ``sort_by`` ascending.

    :param resource: the ``Resource`` searched (``PipelineExecution``).
    :param record_key: the member of each ``SearchRecord`` that holds the job.
    :param name_key: record key of the job's handle (what triggers wait on).
    :param status_key: record key of the job status.
    :param failure_key: record key of the failure reason (an event of a failed job needs no describe).
    :param modified_key: record key (and filter name) of the time SageMaker last changed the job.
    :param sort_by: ``SortBy`` value whose order never changes while results are paged (creation time).
    :param max_results: largest page size ``Search`` accepts.
    """

    resource: str
    record_key: str
    name_key: str
    status_key: str
    failure_key: str | None = "FailureReason"
    modified_key: str = "LastModifiedTime"
    sort_by: str = "CreationTime"
    max_results: int = 100
    method: str = "search"
    secondary_status_key: str | None = None

    def request(self, after: datetime) -> dict[str, Any]:
        """
        The first page's request for the jobs changed after ``after``.

        :param after: the window's start (a server time).
        """
        moment = (after if after.tzinfo else after.replace(tzinfo=UTC)).astimezone(UTC)
        return {
            "Resource": self.resource,
            # the documented format of a timestamp filter, ``YYYY-mm-dd'T'HH:MM:SS`` in UTC: whole
            # seconds, rounded down (the window only grows)
            "SearchExpression": {"Filters": [
                {"Name": self.modified_key, "Operator": "GreaterThan", "Value": moment.strftime("%Y-%m-%dT%H:%M:%S")},
            ]},
            "SortBy": self.sort_by,
            "SortOrder": "Ascending",
            "MaxResults": self.max_results,
        }

    def summaries(self, page: dict[str, Any]) -> list[dict[str, Any]]:
        """
        The jobs of one page of results.

        :param page: a ``Search`` response.
        """
        return [record[self.record_key] for record in page.get("Results") or [] if record.get(self.record_key)]


@dataclass(frozen=True)
class ListShape:
    """
    How the List* call of a kind reports many jobs at once (for coalesced status reads in the triggerer).

    :param method: snake_case client method that lists jobs of the kind (``list_training_jobs``).
    :param summaries_key: response key of the list of job summaries.
    :param name_key: summary key of the job's name (what triggers wait on).
    :param status_key: summary key of the job status.
    :param secondary_status_key: summary key of the secondary status, if summaries carry one.
    :param modified_key: summary key of the time SageMaker last changed the job.
    :param modified_after_param: request parameter that keeps only jobs changed after a time.
    :param sort_by: ``SortBy`` value whose order never changes while a listing is paged (creation time).
    :param max_results: largest page size the call accepts.
    :param created_after_param: for calls that cannot filter by change time (``ListPipelineExecutions``),
        the request parameter that keeps only jobs created after a time: the window is then a creation
        lower bound (the earliest creation of the waited jobs), with no ``LastModifiedTime`` watermark,
        and every poll lists every job created since, whatever its status.
    :param created_key: describe response key of the job's creation time (the lower bound's source).
    :param scope_param: request parameter the call requires to name the container of the jobs it lists
        (``PipelineName``); None when the call lists the whole account.
    :param scope: derives the value of ``scope_param`` from a job's handle (the pipeline name from an
        execution ARN); None when the handle names no scope (then the job is described alone).
    :param search: the ``Search`` that reads the kind's jobs across every scope with one request per
        poll; the List* call is then the fallback when ``Search`` is refused (:data:`SEARCH_REFUSED_CODES`).
    """

    method: str
    summaries_key: str
    name_key: str
    status_key: str
    secondary_status_key: str | None = None
    modified_key: str = "LastModifiedTime"
    modified_after_param: str = "LastModifiedTimeAfter"
    sort_by: str = "CreationTime"
    max_results: int = 100
    created_after_param: str | None = None
    created_key: str = "CreationTime"
    scope_param: str | None = None
    scope: Callable[[str], str | None] | None = None
    search: SearchShape | None = None

    def summaries(self, page: dict[str, Any]) -> list[dict[str, Any]]:
        """
        The job summaries of one page.

        :param page: a List* response.
        """
        return list(page.get(self.summaries_key) or [])

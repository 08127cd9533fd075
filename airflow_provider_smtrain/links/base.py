"""The base of the provider's console links: the amazon ``BaseAwsLink`` contract without its import cost.

:class:`ConsoleLink` has the contract of the amazon provider's ``BaseAwsLink`` (``persist``, ``get_link``,
``format_link``, ``get_aws_domain``, the XCom layout ``{"region_name", "aws_domain", ...}``) without
importing it: its module imports botocore, which a DAG file would then pay at parse time.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from airflow.providers.common.compat.sdk import BaseOperatorLink, XCom

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator, Context
    from airflow.sdk.types import TaskInstanceKey

_log = logging.getLogger(__name__)
_AWS_DOMAINS = {"aws": "aws.amazon.com", "aws-cn": "amazonaws.cn", "aws-us-gov": "amazonaws-us-gov.com"}
_R = TypeVar("_R")


def _quietly(default: Any) -> Callable[[Callable[..., _R]], Callable[..., _R]]:
    """A link never fails its task or the UI: log the error and return ``default`` instead."""

    def decorate(func: Callable[..., _R]) -> Callable[..., _R]:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> _R:
            try:
                return func(*args, **kwargs)
            except Exception:
                _log.exception("%s failed; the extra link is left empty", func.__qualname__)
                return default  # type: ignore[no-any-return]

        return wrapper

    return decorate


class ConsoleLink(BaseOperatorLink):
    """An AWS console link whose arguments the operator stores in XCom under :attr:`key` (see :meth:`persist`)."""

    name: ClassVar[str]
    key: ClassVar[str]

    @staticmethod
    def get_aws_domain(aws_partition: str) -> str | None:
        """
        The console domain of an AWS partition (``aws``, ``aws-cn``, ``aws-us-gov``); None for others.

        :param aws_partition: the partition of the client's region.
        """
        return _AWS_DOMAINS.get(aws_partition)

    def format_link(self, **kwargs: Any) -> str:
        """
        The URL built from what :meth:`persist` stored; ``""`` when it cannot be built.

        :param kwargs: the persisted ``region_name``, ``aws_domain`` and the subclass's own values.
        """
        raise NotImplementedError

    @_quietly("")
    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        """
        The link of the task instance ``ti_key``, ``""`` when nothing was persisted.

        :param operator: the operator the link belongs to.
        :param ti_key: the task instance.
        """
        conf = XCom.get_value(key=self.key, ti_key=ti_key)
        return self.format_link(**conf) if conf else ""

    @classmethod
    @_quietly(None)
    def persist(
        cls, context: Context, operator: BaseOperator, region_name: str, aws_partition: str, **kwargs: Any
    ) -> None:
        """
        Store what the link needs in XCom (nothing when the operator does not push XComs).

        :param context: the task context.
        :param operator: the operator.
        :param region_name: the job's region.
        :param aws_partition: the partition of the region (for the console domain).
        :param kwargs: values the subclass's :meth:`format_link` reads (``job_name``).
        """
        if not operator.do_xcom_push:
            return
        context["ti"].xcom_push(
            key=cls.key,
            value={"region_name": region_name, "aws_domain": cls.get_aws_domain(aws_partition), **kwargs},
        )

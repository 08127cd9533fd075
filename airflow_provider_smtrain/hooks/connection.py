"""
A named Airflow connection that does not exist is an error, never a silent switch to ambient credentials.

The amazon provider's :class:`~airflow.providers.amazon.aws.hooks.base_aws.AwsBaseHook` logs
"Unable to find AWS Connection ID ..., switching to empty" and then signs with whatever the process's
environment holds (another account, another region). Here a missing connection raises
:class:`~airflow.sdk.exceptions.AirflowNotFoundException` naming it, before any AWS call. The default
credential chain (environment, instance profile, IRSA) is used only when ``aws_conn_id=None``.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook
from airflow.providers.amazon.aws.utils.connection_wrapper import AwsConnectionWrapper
from airflow.providers.common.compat.sdk import AirflowNotFoundException


def missing_connection_error(aws_conn_id: str) -> AirflowNotFoundException:
    """
    The error raised for a connection id that names no connection.

    :param aws_conn_id: the connection id that was not found.
    """
    return AirflowNotFoundException(
        f"The Airflow connection {aws_conn_id!r} does not exist (aws_conn_id={aws_conn_id!r}). "
        "Create it, fix the id, or pass aws_conn_id=None to use the default AWS credential chain "
        "(environment, instance profile, IRSA) on purpose."
    )


class RequireConnectionMixin:
    """
    Mixin for :class:`AwsBaseHook` subclasses: a named connection must exist.

    Put it before ``AwsBaseHook`` in the bases; it replaces ``conn_config`` only.
    """

    aws_conn_id: str | None
    _region_name: str | None
    _config: Any
    _verify: bool | str | None

    @cached_property
    def conn_config(self) -> AwsConnectionWrapper:
        """The Airflow connection wrapped for boto3; raises when a named connection does not exist."""
        connection = None
        if self.aws_conn_id:
            try:
                connection = self.get_connection(self.aws_conn_id)  # type: ignore[attr-defined]
            except AirflowNotFoundException as err:
                raise missing_connection_error(self.aws_conn_id) from err
        return AwsConnectionWrapper(
            conn=connection,
            region_name=self._region_name,
            botocore_config=self._config,
            verify=self._verify,
        )


class StrictAwsBaseHook(RequireConnectionMixin, AwsBaseHook):
    """
    :class:`AwsBaseHook` that refuses a named connection that does not exist.

    :param kwargs: passed to :class:`AwsBaseHook` (``aws_conn_id``, ``region_name``, ``verify``,
        ``config``, ``client_type``).
    """

"""The AWS connection parameters every operator and sensor of the provider takes, and its hook, built on first use.

This is the contract of the amazon provider's ``AwsBaseOperator``/``AwsBaseSensor`` (same arguments,
defaults, template fields, ``hook`` and ``_hook_parameters``) without their import cost: their modules
import ``AwsBaseHook`` and with it boto3 and botocore (~70 ms at DAG parse time). Here the hook module is
imported inside :attr:`AwsTaskMixin.hook`, i.e. when a task runs.
"""

from __future__ import annotations

from functools import cache, cached_property
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_provider_smtrain.hooks.sagemaker_train import SageMakerTrainHook

__all__ = ["AWS_TEMPLATE_FIELDS", "AwsTaskMixin", "aws_template_fields"]

AWS_TEMPLATE_FIELDS = ("aws_conn_id", "region_name", "verify")


@cache
def aws_template_fields(*template_fields: str) -> tuple[str, ...]:
    """
    The connection template fields and ``template_fields``, sorted (as the amazon provider's helper does).

    :param template_fields: the class's own template fields.
    """
    if not all(isinstance(field, str) for field in template_fields):
        raise TypeError(f"template fields must be strings, got {', '.join(map(repr, template_fields))}")
    return tuple(sorted({*AWS_TEMPLATE_FIELDS, *template_fields}))


class AwsTaskMixin:
    """
    Connection parameters and the task's :class:`SageMakerTrainHook`, created on first access.

    The operator or sensor ``__init__`` takes the parameters (so Airflow's ``default_args`` and
    ``.partial()`` see them in its signature) and calls :meth:`_set_aws_parameters`.
    """

    aws_conn_id: str | None
    region_name: str | None
    verify: bool | str | None
    botocore_config: dict[str, Any] | None

    def _set_aws_parameters(
        self,
        aws_conn_id: str | None,
        region_name: str | None,
        verify: bool | str | None,
        botocore_config: dict[str, Any] | None,
    ) -> None:
        """
        Store the connection parameters.

        :param aws_conn_id: the Airflow ``aws`` connection; None: the default credential chain.
        :param region_name: AWS region; overrides the connection's region.
        :param verify: whether to verify SSL certificates, or a CA bundle path.
        :param botocore_config: botocore client configuration as a dict.
        """
        self.aws_conn_id = aws_conn_id
        self.region_name = region_name
        self.verify = verify
        self.botocore_config = botocore_config

    @property
    def _hook_parameters(self) -> dict[str, Any]:
        """The keyword arguments of the hook; subclasses add theirs."""
        return {
            "aws_conn_id": self.aws_conn_id,
            "region_name": self.region_name,
            "verify": self.verify,
            "config": self.botocore_config,
        }

    @cached_property
    def hook(self) -> SageMakerTrainHook:
        """The task's hook, built from :attr:`_hook_parameters` on first use (imports boto3 then, not at parse)."""
        from airflow_provider_smtrain.hooks.sagemaker_train import SageMakerTrainHook

        return SageMakerTrainHook(**self._hook_parameters)

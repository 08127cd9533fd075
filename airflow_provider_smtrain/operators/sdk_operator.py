"""The base of every operator that uses the SageMaker SDK: hook, validated spec, region, DAG folder.

Operators that are not one remote job (AI Registry operations, a quality gate, deploy helpers) derive
from :class:`SageMakerSdkOperator` directly; job operators derive from
:class:`~airflow_provider_smtrain.operators.base.SageMakerJobOperator`, which adds the job lifecycle.

Parse-time rule: nothing here imports ``sagemaker.*``, ``specs``, ``triggers``, ``hooks`` (boto3) or the
amazon provider's operator base at module level. Subclasses import them inside methods (see the
"how to keep imports cheap" notes in :mod:`airflow_provider_smtrain.operators`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import cached_property
from typing import Any

from airflow.sdk import BaseOperator

from airflow_provider_smtrain.operators.aws_task import AwsTaskMixin, aws_template_fields


class SageMakerSdkOperator(BaseOperator, AwsTaskMixin):
    """
    Base class of the provider's operators: one hook per task, arguments validated before any AWS call.

    :param aws_conn_id: the Airflow ``aws`` connection (credentials, region, endpoint, assume-role);
        None uses the default credential chain of the worker (instance profile, IRSA).
    :param region_name: AWS region; overrides the connection's region.
    :param verify: whether to verify SSL certificates, or a CA bundle path.
    :param botocore_config: botocore client configuration as a dict.
    :param default_bucket: S3 bucket the SDK stages code in; default: chosen by the operator.
    """

    template_fields: Sequence[str] = aws_template_fields("default_bucket")

    def __init__(
        self,
        *,
        aws_conn_id: str | None = "aws_default",
        region_name: str | None = None,
        verify: bool | str | None = None,
        botocore_config: dict[str, Any] | None = None,
        default_bucket: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._set_aws_parameters(aws_conn_id, region_name, verify, botocore_config)
        self.default_bucket = default_bucket

    def build_spec(self) -> Any:
        """Validate the rendered arguments into the operator's spec; raise before any AWS call."""
        raise NotImplementedError

    @property
    def _hook_parameters(self) -> dict[str, Any]:
        return {**super()._hook_parameters, "default_bucket": self.default_bucket}

    @cached_property
    def _spec(self) -> Any:
        return self.build_spec()

    @property
    def region(self) -> str:
        """The region the operator works in (its own, else the connection's); a clear error if neither."""
        return self.hook.require_region()

    def dag_folder(self) -> str | None:
        """The folder of the DAG file this task belongs to, if known (relative paths resolve against it)."""
        if self.has_dag() and self.dag.fileloc:
            return os.path.dirname(self.dag.fileloc)
        return None

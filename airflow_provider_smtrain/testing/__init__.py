"""
Local SageMaker test server for this provider: moto in server mode, extended with job lifecycles,
Stop*/tuning-children APIs, IAM policy simulation, CloudWatch logs, fault injection and a request log.

Importing this package is cheap (no moto, no boto3). Typical use::

    from airflow_provider_smtrain.testing import LocalSageMaker

    with LocalSageMaker(region="us-east-1", training_seconds=2.0) as sm:
        client = boto3.client("sagemaker", endpoint_url=sm.endpoint_url, region_name=sm.region, ...)

pytest fixtures: ``pytest_plugins = ["airflow_provider_smtrain.testing.pytest_plugin"]``.
"""

from __future__ import annotations

from airflow_provider_smtrain.testing.client import LocalSageMaker, LocalSageMakerError

__all__ = ["LocalSageMaker", "LocalSageMakerError"]

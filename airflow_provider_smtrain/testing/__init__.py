"""
Local SageMaker test server for this provider: moto in server mode, extended with job lifecycles on a
controllable simulation clock, forced job states, Stop*/tuning-children APIs, SageMaker's name rules and
StoppingCondition, IAM policy simulation, CloudWatch logs, fault injection (error responses, lost
responses, dropped requests) and a request log. Organised by emulated service: ``client/`` (what you
import), ``server/``, ``engine/`` (clock, timelines, simulator), ``services/<service>/``.

Importing this package is cheap (no moto, no boto3). Typical use::

    from airflow_provider_smtrain.testing import LocalSageMaker

    with LocalSageMaker(region="us-east-1", training_seconds=2.0) as sm:
        client = boto3.client("sagemaker", endpoint_url=sm.endpoint_url, region_name=sm.region, ...)

pytest fixtures: ``pytest_plugins = ["airflow_provider_smtrain.testing.pytest_plugin"]``.
"""

from __future__ import annotations

from airflow_provider_smtrain.testing.client import LocalSageMaker, LocalSageMakerError

__all__ = ["LocalSageMaker", "LocalSageMakerError"]

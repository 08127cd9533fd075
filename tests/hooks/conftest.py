"""Helpers of the hook tests."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_smtrain.hooks.sagemaker_train import SageMakerTrainHook


def connection_hook(
    sm: Any, monkeypatch: pytest.MonkeyPatch, conn_id: str, access_key_id: str, default_bucket: str
) -> SageMakerTrainHook:
    """
    A hook on an Airflow connection (from the environment) to the local SageMaker with its own access key.

    :param sm: the local SageMaker.
    :param monkeypatch: sets the connection's environment variable for the test.
    :param conn_id: the connection id.
    :param access_key_id: the connection's access key (requests signed with it are the connection's).
    :param default_bucket: the hook's default bucket.
    """
    monkeypatch.setenv(
        f"AIRFLOW_CONN_{conn_id.upper()}",
        sm.airflow_connection_json(access_key_id=access_key_id, secret_access_key=f"{conn_id}-secret"),
    )
    return SageMakerTrainHook(aws_conn_id=conn_id, default_bucket=default_bucket)

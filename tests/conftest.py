"""Test-wide guards: no address but the loopback, no ambient AWS configuration, dummy credentials."""

from __future__ import annotations

import os

import pytest

from airflow_provider_smtrain.testing.network import install_loopback_guard

pytest_plugins = ["airflow_provider_smtrain.testing.pytest_plugin"]

install_loopback_guard("tests")

# Ambient credentials that must never sign a request made through an Airflow connection.
AMBIENT_ACCESS_KEY = "AKIAAMBIENTDONTUSE00"
for _name in list(os.environ):
    if _name.startswith("AWS_"):
        del os.environ[_name]
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": AMBIENT_ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": "ambient-secret",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
)


@pytest.fixture
def ambient_access_key() -> str:
    """The access key of the process's ambient (environment) credentials."""
    return AMBIENT_ACCESS_KEY

"""Operator extra links of the fine-tuning operators to what their job produced: the model package and MLflow.

They are persisted when the job has ended (the model package exists only then), from the task's result:
``{"region_name", "aws_domain", "arn"}``. The URLs come from :mod:`airflow_provider_smtrain.jobs.console`,
the builder the result's ``model_package.console_url`` and ``mlflow.console_url`` use too.
"""

from __future__ import annotations

from typing import Any

from airflow.providers.amazon.aws.links.base_aws import BaseAwsLink

from airflow_provider_smtrain.jobs.console import mlflow_console_url, model_package_console_url


class ModelPackageLink(BaseAwsLink):
    """Link to the model registry page of the fine-tuned model's package version."""

    name = "Fine-tuned Model Package"
    key = "smtrain_model_package"
    format_str = ""  # the URL is built by jobs.console, see format_link

    def format_link(self, **kwargs: Any) -> str:
        """
        The console URL of the persisted model package, or ``""`` when there is none (yet).

        :param kwargs: what :meth:`persist` stored: ``region_name``, ``aws_domain``, ``arn``.
        """
        region, arn = kwargs.get("region_name"), kwargs.get("arn")
        if not region or not arn:
            return ""
        return model_package_console_url(str(arn), str(region))


class MlflowLink(BaseAwsLink):
    """Link to the console page of the MLflow app the job reported to."""

    name = "MLflow"
    key = "smtrain_mlflow"
    format_str = ""  # the URL is built by jobs.console, see format_link

    def format_link(self, **kwargs: Any) -> str:
        """
        The console URL of the persisted MLflow app, or ``""`` when the job had none.

        :param kwargs: what :meth:`persist` stored: ``region_name``, ``aws_domain``, ``arn``.
        """
        region, arn = kwargs.get("region_name"), kwargs.get("arn")
        if not region or not arn:
            return ""
        return mlflow_console_url(str(arn), str(region))

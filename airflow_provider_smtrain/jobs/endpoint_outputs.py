"""The endpoint result (``docs/outputs.md``, "Endpoint result"), built from ``DescribeEndpoint``.

Pure and JSON-native, like :mod:`airflow_provider_smtrain.jobs.outputs`; the deploy operator adds what it
deployed (model, model package, image) on top (``docs/deploy.md``).
"""

from __future__ import annotations

from typing import Any

from airflow_provider_smtrain.jobs.console import console_url
from airflow_provider_smtrain.jobs.kinds import ENDPOINT
from airflow_provider_smtrain.jobs.outputs import iso


def variant_summaries(describe: dict[str, Any]) -> list[dict[str, Any]]:
    """
    The endpoint's serving variants: name, instance counts, weight and deployed image.

    :param describe: a DescribeEndpoint response.
    """
    variants = []
    for variant in describe.get("ProductionVariants") or []:
        images = variant.get("DeployedImages") or [{}]
        variants.append(
            {
                "name": variant.get("VariantName"),
                "current_instance_count": variant.get("CurrentInstanceCount"),
                "desired_instance_count": variant.get("DesiredInstanceCount"),
                "current_weight": variant.get("CurrentWeight"),
                "image": images[0].get("ResolvedImage") or images[0].get("SpecifiedImage"),
            }
        )
    return variants


def endpoint_result(describe: dict[str, Any], region: str) -> dict[str, Any]:
    """
    The result of an endpoint (created, updated, or watched), built from ``DescribeEndpoint``.

    :param describe: the DescribeEndpoint response.
    :param region: the AWS region of the endpoint.
    """
    name = describe["EndpointName"]
    pending = describe.get("PendingDeploymentSummary") or {}
    return {
        "kind": ENDPOINT.name,
        "job_name": name,
        "endpoint_name": name,
        "endpoint_arn": describe.get("EndpointArn"),
        "status": describe.get("EndpointStatus"),
        "failure_reason": ENDPOINT.failure_reason(describe),
        "endpoint_config_name": describe.get("EndpointConfigName"),
        "pending_endpoint_config_name": pending.get("EndpointConfigName"),
        "variants": variant_summaries(describe),
        "creation_time": iso(describe.get("CreationTime")),
        "last_modified_time": iso(describe.get("LastModifiedTime")),
        "console_url": console_url(ENDPOINT, name, region),
    }

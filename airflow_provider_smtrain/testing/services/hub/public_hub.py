"""
The SageMaker public hub (``SageMakerPublicHub``) of the local SageMaker, read-only (server process only).

It holds :data:`~.public_models.MODELS` in every region of their ``regions`` (owner ``aws`` in the ARNs)
and :func:`seed` stores their recipe templates and override specs in the AWS-owned JumpStart bucket of
each region, in an account that is not the caller's (the bucket never shows up in ``ListBuckets``).
The buckets are created on first use (and again after a reset), so a reset costs nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from airflow_provider_smtrain.testing.services.hub import public_models
from airflow_provider_smtrain.testing.services.hub.content import content_arn, hub_arn

#: Account owning the JumpStart buckets in the local S3.
JUMPSTART_ACCOUNT_ID = "626718254512"
PUBLISHED = datetime(2025, 9, 25, 17, 0, tzinfo=UTC)


def is_public(hub_name: str) -> bool:
    """
    Whether ``hub_name`` (a name or an ARN) is the public hub.

    :param hub_name: ``HubName`` of a request.
    """
    return hub_name.rsplit("/", 1)[-1] == public_models.PUBLIC_HUB_NAME


def models(region: str) -> list[public_models.PublicModel]:
    """
    The public models of ``region``, by id.

    :param region: AWS region.
    """
    return [m for _, m in sorted(public_models.MODELS.items()) if region in m.regions]


def find(region: str, content_type: str, name: str, version: str | None) -> public_models.PublicModel:
    """
    A public model, as DescribeHubContent looks it up.

    :param region: AWS region.
    :param content_type: ``HubContentType`` (only ``Model`` exists in the public hub).
    :param name: ``HubContentName``.
    :param version: ``HubContentVersion`` or ``None``.
    :raises LookupError: Not in the public hub (region, type, name or version).
    """
    entry = public_models.MODELS.get(name)
    if (
        content_type != "Model"
        or entry is None
        or region not in entry.regions
        or version not in (None, entry.version)
    ):
        suffix = f" with version {version}" if version else ""
        raise LookupError(
            f"Hub content {name} of type {content_type}{suffix} does not exist in hub "
            f"{public_models.PUBLIC_HUB_NAME}."
        )
    return entry


def _arn(entry: public_models.PublicModel, region: str) -> str:
    return content_arn("aws", region, public_models.PUBLIC_HUB_NAME, "Model", entry.model_id, entry.version)


def summary(entry: public_models.PublicModel, region: str) -> dict[str, Any]:
    """``HubContentInfo`` of a public model."""
    return {
        "HubContentName": entry.model_id,
        "HubContentArn": _arn(entry, region),
        "HubContentVersion": entry.version,
        "HubContentType": "Model",
        "DocumentSchemaVersion": public_models.DOCUMENT_SCHEMA_VERSION,
        "HubContentDisplayName": entry.display_name,
        "HubContentDescription": f"{entry.display_name}, fine-tunable with SageMaker AI model customization.",
        "SupportStatus": "Supported",
        "HubContentSearchKeywords": entry.search_keywords(),
        "HubContentStatus": "Available",
        "CreationTime": PUBLISHED,
        "OriginalCreationTime": PUBLISHED,
    }


def describe(entry: public_models.PublicModel, region: str) -> dict[str, Any]:
    """DescribeHubContent response of a public model."""
    out = summary(entry, region)
    out.pop("OriginalCreationTime")
    out.update(
        {
            "HubName": public_models.PUBLIC_HUB_NAME,
            "HubArn": hub_arn("aws", region, public_models.PUBLIC_HUB_NAME),
            "HubContentDocument": entry.document_json(region),
            "HubContentMarkdown": f"# {entry.display_name}\n\nSource: https://huggingface.co/{entry.hf_model_id}\n",
            "HubContentDependencies": [],
            "LastModifiedTime": PUBLISHED,
        }
    )
    return out


def describe_hub(region: str) -> dict[str, Any]:
    """DescribeHub response of the public hub."""
    return {
        "HubName": public_models.PUBLIC_HUB_NAME,
        "HubArn": hub_arn("aws", region, public_models.PUBLIC_HUB_NAME),
        "HubDisplayName": "SageMaker Public Hub",
        "HubDescription": "SageMaker public hub of foundation models.",
        "HubSearchKeywords": [],
        "HubStatus": "InService",
        "CreationTime": PUBLISHED,
        "LastModifiedTime": PUBLISHED,
    }


def seed(region: str) -> Any:
    """
    Create the JumpStart bucket of ``region`` with every recipe template and override spec; return it.

    :param region: One of :data:`~.public_models.REGIONS`.
    """
    from moto.s3.models import s3_backends

    backend = s3_backends[JUMPSTART_ACCOUNT_ID]["aws"]
    bucket = public_models.recipe_bucket(region)
    if bucket not in backend.buckets:
        backend.create_bucket(bucket, region)
        for key, body in public_models.recipe_objects(region).items():
            backend.put_object(bucket, key, body)
    return backend.buckets[bucket]


#: JumpStart bucket name -> region.
JUMPSTART_BUCKETS = {public_models.recipe_bucket(region): region for region in public_models.REGIONS}

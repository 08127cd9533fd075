"""
Experiment (lineage) artifacts moto lacks: ``CreateArtifact``, ``DescribeArtifact``, ``ListArtifacts``
(server process only; idempotent). The evaluators' ``_get_or_create_artifact_arn`` lists artifacts of a
model's source URI, else creates one and describes it. Artifacts live on moto's SageMaker backend of
their account and region, so a reset forgets them.
"""

from __future__ import annotations

import copy
import math
import secrets
from typing import Any

from moto.core.responses import ActionResult
from moto.sagemaker.exceptions import AWSValidationException, ResourceNotFound
from moto.sagemaker.responses import SageMakerResponse

from airflow_provider_smtrain.testing import moto_support
from airflow_provider_smtrain.testing.engine.simulator import active
from airflow_provider_smtrain.testing.engine.timeline import to_datetime
from airflow_provider_smtrain.testing.services.listing import as_datetime, enum_error
from airflow_provider_smtrain.testing.services.paging import page

SORT_ORDER = ("Ascending", "Descending")


def install() -> None:
    """Add the three operations to moto's SageMaker (once per process)."""
    moto_support.patch_once(SageMakerResponse, "create_artifact", lambda _: create_artifact)
    moto_support.patch_once(SageMakerResponse, "describe_artifact", lambda _: describe_artifact)
    moto_support.patch_once(SageMakerResponse, "list_artifacts", lambda _: list_artifacts)


def _store(response: SageMakerResponse) -> dict[str, dict[str, Any]]:
    backend: Any = response.sagemaker_backend
    if not hasattr(backend, "local_artifacts"):
        backend.local_artifacts = {}
    store: dict[str, dict[str, Any]] = backend.local_artifacts
    return store


def create_artifact(self: SageMakerResponse) -> ActionResult:
    """
    CreateArtifact.

    :param self: moto's SageMaker response handler.
    """
    source = self._get_param("Source") or {}
    artifact_type = self._get_param("ArtifactType")
    missing = [m for m, v in (("source", source.get("SourceUri")), ("artifactType", artifact_type)) if not v]
    if missing:
        raise AWSValidationException(
            f"1 validation error detected: Value null at '{missing[0]}' failed to satisfy constraint: Member must not be null"
        )
    backend = self.sagemaker_backend
    arn = f"arn:aws:sagemaker:{backend.region_name}:{backend.account_id}:artifact/{secrets.token_hex(16)}"
    now = to_datetime(math.floor(active().clock.now() * 1000) / 1000)
    record: dict[str, Any] = {
        "ArtifactArn": arn,
        "Source": copy.deepcopy(source),
        "ArtifactType": artifact_type,
        "CreationTime": now,
        "LastModifiedTime": now,
    }
    for member in ("ArtifactName", "Properties", "MetadataProperties"):
        if self._get_param(member):
            record[member] = copy.deepcopy(self._get_param(member))
    _store(self)[arn] = record
    return ActionResult({"ArtifactArn": arn})


def describe_artifact(self: SageMakerResponse) -> ActionResult:
    """
    DescribeArtifact.

    :param self: moto's SageMaker response handler.
    """
    arn = str(self._get_param("ArtifactArn") or "")
    record = _store(self).get(arn)
    if record is None:
        raise ResourceNotFound(message=f"Artifact {arn} does not exist.")
    return ActionResult(copy.deepcopy(record))


def list_artifacts(self: SageMakerResponse) -> ActionResult:
    """
    ListArtifacts: ``SourceUri``, ``ArtifactType``, creation bounds, ``SortBy`` ``CreationTime``, pages.

    :param self: moto's SageMaker response handler.
    """
    sort_by = self._get_param("SortBy") or "CreationTime"
    sort_order = self._get_param("SortOrder") or "Descending"
    errors = [enum_error(sort_by, "sortBy", ("CreationTime",))] if sort_by != "CreationTime" else []
    if sort_order not in SORT_ORDER:
        errors.append(enum_error(sort_order, "sortOrder", SORT_ORDER))
    if errors:
        noun = "error" if len(errors) == 1 else "errors"
        raise AWSValidationException(f"{len(errors)} validation {noun} detected: " + "; ".join(errors))
    records = list(_store(self).values())
    if self._get_param("SourceUri"):
        records = [r for r in records if r["Source"].get("SourceUri") == self._get_param("SourceUri")]
    if self._get_param("ArtifactType"):
        records = [r for r in records if r["ArtifactType"] == self._get_param("ArtifactType")]
    for param, keep in (("CreatedAfter", lambda v, b: v > b), ("CreatedBefore", lambda v, b: v < b)):
        if self._get_param(param) is not None:
            bound = as_datetime(self._get_param(param))
            records = [r for r in records if keep(r["CreationTime"], bound)]
    records.sort(key=lambda r: (r["CreationTime"], r["ArtifactArn"]), reverse=sort_order == "Descending")
    summaries = [
        {k: copy.deepcopy(r[k]) for k in ("ArtifactArn", "ArtifactName", "Source", "ArtifactType", "CreationTime", "LastModifiedTime") if k in r}
        for r in records
    ]
    try:
        return ActionResult(page(summaries, "ArtifactSummaries", self._get_param("MaxResults"), self._get_param("NextToken")))
    except ValueError as err:
        raise AWSValidationException(str(err)) from None

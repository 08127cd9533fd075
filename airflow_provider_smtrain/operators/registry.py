"""AI Registry operators: ``CreateDataSetOperator`` (``DataSet.create``) and ``CreateEvaluatorOperator`` (``Evaluator.create``).

Both are create-or-reuse (the same name and content give the existing version, changed content gives the
next version) and wait, deferrably by default, until the version is ``Available``; see ``docs/registry.md``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_smtrain.operators.hub_content import (
    REGISTRY_FIELDS,
    HubContentOperator,
    template_fields_of,
)

if TYPE_CHECKING:
    from airflow_provider_smtrain.sdk.ai_registry import RegistryHub
    from airflow_provider_smtrain.specs import DataSetSpec, EvaluatorSpec

DATASET_FIELDS: tuple[str, ...] = (*REGISTRY_FIELDS, "customization_technique")
EVALUATOR_FIELDS: tuple[str, ...] = (*REGISTRY_FIELDS, "type")
#: Key prefix of files the operators upload (content-addressed: ``<prefix>/<name>/<digest>/<file>``).
UPLOAD_PREFIX = "ai-registry"


def _upload_key(kind: str, name: str, digest: str, path: str) -> str:
    return f"{UPLOAD_PREFIX}/{kind}/{name}/{digest[:16]}/{os.path.basename(path)}"


class CreateDataSetOperator(HubContentOperator):
    """
    Register a dataset in the SageMaker AI Registry (``DataSet.create``), or reuse the version that holds it.

    The same ``name`` and the same content (file bytes, or S3 object ETag, and the options below) give
    the existing version and import nothing; changed content imports the next version (``2.0.0``, ...).
    The task waits, deferrably by default, until the version is ``Available`` and fails with SageMaker's
    reason on ``ImportFailed``. Returns the AI Registry result (``docs/registry.md``).

    :param name: dataset name: letters, digits and hyphens, at most 63 characters.
    :param source: S3 URI of the dataset file, or a local file (relative to the DAG file's folder),
        ``.jsonl``, ``.json``, ``.parquet`` or ``.csv``; a local file is uploaded with the connection
        to ``default_bucket`` (else the SDK's default bucket).
    :param customization_technique: ``sft``, ``dpo`` or ``rlvr``.
    :param role: IAM role ARN recorded as the dataset's role.
    :param domain_id: SageMaker Studio domain id, so that the dataset shows in Studio.
    :param search_keywords: extra search keywords ``{key: value}``, lower case.
    """

    content_type = "DataSet"
    spec_fields: ClassVar[tuple[str, ...]] = DATASET_FIELDS
    template_fields: Sequence[str] = template_fields_of(DATASET_FIELDS)
    template_fields_renderers = {"search_keywords": "json"}

    def __init__(
        self,
        *,
        name: str,
        source: str,
        customization_technique: str | None = None,
        role: str | None = None,
        domain_id: str | None = None,
        search_keywords: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.name = name
        self.source = source
        self.customization_technique = customization_technique
        self.role = role
        self.domain_id = domain_id
        self.search_keywords = search_keywords

    def build_spec(self) -> DataSetSpec:
        """Validate the rendered arguments into a :class:`DataSetSpec`."""
        from airflow_provider_smtrain.specs import DataSetSpec, parse_spec

        return parse_spec(DataSetSpec, self.given(), owner=type(self).__name__)

    def digest_fields(self, spec: DataSetSpec) -> dict[str, Any]:
        """The dataset's bytes (or S3 fingerprint) and every option recorded with it."""
        return {
            "source": self.source_fingerprint(spec),
            "customization_technique": spec.customization_technique,
            "role": spec.role,
            "domain_id": spec.domain_id,
            "search_keywords": spec.search_keywords,
        }

    def import_content(self, spec: DataSetSpec, hub: RegistryHub, version: str, digest: str) -> None:
        """Upload a local file (content-addressed key), then import the SDK's dataset document."""
        from airflow_provider_smtrain.sdk import ai_registry

        if spec.source_is_s3:
            bucket, _, key = spec.source[len("s3://"):].partition("/")
            method = "generated"
        else:
            ai_registry.check_dataset_format(spec.source)
            bucket = self.upload_bucket()
            key = _upload_key("datasets", spec.name, digest, spec.source)
            ai_registry.upload_file(bucket, key, spec.source)
            method = "uploaded"
        document, schema = ai_registry.dataset_document(bucket, key, spec.role, spec.customization_technique)
        ai_registry.import_version(
            content_type=self.content_type, name=spec.name, version=version, document=document,
            schema_version=schema,
            keywords=self.keywords(spec, digest, ("method", method),
                                   ("customization_technique", spec.customization_technique)),
        )


class CreateEvaluatorOperator(HubContentOperator):
    """
    Register an evaluator in the SageMaker AI Registry (``Evaluator.create``), or reuse the version that holds it.

    A ``RewardPrompt`` comes from an S3 URI or a local file (uploaded with the connection); a
    ``RewardFunction`` from a Lambda function ARN (used as is: no Lambda call at all) or a local ``.py``
    file with a ``lambda_handler``, from which a Lambda function is created under a name derived from
    the code (the same code never creates a second function). Create-or-reuse and waiting as for
    :class:`CreateDataSetOperator`. Returns the AI Registry result (``docs/registry.md``).

    :param name: evaluator name: letters, digits and hyphens, at most 63 characters.
    :param type: ``RewardFunction`` or ``RewardPrompt``.
    :param source: RewardPrompt: S3 URI or local file; RewardFunction: Lambda ARN or local ``.py``
        (relative paths resolve against the DAG file's folder).
    :param role: IAM role ARN the created Lambda function runs as (required for a local ``.py``).
    :param domain_id: SageMaker Studio domain id, so that the evaluator shows in Studio.
    :param search_keywords: extra search keywords ``{key: value}``, lower case.
    """

    content_type = "JsonDoc"
    spec_fields: ClassVar[tuple[str, ...]] = EVALUATOR_FIELDS
    template_fields: Sequence[str] = template_fields_of(EVALUATOR_FIELDS)
    template_fields_renderers = {"search_keywords": "json"}

    def __init__(
        self,
        *,
        name: str,
        type: str,
        source: str,
        role: str | None = None,
        domain_id: str | None = None,
        search_keywords: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.name = name
        self.type = type
        self.source = source
        self.role = role
        self.domain_id = domain_id
        self.search_keywords = search_keywords

    def build_spec(self) -> EvaluatorSpec:
        """Validate the rendered arguments into an :class:`EvaluatorSpec`."""
        from airflow_provider_smtrain.specs import EvaluatorSpec, parse_spec

        return parse_spec(EvaluatorSpec, self.given(), owner=type(self).__name__)

    def digest_fields(self, spec: EvaluatorSpec) -> dict[str, Any]:
        """The evaluator type, its source (Lambda ARN, or bytes / S3 fingerprint) and its options."""
        if spec.type == "RewardFunction" and not spec.creates_lambda:
            source: dict[str, Any] = {"lambda": spec.source}
        else:
            source = self.source_fingerprint(spec)
        return {
            "evaluator_type": spec.type,
            "source": source,
            "role": spec.role if spec.creates_lambda else None,
            "domain_id": spec.domain_id,
            "search_keywords": spec.search_keywords,
        }

    def import_content(self, spec: EvaluatorSpec, hub: RegistryHub, version: str, digest: str) -> None:
        """Resolve the reference (upload a prompt, create a Lambda), then import the SDK's evaluator document."""
        from airflow_provider_smtrain.sdk import ai_registry

        method: str | None = None
        if spec.type == "RewardPrompt":
            reference = spec.source
            if not spec.source_is_s3:
                bucket = self.upload_bucket()
                reference = ai_registry.upload_file(
                    bucket, _upload_key("evaluators", spec.name, digest, spec.source), spec.source
                )
        elif spec.creates_lambda:
            assert spec.role is not None  # the spec requires it
            function_name = f"SageMaker-evaluator-{spec.name[:30]}-{digest[:12]}"
            reference = ai_registry.ensure_reward_lambda(
                self.hook.client("lambda"), function_name, spec.source, spec.role
            )
            method = "byoc"
        else:
            reference, method = spec.source, "lambda"
        document, schema = ai_registry.evaluator_document(reference, spec.type)
        content_type = "byolambda" if spec.source.startswith("arn:") else "byocode"
        ai_registry.import_version(
            content_type=self.content_type, name=spec.name, version=version, document=document,
            schema_version=schema,
            keywords=self.keywords(spec, digest, ("method", method), ("@subtype", "aws/evaluator"),
                                   ("@evaluatortype", spec.type.lower()), ("@contenttype", content_type)),
        )

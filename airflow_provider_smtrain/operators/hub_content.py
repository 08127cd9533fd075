"""The lifecycle of an AI Registry import: create-or-reuse one version, persist it, wait until Available.

:class:`~airflow_provider_smtrain.operators.base.SageMakerJobOperator` names a job after the task
instance; a registry version is named by the user (name) and numbered at import (version), and the
same content must give the same version whichever task instance asks. This adapter keeps the rest of
the lifecycle (deferral, trigger, resume, deadline, result) and replaces only how the "job" is found:

1. the content digest is computed (local file bytes, or an S3 object's ETag, plus every option that
   shapes the hub content document);
2. the versions of the name are listed; the newest one that carries the digest and has not failed is
   this task's version: re-attached to while it imports, returned when Available (no import);
3. otherwise the next version number is chosen, its ARN is persisted in ``task_state_store``
   **before** anything is uploaded or imported, then the content is imported. A crash after the
   import is found by step 2 on the next try; a lost import response is reconciled the same way;
4. two tasks registering one name at once (two DAG runs) choose the same version, and one import
   answers ``ResourceInUse``: the loser attaches to that version when it holds the same content, and
   goes back to step 2 when it holds other content (a clear error after :data:`MAX_VERSION_RACES`).

An import cannot be stopped: ``stop_job_on_kill`` is always False for these operators, a deadline fails
the task and leaves the import to finish.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_smtrain.exceptions import SageMakerSubmitError
from airflow_provider_smtrain.jobs.hub_content import content_digest, digest_keyword, digest_of, next_version
from airflow_provider_smtrain.jobs.identity import JobIdentity, max_tries_of, new_token
from airflow_provider_smtrain.jobs.kinds import HUB_CONTENT, Outcome, outcome_of
from airflow_provider_smtrain.jobs.outputs import hub_content_result
from airflow_provider_smtrain.links.sagemaker import HubContentLink
from airflow_provider_smtrain.operators.attach import found, remember, saved_identity
from airflow_provider_smtrain.operators.base import SageMakerJobOperator
from airflow_provider_smtrain.operators.waiting import describe_job, find_job

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_smtrain.sdk.ai_registry import RegistryHub

#: How many times a task chooses a version again after losing it to a concurrent import of other content.
MAX_VERSION_RACES = 5
#: Arguments every registry operator takes (all templated, all spec fields).
REGISTRY_FIELDS: tuple[str, ...] = ("name", "source", "role", "domain_id", "search_keywords")


def file_sha256(path: str) -> str:
    """
    The SHA-256 hex digest of a local file's bytes.

    :param path: the file.
    """
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class HubContentOperator(SageMakerJobOperator):
    """
    Base of the operators that register one AI Registry version per content (create-or-reuse).

    :param deferrable: wait in the triggerer; default ``[smtrain] default_deferrable`` (True).
    :param wait_for_completion: wait until the version is ``Available``; when False the task returns
        once the import started (or the existing version was found).
    :param poll_interval: seconds between status reads while waiting.
    :param max_wait: the longest the task waits (seconds or timedelta); the import is not stopped.
    """

    job_kind = HUB_CONTENT
    job_link = HubContentLink
    operator_extra_links = (HubContentLink(),)
    #: ``HubContentType`` of what the operator registers.
    content_type: ClassVar[str]
    #: The operator's spec fields, templated.
    spec_fields: ClassVar[tuple[str, ...]] = REGISTRY_FIELDS
    ui_color = "#d6eaf8"

    def __init__(self, **kwargs: Any) -> None:
        kwargs.pop("stop_job_on_kill", None)
        super().__init__(stop_job_on_kill=False, **kwargs)  # an import cannot be stopped

    def given(self) -> dict[str, Any]:
        """The rendered spec arguments; a relative local ``source`` resolves against the DAG folder."""
        arguments = {field: getattr(self, field) for field in self.spec_fields if getattr(self, field) is not None}
        source, folder = arguments.get("source"), self.dag_folder()
        if isinstance(source, str) and folder and "://" not in source and not source.startswith("arn:"):
            if not os.path.isabs(source):
                arguments["source"] = os.path.normpath(os.path.join(folder, source))
        return arguments

    # -- what concrete operators provide ------------------------------------------------------------

    def digest_fields(self, spec: Any) -> dict[str, Any]:
        """
        What identifies the content (JSON-native): equal fields mean the same version.

        :param spec: the validated spec.
        """
        raise NotImplementedError

    def import_content(self, spec: Any, hub: RegistryHub, version: str, digest: str) -> None:
        """
        Upload what needs uploading and import ``version`` (inside the credentials scope).

        :param spec: the validated spec.
        :param hub: the registry hub.
        :param version: the version to import.
        :param digest: the content digest to record.
        """
        raise NotImplementedError

    # -- shared helpers for concrete operators --------------------------------------------------------

    def upload_bucket(self) -> str:
        """Where local files go: ``default_bucket``, else the SDK session's default bucket (created if needed)."""
        if self.default_bucket:
            return str(self.default_bucket)
        with self.hook.sdk_scope() as session:  # re-entrant; the SDK Session is built only when needed
            return str(session.default_bucket())

    def s3_fingerprint(self, uri: str) -> dict[str, Any]:
        """
        An S3 object's identity for the digest: URI, ETag and version id (one ``HeadObject``).

        :param uri: ``s3://bucket/key``.
        """
        from botocore.exceptions import ClientError

        bucket, _, key = uri[len("s3://"):].partition("/")
        try:
            head = self.hook.client("s3").head_object(Bucket=bucket, Key=key)
        except ClientError as err:
            code = str((err.response.get("Error") or {}).get("Code"))
            if code in ("404", "NoSuchKey", "NoSuchBucket", "NotFound"):
                raise ValueError(f"source: there is no S3 object {uri} (HeadObject answered {code})") from None
            raise
        return {"s3": uri, "etag": head.get("ETag"), "version_id": head.get("VersionId")}

    def source_fingerprint(self, spec: Any) -> dict[str, Any]:
        """
        The identity of the spec's source: an S3 object's fingerprint, or a local file's SHA-256.

        :param spec: the validated spec.
        """
        if spec.source.startswith("s3://"):
            return self.s3_fingerprint(spec.source)
        return {"sha256": file_sha256(spec.source)}

    @staticmethod
    def keywords(spec: Any, digest: str, *pairs: tuple[str, str | None]) -> list[tuple[str, str]]:
        """
        The search keywords of a new version: the SDK's, the user's, the domain and the content digest.

        :param spec: the validated spec.
        :param digest: the content digest.
        :param pairs: the SDK's own ``(key, value)`` keywords; pairs without a value are left out.
        """
        keywords = [(key, value) for key, value in pairs if value]
        keywords += sorted((spec.search_keywords or {}).items())
        if spec.domain_id:
            keywords.append(("@domain", spec.domain_id))
        key, _, value = digest_keyword(digest).partition(":")
        return [*keywords, (key, value)]

    # -- lifecycle ----------------------------------------------------------------------------------

    def job_result(self, describe: dict[str, Any]) -> dict[str, Any]:
        """See ``docs/registry.md`` (and the AI Registry result of ``docs/outputs.md``)."""
        return hub_content_result(describe, self.region)

    def execute(self, context: Context) -> dict[str, Any]:
        """Find the version holding this content, or import it; then wait until it is Available."""
        spec = self._spec  # validation first: nothing is created for bad input
        self.hook.require_region()
        describe = self._find_or_import(spec, context)
        self._persist_links(context)
        if not self.wait_for_completion:
            return self.job_result(describe)
        return self._wait_and_finish(describe, context)

    def _find_or_import(self, spec: Any, context: Context) -> dict[str, Any]:
        from airflow_provider_smtrain.sdk.ai_registry import registry_hub

        digest = content_digest({"type": self.content_type, **self.digest_fields(spec)})
        self.log.info("Content digest of %s %s: %s", self.content_type, spec.name, digest)
        with self.hook.credentials_scope():
            hub = registry_hub(self.hook.client("sts"), self.region)
            for _ in range(MAX_VERSION_RACES):
                describe = self._reuse_or_import(spec, hub, digest, context)
                if describe is not None:
                    return found(self, describe, context, None)
        raise SageMakerSubmitError(
            f"{self.content_type} {spec.name}: {MAX_VERSION_RACES} times in a row, the version this task chose "
            f"was imported at the same moment by another task with other content (not {digest}); "
            "retry the task once the other registrations of this name have started"
        )

    def _reuse_or_import(self, spec: Any, hub: RegistryHub, digest: str, context: Context) -> dict[str, Any] | None:
        """
        Reuse the version holding ``digest``, or import the next one. None: another task imported that
        version number at the same moment with other content (choose again).

        Two tasks registering one name at once both list the versions, both choose the same next version,
        and one import answers ``ResourceInUse``: the loser reads that version, and attaches to it when it
        holds this content (the same dataset registered twice), or chooses again when it does not.
        """
        from airflow_provider_smtrain.jobs.retry import is_conflict
        from airflow_provider_smtrain.sdk.ai_registry import content_versions

        versions = content_versions(self.hook.sagemaker_client, hub.name, self.content_type, spec.name)
        existing = self._version_with(digest, versions, hub, spec.name)
        if existing is not None:
            self._remember(context, hub.arn(self.content_type, spec.name, existing["HubContentVersion"]))
            describe = describe_job(self, self._handle)
            self.log.info("%s %s version %s already holds this content (%s): reusing it, no import",
                          self.content_type, spec.name, describe.get("HubContentVersion"),
                          describe.get("HubContentStatus"))
            return describe
        version = next_version(str(v.get("HubContentVersion", "")) for v in versions)
        self._remember(context, hub.arn(self.content_type, spec.name, version))  # before creating
        self.log.info("Importing %s %s version %s", self.content_type, spec.name, version)
        try:
            self.import_content(spec, hub, version, digest)
        except Exception as err:
            describe_or_none = find_job(self, self._handle)
            if describe_or_none is not None and digest_of(describe_or_none) == digest:
                self.log.warning("The import of %s reported an error (%s), but the version exists with this "
                                 "content (another task's import, or a lost response): attaching", self._handle, err)
                return describe_or_none
            if describe_or_none is not None and is_conflict(err):
                self.log.warning("Another task imported %s at the same moment with other content (%s): "
                                 "choosing the next version", self._handle, digest_of(describe_or_none))
                return None
            raise
        return describe_job(self, self._handle)

    @property
    def _handle(self) -> str:
        assert self._job_name is not None
        return self._job_name

    def _version_with(
        self, digest: str, versions: list[dict[str, Any]], hub: RegistryHub, name: str
    ) -> dict[str, Any] | None:
        """The newest version carrying ``digest`` that is importing or available, if any."""

        def major(summary: dict[str, Any]) -> int:
            head = str(summary.get("HubContentVersion", "0")).split(".")[0]
            return int(head) if head.isdigit() else 0

        for summary in sorted(versions, key=major, reverse=True):
            if "HubContentSearchKeywords" not in summary:  # a listing without keywords: read the version
                summary = describe_job(self, hub.arn(self.content_type, name, summary["HubContentVersion"]))
            status = summary.get("HubContentStatus")
            if digest_of(summary) == digest and outcome_of(HUB_CONTENT, status) is not Outcome.FAILED:
                return summary
        return None

    def _remember(self, context: Context, handle: str) -> None:
        saved = saved_identity(context)
        store = context.get("task_state_store")
        token = saved.token if saved else (new_token() if store is not None else "")
        generation = int(handle.rsplit("/", 1)[-1].split(".")[0])
        remember(self, store, JobIdentity(handle, generation, HUB_CONTENT.name, token,
                                          max_tries_of(context.get("ti")), handle))


def template_fields_of(fields: Sequence[str]) -> tuple[str, ...]:
    """
    The template fields of a registry operator: the base's and its spec fields.

    :param fields: the spec fields.
    """
    return (*SageMakerJobOperator.template_fields, *fields)

"""Deterministic SageMaker job names derived from the task instance that owns the job."""

from __future__ import annotations

import hashlib
import re

from airflow_provider_smtrain.jobs.kinds import JobKind

_NOT_ALLOWED = re.compile(r"[^a-zA-Z0-9-]+")
_DASHES = re.compile(r"-+")


_DIGEST = re.compile(r"-([0-9a-f]{10})-([1-9][0-9]*)$")


def task_instance_key(dag_id: str, task_id: str, run_id: str, map_index: int, token: str = "") -> str:
    """
    A short digest of the task instance identity and its random token.

    The token (drawn once per task instance and kept in ``task_state_store``) makes the digest unique
    across Airflow deployments that share an AWS account: staging and prod, or a deployment whose
    metadata DB was reset, produce the same dag_id, task_id and run_id for scheduled runs.

    :param dag_id: the DAG id.
    :param task_id: the task id.
    :param run_id: the DAG run id.
    :param map_index: the map index (-1 for unmapped tasks).
    :param token: the task instance's random token ("" when no ``task_state_store`` is available).
    """
    parts = [dag_id, task_id, run_id, str(map_index)]
    if token:
        parts.append(token)
    raw = "\x1f".join(parts)
    return hashlib.sha256(raw.encode()).hexdigest()[:10]


def generation_of(name: str, ti_key: str) -> int | None:
    """
    The generation of ``name`` if it is a job name of the task instance with digest ``ti_key``, else None.

    :param name: a job name.
    :param ti_key: the digest from :func:`task_instance_key`.
    """
    match = _DIGEST.search(name)
    if match is None or match.group(1) != ti_key:
        return None
    return int(match.group(2))


def job_name(kind: JobKind, prefix: str, ti_key: str, generation: int) -> str:
    """
    The job name for one generation of one task instance's job.

    Generation 1 is the first job a task instance submits; a new generation starts only after the
    previous one ended without success, or after a user cleared the task. The name fits ``kind.max_name_length`` and SageMaker's pattern
    ``^[a-zA-Z0-9](-*[a-zA-Z0-9])*$``.

    :param kind: the job kind (sets the length limit).
    :param prefix: a readable prefix, usually the base job name or the task id.
    :param ti_key: the digest from :func:`task_instance_key`.
    :param generation: 1 for the first job of the task instance, 2 after one failed, ...
    """
    if generation < 1:
        raise ValueError(f"generation must be >= 1 (got {generation})")
    suffix = f"-{ti_key}-{generation}"
    readable = _DASHES.sub("-", _NOT_ALLOWED.sub("-", prefix)).strip("-")
    readable = readable[: kind.max_name_length - len(suffix)].rstrip("-") or "job"
    return f"{readable}{suffix}"[: kind.max_name_length]


def request_token(ti_key: str, generation: int) -> str:
    """
    A deterministic idempotency token (``ClientRequestToken``) for one generation of one task instance.

    Kinds identified by ARN (pipeline executions) are started with a token instead of a chosen name:
    SageMaker answers a repeated start with the same token with the execution it already started, so
    a retry after a lost response never starts a second one. 32 hex characters fit every SageMaker
    token pattern (``[a-zA-Z0-9-]``, 32 to 128 characters).

    :param ti_key: the digest from :func:`task_instance_key` (it includes the task instance's token).
    :param generation: 1 for the first job of the task instance, 2 after one failed, ...
    """
    if generation < 1:
        raise ValueError(f"generation must be >= 1 (got {generation})")
    return hashlib.sha256(f"{ti_key}\x1f{generation}".encode()).hexdigest()[:32]

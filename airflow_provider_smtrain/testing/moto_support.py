"""
Direct access to moto's in-process backends, and the idempotent patch helper (server process only).

Everything here must be called with the simulator lock held: moto's models are not thread-safe.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from moto.logs.models import logs_backends
from moto.s3.models import s3_backends

log = logging.getLogger(__name__)


def split_s3_uri(uri: str) -> tuple[str, str]:
    """
    Split ``s3://bucket/key`` into ``(bucket, key)``.

    :param uri: S3 URI.
    """
    if not uri.startswith("s3://"):
        raise ValueError(f"not an s3:// URI: {uri!r}")
    bucket, _, key = uri[len("s3://") :].partition("/")
    return bucket, key


def _s3_backend_for_bucket(bucket: str) -> Any | None:
    location = s3_backends.bucket_accounts.get(bucket)
    if location is None:
        return None
    partition, account_id = location
    return s3_backends[account_id][partition]


def s3_put(uri: str, body: bytes) -> bool:
    """
    Store an object in moto's S3 if the bucket exists; return whether it was stored.

    :param uri: Destination ``s3://bucket/key``.
    :param body: Object content.
    """
    bucket, key = split_s3_uri(uri)
    backend = _s3_backend_for_bucket(bucket)
    if backend is None or not key:
        return False
    backend.put_object(bucket, key, body)
    return True


def s3_list(uri: str) -> list[tuple[str, bytes]]:
    """
    Return ``(key, body)`` of every object under an ``s3://bucket/prefix`` (or the single object).

    :param uri: ``s3://bucket/prefix``.
    """
    bucket_name, prefix = split_s3_uri(uri)
    backend = _s3_backend_for_bucket(bucket_name)
    if backend is None:
        return []
    bucket = backend.get_bucket(bucket_name)
    out = []
    for key_name in list(bucket.keys.keys()):
        if key_name.startswith(prefix):
            key = backend.get_object(bucket_name, key_name)
            if key is not None:
                out.append((key_name, bytes(key.value)))
    return out


def ensure_log_stream(account_id: str, region: str, group: str, stream: str) -> None:
    """
    Create a CloudWatch Logs group (if missing) and stream (if missing) in moto's logs backend.

    :param account_id: Account of the job.
    :param region: Region of the job.
    :param group: Log group name.
    :param stream: Log stream name.
    """
    backend = logs_backends[account_id][region]
    if group not in backend.groups:
        backend.create_log_group(group, tags={})
    if stream not in backend.groups[group].streams:
        backend.create_log_stream(group, stream)


def append_log_events(
    account_id: str, region: str, group: str, stream: str, events: list[tuple[float, str]]
) -> None:
    """
    Append ``(unix time, message)`` events to a log stream, creating it if needed. Best effort.

    :param account_id: Account of the job.
    :param region: Region of the job.
    :param group: Log group name.
    :param stream: Log stream name.
    :param events: Events to append, in chronological order.
    """
    if not events:
        return
    try:
        ensure_log_stream(account_id, region, group, stream)
        log_stream = logs_backends[account_id][region].groups[group].streams[stream]
        log_stream.put_log_events([{"timestamp": int(ts * 1000), "message": msg} for ts, msg in events])
    except Exception:  # a test may have deleted the group; never break the API call for a log line
        log.exception("could not append to log stream %s/%s", group, stream)


def reset_all_backends() -> None:
    """Reset every moto backend (all services, accounts and regions)."""
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()


_PATCHED = "__local_sagemaker_patched__"


def patch_once(owner: Any, attr: str, make: Callable[[Any], Any]) -> None:
    """
    Replace ``owner.attr`` by ``make(original)`` unless this helper already did (idempotent patching).

    :param owner: Class or module to patch.
    :param attr: Attribute name; the original may be missing (``None`` is passed then).
    :param make: Builds the replacement from the original.
    """
    original = getattr(owner, attr, None)
    if getattr(original, _PATCHED, False):
        return
    replacement = make(original)
    setattr(replacement, _PATCHED, True)
    setattr(owner, attr, replacement)

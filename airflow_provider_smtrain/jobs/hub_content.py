"""How the provider names and recognises AI Registry hub content (datasets, evaluators). Pure code.

A hub content version is identified by its ARN,
``arn:<partition>:sagemaker:<region>:<account>:hub-content/<hub>/<type>/<name>/<version>``; the provider
uses that ARN as the *handle* of a hub content import, the way it uses a job name for a training job:
it is known before the import (the hub name derives from account and region, the version is chosen by
the operator), persisted before anything is created, and turned back into the four request parameters
of ``DescribeHubContent`` by :func:`hub_content_params`. A handle without the version segment names the
latest version (what a sensor watching a name waits for).

Create-or-reuse rests on a content digest stored with each version the provider imports, as the search
keyword ``smtrain-sha256:<hex>`` (:func:`digest_keyword`), so that the next task instance, in any
process and on any day, can tell whether the content it is asked to register is already there.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "DIGEST_KEYWORD",
    "content_digest",
    "digest_keyword",
    "digest_of",
    "hub_content_arn",
    "hub_content_params",
    "next_version",
    "parse_keywords",
]

#: Search keyword prefix of the content digest the provider stores with every version it imports.
DIGEST_KEYWORD = "smtrain-sha256"

_ARN = re.compile(
    r"arn:(?P<partition>[\w-]+):sagemaker:(?P<region>[\w-]+):(?P<account>\d{12}|aws):hub-content/"
    r"(?P<hub>[^/]+)/(?P<type>[^/]+)/(?P<name>[^/]+)(?:/(?P<version>\d{1,4}\.\d{1,4}\.\d{1,4}))?"
)


def hub_content_arn(
    *, partition: str, region: str, account: str, hub: str, content_type: str, name: str, version: str | None
) -> str:
    """
    The ARN (the provider's handle) of one hub content version, or of the latest one when ``version`` is None.

    :param partition: the AWS partition (``aws``, ``aws-cn``, ...).
    :param region: the AWS region.
    :param account: the 12-digit account id.
    :param hub: the hub name.
    :param content_type: the hub content type (``DataSet``, ``JsonDoc``).
    :param name: the hub content name.
    :param version: the hub content version (``1.0.0``), or None for the latest.
    """
    arn = f"arn:{partition}:sagemaker:{region}:{account}:hub-content/{hub}/{content_type}/{name}"
    return f"{arn}/{version}" if version else arn


def hub_content_params(handle: str) -> dict[str, str]:
    """
    The ``DescribeHubContent`` request parameters of a handle made by :func:`hub_content_arn`.

    :param handle: a hub content ARN, with or without its version segment.
    """
    match = _ARN.fullmatch(handle)
    if match is None:
        raise ValueError(
            f"{handle!r} is not a hub content ARN "
            "(arn:aws:sagemaker:<region>:<account>:hub-content/<hub>/<type>/<name>[/<version>])"
        )
    params = {
        "HubName": match["hub"],
        "HubContentType": match["type"],
        "HubContentName": match["name"],
    }
    if match["version"]:
        params["HubContentVersion"] = match["version"]
    return params


def content_digest(fields: Mapping[str, Any]) -> str:
    """
    The SHA-256 hex digest of what makes a version's content (canonical JSON of ``fields``).

    :param fields: JSON-native description of the content: its type, the digest or ETag of its bytes,
        the options that shape the hub content document.
    """
    canonical = json.dumps(dict(fields), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def digest_keyword(digest: str) -> str:
    """
    The search keyword that records ``digest`` on a hub content version.

    :param digest: a :func:`content_digest`.
    """
    return f"{DIGEST_KEYWORD}:{digest}"


def parse_keywords(keywords: Iterable[str] | None) -> dict[str, str]:
    """
    ``key:value`` search keywords as a dict (the SDK's reading; keywords without ``:`` are skipped).

    :param keywords: ``HubContentSearchKeywords`` of a describe or list response.
    """
    parsed: dict[str, str] = {}
    for keyword in keywords or []:
        key, sep, value = str(keyword).partition(":")
        if sep:
            parsed[key] = value
    return parsed


def digest_of(summary: Mapping[str, Any]) -> str | None:
    """
    The content digest a hub content version carries, if the provider imported it.

    :param summary: a ``DescribeHubContent`` response or a ``ListHubContentVersions`` summary.
    """
    return parse_keywords(summary.get("HubContentSearchKeywords")).get(DIGEST_KEYWORD)


def next_version(versions: Iterable[str]) -> str:
    """
    The version the next import gets: one major above the highest (the SDK's rule), ``1.0.0`` first.

    :param versions: the existing versions (``major.minor.patch``).
    """
    majors = [int(v.split(".")[0]) for v in versions if v and v.split(".")[0].isdigit()]
    return f"{max(majors) + 1}.0.0" if majors else "1.0.0"

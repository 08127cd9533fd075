"""
A pool of aiobotocore SageMaker clients shared by every trigger of one triggerer process.

The amazon provider's triggers build one aiobotocore session and client per trigger run
(``research/TRIGGER_BASELINE.md``: ~1.8 MiB and a loop stall per trigger). Here all triggers that
talk to SageMaker with the same connection parameters share **one** client per event loop:

* the key is ``(aws_conn_id, region_name, verify, botocore_config)`` (the config frozen to a canonical
  JSON string) plus the running event loop, so a client is never used from a loop it was not opened
  on (the triggerer runs one loop; tests create many);
* the client is created through :meth:`AwsBaseHook.get_async_conn`, so the connection, its
  ``endpoint_url``, assume-role and refreshable credentials are handled by the amazon provider;
* it is built once per key under an :class:`asyncio.Lock`, entered once, reference counted, and
  closed by the last user that releases it.

Cost, measured on this venv (aiobotocore 3.10, 2 cores): ``get_async_conn`` (connection lookup and
session set-up) already runs in a worker thread; entering the client runs on the loop and costs
~7 ms warm, ~280 ms the first time in a process (botocore parses the SageMaker service model;
``json.loads`` holds the GIL, so moving it to a thread did not shorten the loop stall: 140-160 ms
measured). It happens once per key, not once per trigger, so it is done on the loop.

.. note::
    A pooled client lives as long as at least one trigger uses it. A change to the Airflow
    connection is picked up when the last trigger using the key has finished and a new one starts.
"""

from __future__ import annotations

import asyncio
import json
import logging
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

SERVICE = "sagemaker"

#: ``(aws_conn_id, region_name, verify, frozen botocore_config)``
ClientKey = tuple[str | None, str | None, bool | str | None, str | None]


def freeze_config(botocore_config: dict[str, Any] | None) -> str | None:
    """
    Canonical, hashable form of a ``botocore_config`` dict.

    :param botocore_config: keyword arguments of :class:`botocore.config.Config`, or None.
    """
    if botocore_config is None:
        return None
    return json.dumps(botocore_config, sort_keys=True, separators=(",", ":"), default=repr)


def client_key(
    aws_conn_id: str | None,
    region_name: str | None,
    verify: bool | str | None,
    botocore_config: dict[str, Any] | None,
) -> ClientKey:
    """
    The pool key of a set of connection parameters.

    :param aws_conn_id: Airflow AWS connection id, or None for the default boto3 credential chain.
    :param region_name: AWS region, or None for the connection's region.
    :param verify: SSL verification flag or CA bundle path, or None for the connection's setting.
    :param botocore_config: keyword arguments of :class:`botocore.config.Config`, or None.
    """
    return (aws_conn_id, region_name, verify, freeze_config(botocore_config))


@dataclass
class _Entry:
    """One pooled client and its bookkeeping."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    refs: int = 0
    context: Any = None
    client: Any = None


class SageMakerClientPool:
    """
    Process-wide pool of aiobotocore SageMaker clients, one per (event loop, connection parameters).

    Use :meth:`client` as an async context manager; it yields the shared client.
    """

    def __init__(self) -> None:
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[ClientKey, _Entry]] = (
            weakref.WeakKeyDictionary()
        )
        #: how many clients this pool has built, over its life (for tests and metrics)
        self.built = 0

    def _entries(self) -> dict[ClientKey, _Entry]:
        loop = asyncio.get_running_loop()
        entries = self._loops.get(loop)
        if entries is None:
            entries = self._loops[loop] = {}
        return entries

    def size(self) -> int:
        """Number of open clients on the running event loop."""
        return sum(1 for entry in self._entries().values() if entry.client is not None)

    def refs(self, key: ClientKey) -> int:
        """
        Number of current users of the client of ``key`` on the running event loop.

        :param key: a key from :func:`client_key`.
        """
        entry = self._entries().get(key)
        return entry.refs if entry else 0

    @asynccontextmanager
    async def client(
        self,
        aws_conn_id: str | None,
        region_name: str | None = None,
        verify: bool | str | None = None,
        botocore_config: dict[str, Any] | None = None,
    ) -> AsyncIterator[Any]:
        """
        Borrow the shared SageMaker client for these connection parameters.

        :param aws_conn_id: Airflow AWS connection id, or None for the default boto3 credential chain.
        :param region_name: AWS region, or None for the connection's region.
        :param verify: SSL verification flag or CA bundle path, or None for the connection's setting.
        :param botocore_config: keyword arguments of :class:`botocore.config.Config`, or None.
        """
        key = client_key(aws_conn_id, region_name, verify, botocore_config)
        entries = self._entries()
        entry = entries.get(key)
        if entry is None:
            entry = entries[key] = _Entry()
        entry.refs += 1
        try:
            async with entry.lock:
                if entry.client is None:
                    await self._open(entry, aws_conn_id, region_name, verify, botocore_config)
            yield entry.client
        finally:
            entry.refs -= 1
            if entry.refs == 0:
                if entries.get(key) is entry:
                    del entries[key]
                await self._close(entry, key)

    async def _open(
        self,
        entry: _Entry,
        aws_conn_id: str | None,
        region_name: str | None,
        verify: bool | str | None,
        botocore_config: dict[str, Any] | None,
    ) -> None:
        from airflow_provider_smtrain.hooks.connection import StrictAwsBaseHook

        hook = StrictAwsBaseHook(
            aws_conn_id=aws_conn_id,
            region_name=region_name,
            verify=verify,
            config=dict(botocore_config) if botocore_config is not None else None,
            client_type=SERVICE,
        )
        context = await hook.get_async_conn()
        client = await context.__aenter__()
        entry.context, entry.client = context, client
        self.built += 1
        log.info(
            "Opened shared SageMaker client (aws_conn_id=%r, region=%s, endpoint=%s)",
            aws_conn_id,
            client.meta.region_name,
            client.meta.endpoint_url,
        )

    @staticmethod
    async def _close(entry: _Entry, key: ClientKey) -> None:
        context, entry.context, entry.client = entry.context, None, None
        if context is None:
            return
        try:
            await context.__aexit__(None, None, None)
        except Exception:
            log.warning("Closing the shared SageMaker client %s failed", key[:3], exc_info=True)


#: The pool used by the provider's triggers.
POOL = SageMakerClientPool()

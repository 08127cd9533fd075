"""
A pool of aiobotocore SageMaker clients shared by every trigger of one triggerer process.

The amazon provider's triggers build one aiobotocore session and client per trigger run
(measured in ``benchmarks/results/trigger_scale.md``: ~1.8 MiB and a loop stall per trigger). Here all triggers that
talk to SageMaker with the same connection parameters share **one** client per event loop:

* the key is ``(aws_conn_id, region_name, verify, botocore_config)`` (the config frozen to a canonical
  JSON string) plus the running event loop, so a client is never used from a loop it was not opened
  on (the triggerer runs one loop; tests create many);
* the client is created through :meth:`AwsBaseHook.get_async_conn`, so the connection, its
  ``endpoint_url``, assume-role and refreshable credentials are handled by the amazon provider;
* it is built once per key under an :class:`asyncio.Lock`, entered once, reference counted, and
  closed by the last user that releases it.

Cost: ``get_async_conn`` runs in a worker thread; the first client of a process is entered after
:func:`~.warmup.warm_loader` parsed botocore's data in a thread (8-10 ms left on the loop, not 200-280
ms), and the garbage collector is then frozen again (:mod:`.gcfreeze`, stage ``"client"``).

Rebuilding. A pooled client is not kept forever: rotated connection keys and expiring session tokens
must reach triggers that wait for days. :meth:`SageMakerClientPool.client` yields a
:class:`PooledClient` handle that calls through the key's *current* client, and before each call
replaces it with a freshly built one (connection read again) when

* it is older than ``max_age`` (``[smtrain] trigger_client_max_age``, seconds, default 900);
* its credentials carry an expiry closer than ``expiry_margin`` (default 300 s; refreshable
  assume-role credentials that refresh themselves never get that close);
* it was invalidated: by :meth:`SageMakerClientPool.invalidate`, or because a call failed with an
  authentication error (:data:`AUTH_ERROR_CODES`); that call is then retried once on a fresh client.

The old client is closed when its last user has moved on or released it.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import time
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from airflow_provider_smtrain.jobs.retry import error_code
from airflow_provider_smtrain.triggers.gcfreeze import freeze_once
from airflow_provider_smtrain.triggers.warmup import SERVICE as SERVICE
from airflow_provider_smtrain.triggers.warmup import build_hook, warm_loader

log = logging.getLogger(__name__)

#: ``(aws_conn_id, region_name, verify, frozen botocore_config)``
ClientKey = tuple[str | None, str | None, bool | str | None, str | None]

#: Error codes meaning the client's credentials are no good any more (expired, rotated, revoked).
AUTH_ERROR_CODES = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "SignatureDoesNotMatch",
        "RequestExpired",
    }
)
#: Default largest age of a pooled client, seconds (``[smtrain] trigger_client_max_age``).
DEFAULT_MAX_AGE = 900.0
#: Default margin before a credential expiry at which the client is rebuilt, seconds.
DEFAULT_EXPIRY_MARGIN = 300.0


def is_auth_error(err: BaseException) -> bool:
    """
    Whether an AWS error says the credentials that signed the request are no good any more.

    :param err: any exception.
    """
    return error_code(err) in AUTH_ERROR_CODES


def credentials_expiry(client: Any) -> datetime | None:
    """
    When the credentials of an aiobotocore client expire, if they say so.

    :param client: an aiobotocore (or botocore) client.
    """
    credentials = getattr(getattr(client, "_request_signer", None), "_credentials", None)
    expiry = getattr(credentials, "_expiry_time", None)
    return expiry if isinstance(expiry, datetime) else None


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
    opened_at: float = 0.0
    #: replace before the next call (too old, credentials near expiry, or invalidated)
    stale: bool = False
    #: replaced because its credentials were refused (or on request): never used again
    invalidated: bool = False


class PooledClient:
    """
    What :meth:`SageMakerClientPool.client` yields: use it like the aiobotocore SageMaker client.

    Every API call goes to the pool key's current client, rebuilt first when it is too old, its
    credentials near expiry, or invalidated; a call failing with an authentication error invalidates
    the client and is retried once on a fresh one. Other attributes (``meta``, ...) are the current
    client's.

    :param pool: the pool the client comes from.
    :param key: the pool key (:func:`client_key`).
    :param params: ``(aws_conn_id, region_name, verify, botocore_config)`` to build a new client with.
    :param entry: the pool entry this handle holds a reference on.
    """

    def __init__(
        self, pool: SageMakerClientPool, key: ClientKey, params: tuple[Any, ...], entry: _Entry
    ) -> None:
        self._pool = pool
        self._key = key
        self._params = params
        self._entry = entry

    @property
    def client(self) -> Any:
        """The aiobotocore client calls currently go to."""
        return self._entry.client

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._entry.client, name)
        if name.startswith("_") or name not in self._entry.client.meta.method_to_api_mapping:
            return value
        return functools.partial(self._call, name)

    async def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        await self._renew_if_stale()
        try:
            return await getattr(self._entry.client, method)(*args, **kwargs)
        except Exception as err:
            if not is_auth_error(err):
                raise
            log.warning(
                "%s was refused with %s; rebuilding the shared SageMaker client (aws_conn_id=%r) and retrying once",
                method,
                error_code(err),
                self._key[0],
            )
            self._entry.stale = self._entry.invalidated = True
            self._pool.invalidate(self._entry.client)
            await self._renew_if_stale()
        return await getattr(self._entry.client, method)(*args, **kwargs)

    async def _renew_if_stale(self) -> None:
        if not self._pool.is_stale(self._entry):
            return
        try:
            fresh = await self._pool._acquire(self._key, self._params)
        except Exception:
            if self._entry.invalidated:
                raise  # the old client's credentials were refused: nothing to fall back on
            log.warning(
                "Could not rebuild the shared SageMaker client (aws_conn_id=%r); using the current one "
                "until the next call",
                self._key[0],
                exc_info=True,
            )
            return
        old, self._entry = self._entry, fresh
        await self._pool._release(old, self._key)


class SageMakerClientPool:
    """
    Process-wide pool of aiobotocore SageMaker clients, one per (event loop, connection parameters).

    Use :meth:`client` as an async context manager; it yields a :class:`PooledClient`.

    :param max_age: seconds after which a client is rebuilt; None reads ``[smtrain]
        trigger_client_max_age`` (default 900).
    :param expiry_margin: rebuild a client whose credentials expire within this many seconds.
    """

    def __init__(self, max_age: float | None = None, expiry_margin: float = DEFAULT_EXPIRY_MARGIN) -> None:
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[ClientKey, _Entry]] = (
            weakref.WeakKeyDictionary()
        )
        self._max_age = max_age
        self.expiry_margin = expiry_margin
        #: how many clients this pool has built, over its life (for tests and metrics)
        self.built = 0

    @property
    def max_age(self) -> float:
        """Seconds after which a pooled client is rebuilt."""
        if self._max_age is None:
            from airflow.configuration import conf

            self._max_age = conf.getfloat("smtrain", "trigger_client_max_age", fallback=DEFAULT_MAX_AGE)
        return self._max_age

    @max_age.setter
    def max_age(self, value: float) -> None:
        self._max_age = float(value)

    def is_stale(self, entry: _Entry) -> bool:
        """
        Whether an open client must be replaced before its next call.

        :param entry: the pool entry.
        """
        if entry.stale:
            return True
        if entry.client is None:
            return False
        if time.monotonic() - entry.opened_at > self.max_age:
            return True
        expiry = credentials_expiry(entry.client)
        return expiry is not None and (expiry - datetime.now(UTC)).total_seconds() < self.expiry_margin

    def invalidate(self, target: ClientKey | PooledClient | Any) -> int:
        """
        Make the next borrower of a client get a freshly built one; return how many were invalidated.

        Users of the old client move to the new one at their next call; the old one is closed when
        its last user has.

        :param target: a key from :func:`client_key`, a :class:`PooledClient`, or an aiobotocore client.
        """
        raw = target.client if isinstance(target, PooledClient) else target
        entries = self._entries()
        count = 0
        for key, entry in list(entries.items()):
            if key == raw or (entry.client is not None and entry.client is raw):
                entry.stale = entry.invalidated = True
                del entries[key]
                count += 1
        return count

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
    ) -> AsyncIterator[PooledClient]:
        """
        Borrow the shared SageMaker client for these connection parameters.

        :param aws_conn_id: Airflow AWS connection id, or None for the default boto3 credential chain.
        :param region_name: AWS region, or None for the connection's region.
        :param verify: SSL verification flag or CA bundle path, or None for the connection's setting.
        :param botocore_config: keyword arguments of :class:`botocore.config.Config`, or None.
        """
        key = client_key(aws_conn_id, region_name, verify, botocore_config)
        params = (aws_conn_id, region_name, verify, botocore_config)
        handle = PooledClient(self, key, params, await self._acquire(key, params))
        try:
            yield handle
        finally:
            await self._release(handle._entry, key)

    def _current(self, key: ClientKey) -> _Entry:
        """The key's current entry (a new one when there is none or it is stale)."""
        entries = self._entries()
        entry = entries.get(key)
        if entry is not None and self.is_stale(entry):
            entry.stale = True
            del entries[key]
            entry = None
        if entry is None:
            entry = entries[key] = _Entry()
        return entry

    async def _acquire(self, key: ClientKey, params: tuple[Any, ...]) -> _Entry:
        """Take a reference on the key's current client, opening it if needed."""
        entry = self._current(key)
        entry.refs += 1
        try:
            async with entry.lock:
                if entry.client is None:
                    await self._open(entry, *params)
        except BaseException:
            await self._release(entry, key)
            raise
        return entry

    async def _release(self, entry: _Entry, key: ClientKey) -> None:
        """Drop a reference; the last user of a client closes it."""
        entry.refs -= 1
        if entry.refs == 0:
            entries = self._entries()
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
        # in a thread: the first call imports the amazon provider's hook module (~110 ms of imports)
        hook = await asyncio.to_thread(build_hook, aws_conn_id, region_name, verify, botocore_config)
        context = await hook.get_async_conn()
        if self.built == 0:  # the first client in this process: parse botocore's data off the loop
            await asyncio.to_thread(warm_loader, hook)
        client = await context.__aenter__()
        entry.context, entry.client = context, client
        entry.opened_at = time.monotonic()
        self.built += 1
        freeze_once("client")
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

"""
moto's request dispatch without its per-request rediscovery work (server process only; same answers).

For every request moto's ``DomainDispatcherApplication`` lists its own package directory (one
``isdir`` per service) and tries every service's URL patterns to find the backend of the ``Host``
header, and ``BaseResponse.call_action`` lists the response class's methods with ``inspect``. Both
results only change when the code does, so they are computed once per host and once per class
(and again if a class gains or loses attributes, e.g. a patch installed later).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from moto.core import responses as moto_responses
from moto.moto_server.werkzeug_app import DomainDispatcherApplication

_MISSING = object()


class CachingDomainDispatcher(DomainDispatcherApplication):
    """moto's ``DomainDispatcherApplication``, remembering the backend of each host it has seen."""

    def __init__(self, create_app: Callable[..., Any]) -> None:
        """
        :param create_app: moto's ``create_backend_app``.
        """
        super().__init__(create_app)
        self._backend_by_host: dict[str | None, Any] = {}

    def get_backend_for_host(self, host: str | None) -> Any:
        """
        The backend (service name) serving ``host``, as moto finds it; looked up once per host.

        :param host: the request's host as moto derives it.
        """
        backend = self._backend_by_host.get(host, _MISSING)
        if backend is _MISSING:
            backend = super().get_backend_for_host(host)
            self._backend_by_host[host] = backend
        return backend


def cache_method_names() -> None:
    """Make ``BaseResponse.call_action`` list a response class's methods once (per shape of the class)."""
    original = moto_responses.method_names_from_class
    if getattr(original, "_smtrain_cached", False):
        return
    cache: dict[tuple[Any, ...], list[str]] = {}
    lock = threading.Lock()

    def method_names_from_class(clazz: Any) -> list[str]:
        # a class that gains or loses attributes (a patch) gets a new key
        key = (clazz, *(len(vars(klass)) for klass in clazz.__mro__))
        names = cache.get(key)
        if names is None:
            names = original(clazz)
            with lock:
                cache[key] = names
        return names

    method_names_from_class._smtrain_cached = True  # type: ignore[attr-defined]
    moto_responses.method_names_from_class = method_names_from_class  # type: ignore[assignment]

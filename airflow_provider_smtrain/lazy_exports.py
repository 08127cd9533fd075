"""Lazy package exports (PEP 562): a package names its public classes, each imported from its submodule on first use.

The ``operators``, ``sensors`` and ``specs`` packages use it so that importing one class never imports the
modules of the others (parse-time cost, ``tests/test_import_cost.py``)::

    __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, exports: Mapping[str, str], namespace: dict[str, Any]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """
    The package's module-level ``__getattr__`` and ``__dir__``.

    ``__getattr__`` imports the submodule that defines an exported name on first access and keeps the
    value in the package's namespace (later accesses do not call it); other names raise ``AttributeError``.

    :param package: the package's ``__name__``.
    :param exports: the submodule (relative to the package) that defines each exported name.
    :param namespace: the package's ``globals()``.
    """

    def __getattr__(name: str) -> Any:
        """Import the submodule that defines ``name`` on first access (PEP 562)."""
        if name in exports:
            value = getattr(importlib.import_module(f"{package}.{exports[name]}"), name)
            namespace[name] = value
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted({*namespace, *exports})

    return __getattr__, __dir__

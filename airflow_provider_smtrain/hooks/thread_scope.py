"""
Process-global AWS state that only the threads of an active credentials scope can see.

:func:`~airflow_provider_smtrain.hooks.credentials.sdk_credentials_scope` must make code it does not
control (the SageMaker SDK) build every client from the Airflow connection. That code reads
``os.environ``, ``boto3.DEFAULT_SESSION`` and ``boto3.client(...)``'s default session, and creates
clients through ``botocore.session.Session.create_client``. While a scope is active this module
installs thread-aware replacements for all four:

* ``os.environ`` becomes a mapping over the real environment. For a *scope thread* the AWS variables
  the scope manages (credentials, region, profile, endpoints, CA bundle) come from the scope; every
  other variable, and every variable for every other thread, is the real environment, read and
  written as before.
* ``boto3.DEFAULT_SESSION`` and ``boto3._get_default_session()`` answer the scope's boto3 session in a
  scope thread and the process's own default session elsewhere.
* ``create_client`` gives a client created in a scope thread without an explicit ``verify`` the
  scope's ``verify`` (``False`` or a CA bundle path).

A *scope thread* is the thread that entered the scope, and any thread it starts while inside it
(``threading.Thread``, thus the workers of a ``ThreadPoolExecutor`` *created* inside the scope), until
that thread ends or the scope is left. Workers of a pool created before the scope are not scope threads. Everything is put back when the outermost scope exits.

What stays process-wide: the C-level environment. A child process started inside the scope without
an explicit ``env=`` inherits the process's environment, not the scope's (pass ``env=dict(os.environ)``
to hand it the scope's view). Callers must serialise scopes (one scope thread group at a time); the
credentials scope does so with its lock.
"""

from __future__ import annotations

import os
import threading
import types
from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any

#: Environment variables a scope owns (plus ``AWS_ENDPOINT_URL_<SERVICE>`` and whatever it sets).
MANAGED_ENV = frozenset(
    {
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_CA_BUNDLE",
    }
)


@dataclass(eq=False)
class Frame:
    """
    What one (possibly nested) scope shows its threads.

    :param env: the managed environment variables of the scope (others are the process's).
    :param session: the boto3 session that is the default session inside the scope.
    :param verify: ``verify`` for clients created without one (None: botocore's default).
    """

    env: dict[str, str]
    session: Any
    verify: bool | str | None = None

    def manages(self, key: str) -> bool:
        """Whether the scope owns ``key`` (its threads never see the process's value)."""
        return key in MANAGED_ENV or key.startswith("AWS_ENDPOINT_URL_") or key in self.env


@dataclass
class _Active:
    frames: list[Frame] = field(default_factory=list)
    threads: set[int] = field(default_factory=set)
    saved: dict[str, Any] = field(default_factory=dict)

    def current(self) -> Frame | None:
        if self.frames and threading.get_ident() in self.threads:
            return self.frames[-1]
        return None


_ACTIVE = _Active()


def current_frame() -> Frame | None:
    """The innermost scope frame if the calling thread is a scope thread, else None."""
    return _ACTIVE.current()


class ScopedEnviron(MutableMapping[str, str]):
    """
    ``os.environ`` while a scope is active: the scope's managed variables for scope threads only.

    :param real: the process's environment mapping.
    """

    def __init__(self, real: MutableMapping[str, str]) -> None:
        self.real = real

    def __getitem__(self, key: str) -> str:
        frame = _ACTIVE.current()
        if frame is not None and frame.manages(key):
            return frame.env[key]
        return self.real[key]

    def __setitem__(self, key: str, value: str) -> None:
        frame = _ACTIVE.current()
        if frame is not None and frame.manages(key):
            frame.env[key] = value
        else:
            self.real[key] = value

    def __delitem__(self, key: str) -> None:
        frame = _ACTIVE.current()
        if frame is not None and frame.manages(key):
            del frame.env[key]
        else:
            del self.real[key]

    def __iter__(self) -> Iterator[str]:
        frame = _ACTIVE.current()
        if frame is None:
            return iter(list(self.real))
        return iter([key for key in self.real if not frame.manages(key)] + list(frame.env))

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def copy(self) -> dict[str, str]:
        """A plain dict of what the calling thread sees (like ``os.environ.copy()``)."""
        return dict(self)


class _Boto3Module(types.ModuleType):
    """``boto3`` while a scope is active: ``boto3.DEFAULT_SESSION`` read per thread."""

    @property
    def DEFAULT_SESSION(self) -> Any:  # noqa: N802 - boto3's own name
        frame = _ACTIVE.current()
        return frame.session if frame is not None else self.__dict__.get("DEFAULT_SESSION")

    @DEFAULT_SESSION.setter
    def DEFAULT_SESSION(self, value: Any) -> None:  # noqa: N802 - boto3's own name
        self.__dict__["DEFAULT_SESSION"] = value


def _install() -> None:
    import boto3
    import botocore.session

    saved = _ACTIVE.saved
    saved["environ"] = os.environ
    saved["boto3_class"] = boto3.__class__
    saved["get_default_session"] = get_default = boto3.__dict__["_get_default_session"]
    saved["create_client"] = create_client = botocore.session.Session.__dict__["create_client"]
    saved["thread_start"] = start = threading.Thread.__dict__["start"]

    def _get_default_session() -> Any:
        frame = _ACTIVE.current()
        return frame.session if frame is not None else get_default()

    def _create_client(self: Any, *args: Any, **kwargs: Any) -> Any:
        frame = _ACTIVE.current()
        if frame is not None and frame.verify is not None and len(args) < 5 and kwargs.get("verify") is None:
            kwargs["verify"] = frame.verify
        return create_client(self, *args, **kwargs)

    def _start(self: threading.Thread) -> None:
        if _ACTIVE.current() is not None:
            run = self.run

            def scoped_run() -> None:
                ident = threading.get_ident()
                _ACTIVE.threads.add(ident)
                try:
                    run()
                finally:
                    _ACTIVE.threads.discard(ident)

            self.run = scoped_run  # type: ignore[method-assign]
        start(self)

    os.environ = ScopedEnviron(os.environ)  # type: ignore[assignment]  # noqa: B003 - replaced on purpose
    boto3.__class__ = _Boto3Module
    boto3._get_default_session = _get_default_session
    botocore.session.Session.create_client = _create_client  # type: ignore[method-assign]
    threading.Thread.start = _start  # type: ignore[method-assign]


def _uninstall() -> None:
    import boto3
    import botocore.session

    saved = _ACTIVE.saved
    os.environ = saved.pop("environ")  # noqa: B003 - the real mapping back
    boto3.__class__ = saved.pop("boto3_class")
    boto3._get_default_session = saved.pop("get_default_session")
    botocore.session.Session.create_client = saved.pop("create_client")  # type: ignore[method-assign]
    threading.Thread.start = saved.pop("thread_start")  # type: ignore[method-assign]
    _ACTIVE.threads.clear()


def enter(env: Mapping[str, str], session: Any, verify: bool | str | None) -> Frame:
    """
    Make the calling thread a scope thread with ``env``, ``session`` and ``verify``; return the frame.

    The caller holds the scope lock and calls :func:`leave` with the frame, in the same thread.

    :param env: the managed environment variables of the scope.
    :param session: the boto3 session that becomes the default session for scope threads.
    :param verify: ``verify`` for clients created in scope threads without one.
    """
    if not _ACTIVE.frames:
        _install()
    frame = Frame(env=dict(env), session=session, verify=verify)
    _ACTIVE.frames.append(frame)
    _ACTIVE.threads.add(threading.get_ident())
    return frame


def leave(frame: Frame) -> None:
    """
    Undo :func:`enter`; the outermost exit restores the process.

    :param frame: the frame :func:`enter` returned.
    """
    _ACTIVE.frames.remove(frame)
    if not _ACTIVE.frames:
        _uninstall()

"""One running :class:`~.stack.AirflowStack` per configuration, for a pytest session fixture."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from airflow_provider_smtrain.testing.airflow.stack import AirflowStack

__all__ = ["AirflowStackPool"]


class AirflowStackPool:
    """
    Hand out one running :class:`AirflowStack` per configuration, for a pytest session fixture.

    Only one stack runs at a time (a 2-core CI box cannot run two well): asking for a different
    configuration stops the previous stack.  Use it as a context manager; exiting stops the stack.

    :param stack_factory: callable creating the stack (defaults to :class:`AirflowStack`).
    """

    def __init__(self, stack_factory: Callable[..., AirflowStack] = AirflowStack) -> None:
        self._factory = stack_factory
        self._key: str | None = None
        self._stack: AirflowStack | None = None

    def get(
        self,
        dags_folders: Sequence[str | os.PathLike[str]] = (),
        env: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> AirflowStack:
        """
        Return a started stack for this configuration, starting (or replacing) it when needed.

        :param dags_folders: see :class:`AirflowStack`.
        :param env: see :class:`AirflowStack`.
        :param kwargs: further :class:`AirflowStack` keyword arguments.
        """
        key = json.dumps(
            {
                "dags": sorted(str(Path(p).resolve()) for p in dags_folders),
                "env": dict(sorted((env or {}).items())),
                "kwargs": {k: repr(v) for k, v in sorted(kwargs.items())},
            }
        )
        if self._stack is not None and key == self._key:
            return self._stack
        self.close()
        stack = self._factory(dags_folders=dags_folders, env=env, **kwargs)
        stack.start()
        self._stack, self._key = stack, key
        return stack

    def close(self, failed: bool = False) -> None:
        """
        Stop the current stack, if any.

        :param failed: keep its temporary ``AIRFLOW_HOME`` for inspection.
        """
        if self._stack is not None:
            self._stack.stop(failed=failed)
        self._stack, self._key = None, None

    def __enter__(self) -> AirflowStackPool:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self.close(failed=exc_type is not None)

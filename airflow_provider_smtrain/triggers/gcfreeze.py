"""
Freeze the triggerer's long-lived objects out of the garbage collector's reach.

Airflow's triggerer never calls :func:`gc.freeze` (its DAG processor and local executor do), so every full
collection scans all of Airflow's, boto's and the providers' module-level objects again: with a few
hundred MiB imported, one full collection blocks the event loop for 0.3-0.7 s, which is what a triggerer
starting many deferred tasks at once mostly waits on. The first time a status poller starts in a process,
:func:`freeze_once` moves every object that exists then (imported modules, configuration, the triggerer's
own state) to the permanent generation; later objects (triggers, responses) are collected as before.
The first shared SageMaker client loads botocore's service model, endpoints and partitions (~30 MiB of
dicts that live as long as the process): once it is open, :mod:`.clients` freezes again (stage
``"client"``), so full collections in the steady state do not scan the model either.

``[smtrain] freeze_gc_in_triggerer = False`` turns this off.
"""

from __future__ import annotations

import functools
import gc
import logging
import os

log = logging.getLogger(__name__)

#: The environment variable that overrides ``[smtrain] freeze_gc_in_triggerer``.
SETTING_ENV = "AIRFLOW__SMTRAIN__FREEZE_GC_IN_TRIGGERER"

#: ``(pid, stage)`` pairs frozen already
_state: dict[str, set[tuple[int, str]]] = {"frozen": set()}


def freezing_enabled() -> bool:
    """``[smtrain] freeze_gc_in_triggerer`` (default True), read once per value of its environment variable."""
    return _setting(os.environ.get(SETTING_ENV))


@functools.lru_cache(maxsize=4)
def _setting(env_value: str | None) -> bool:
    from airflow.configuration import conf

    return conf.getboolean("smtrain", "freeze_gc_in_triggerer", fallback=True)


def freeze_once(stage: str = "imports") -> bool:
    """
    Freeze the objects that exist now, once per process and stage (a forked child freezes its own); return whether it did.

    Does nothing when ``[smtrain] freeze_gc_in_triggerer`` is False.

    :param stage: what has just become long-lived: ``"imports"`` (the first poller starts) or
        ``"client"`` (the first shared client, and the service model it loaded, is open).
    """
    key = (os.getpid(), stage)
    if key in _state["frozen"] or not freezing_enabled():
        return False
    _state["frozen"].add(key)
    gc.freeze()
    log.debug("Froze %d objects out of the garbage collector's reach", gc.get_freeze_count())
    return True

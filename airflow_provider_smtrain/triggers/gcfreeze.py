"""
Freeze the triggerer's long-lived objects out of the garbage collector's reach.

Airflow's triggerer never calls :func:`gc.freeze` (its DAG processor and local executor do), so every full
collection scans all of Airflow's, boto's and the providers' module-level objects again: with a few
hundred MiB imported, one full collection blocks the event loop for 0.3-0.7 s, which is what a triggerer
starting many deferred tasks at once mostly waits on. The first time a status poller starts in a process,
:func:`freeze_once` moves every object that exists then (imported modules, configuration, the triggerer's
own state) to the permanent generation; later objects (triggers, responses) are collected as before.

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

_state = {"frozen_pid": 0}


def freezing_enabled() -> bool:
    """``[smtrain] freeze_gc_in_triggerer`` (default True), read once per value of its environment variable."""
    return _setting(os.environ.get(SETTING_ENV))


@functools.lru_cache(maxsize=4)
def _setting(env_value: str | None) -> bool:
    from airflow.configuration import conf

    return conf.getboolean("smtrain", "freeze_gc_in_triggerer", fallback=True)


def freeze_once() -> bool:
    """
    Freeze the objects that exist now, once per process (a forked child freezes its own); return whether it did.

    Does nothing when ``[smtrain] freeze_gc_in_triggerer`` is False.
    """
    pid = os.getpid()
    if _state["frozen_pid"] == pid or not freezing_enabled():
        return False
    _state["frozen_pid"] = pid
    gc.freeze()
    log.debug("Froze %d objects out of the garbage collector's reach", gc.get_freeze_count())
    return True

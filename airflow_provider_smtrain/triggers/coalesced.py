"""
The trigger's side of coalesced status reads: join the poller of its kind and connection, wait for
its job's outcome or its own deadline, leave (see :mod:`airflow_provider_smtrain.triggers.pollers`).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import os
import weakref
from typing import TYPE_CHECKING, Any

from airflow_provider_smtrain.jobs.clock import clock
from airflow_provider_smtrain.triggers.clients import ClientKey, client_key
from airflow_provider_smtrain.triggers.gcfreeze import freeze_once
from airflow_provider_smtrain.triggers.pollers import StatusPoller, Watch

if TYPE_CHECKING:
    from airflow_provider_smtrain.triggers.base import SageMakerJobTrigger

#: ``(job kind name, client key, scope)``: the scope (a pipeline name) of a scoped listing the kind cannot
#: replace by a ``Search``, else None
PollerKey = tuple[str, ClientKey, str | None]


#: The environment variable that overrides ``[smtrain] coalesce_status_reads``.
SETTING_ENV = "AIRFLOW__SMTRAIN__COALESCE_STATUS_READS"


def coalescing_enabled() -> bool:
    """
    ``[smtrain] coalesce_status_reads`` (default True): whether triggers share pollers.

    Read once per value of its environment variable: a triggerer starting 2000 triggers at once would
    otherwise spend ~40 us of loop time per trigger in the config parser.
    """
    return _setting(os.environ.get(SETTING_ENV))


@functools.lru_cache(maxsize=4)
def _setting(env_value: str | None) -> bool:
    from airflow.configuration import conf

    return conf.getboolean("smtrain", "coalesce_status_reads", fallback=True)


def coalesces(trigger: SageMakerJobTrigger) -> bool:
    """
    Whether a trigger reads its job's status through a shared poller.

    :param trigger: the trigger.
    """
    listing = trigger.job_kind.listing
    if listing is None or (listing.search is None and listing.scope_param is not None and scope_of(trigger) is None):
        return False
    return coalescing_enabled()


def scope_of(trigger: SageMakerJobTrigger) -> str | None:
    """
    The scope a trigger's job is listed in (the pipeline of an execution), or None for unscoped listings
    and handles that name no scope.

    :param trigger: the trigger.
    """
    listing = trigger.job_kind.listing
    if listing is None or listing.scope_param is None or listing.scope is None:
        return None
    return listing.scope(trigger.job_name)


class PollerRegistry:
    """The pollers of this process, per event loop and :data:`PollerKey`."""

    def __init__(self) -> None:
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[PollerKey, StatusPoller]] = (
            weakref.WeakKeyDictionary()
        )

    def pollers(self) -> dict[PollerKey, StatusPoller]:
        """The running loop's pollers."""
        loop = asyncio.get_running_loop()
        found = self._loops.get(loop)
        if found is None:
            found = self._loops[loop] = {}
        return found

    def join(self, trigger: SageMakerJobTrigger) -> tuple[StatusPoller, Watch]:
        """
        Register a trigger with the poller of its kind and connection (and scope, for scoped listings
        without a ``Search``), started if needed.

        :param trigger: the waiting trigger.
        """
        params = (trigger.aws_conn_id, trigger.region_name, trigger.verify, trigger.botocore_config)
        listing = trigger.job_kind.listing
        scope = scope_of(trigger) if listing is not None and listing.search is None else None
        key: PollerKey = (trigger.kind, client_key(*params), scope)
        pollers = self.pollers()
        poller = pollers.get(key)
        if poller is None or poller.task is None or poller.task.done():
            freeze_once()  # the process's first poller: what is imported by now lives as long as the triggerer
            poller = pollers[key] = StatusPoller(trigger.job_kind, params)
        watch = Watch(trigger)
        poller.add(trigger.job_name, watch)
        if poller.task is None:
            # A context of its own: the poller serves every trigger of its key, so it must not carry
            # the context variables (log binding, ...) of whichever trigger happened to start it.
            poller.task = asyncio.get_running_loop().create_task(poller.run(), context=contextvars.Context())
        return poller, watch

    def leave(self, poller: StatusPoller, name: str, watch: Watch) -> None:
        """
        Deregister a trigger; the poller stops when it was the last.

        :param poller: the trigger's poller.
        :param name: its job name.
        :param watch: its watch.
        """
        if poller.remove(name, watch):
            pollers = self.pollers()
            for key, found in list(pollers.items()):
                if found is poller:
                    del pollers[key]
            if poller.task is not None and not poller.task.done():
                poller.task.cancel()


#: The pollers the provider's triggers share.
POLLERS = PollerRegistry()


async def wait_shared(trigger: SageMakerJobTrigger) -> tuple[str, Any]:
    """
    Wait through the shared poller until the trigger's job ended, cannot be read, or its deadline passed.

    Status changes are logged by the trigger itself (in its own log), as when it polls alone, and
    handed to its ``_shared_status`` hook (a pipeline execution's trigger reads its steps then).

    Returns ``("job", describe response)`` when the job ended, ``("error", message)``, or
    ``("deadline", last known state)``: the deadline passed after at least one read was attempted
    (a triggerer restarted past the deadline still reports a job that ended meanwhile).

    :param trigger: the waiting trigger.
    """
    poller, watch = POLLERS.join(trigger)
    deadline = trigger.deadline
    timer: asyncio.Future[None] | None = None
    seen: tuple[Any, Any] | None = None
    try:
        while True:
            watch.update.clear()
            if watch.job:
                before, seen = seen, trigger._log_status(watch.job, seen)
                if seen != before and watch.result is None:
                    await trigger._shared_status(dict(watch.job), ended=False)
                    continue  # the watch may have heard more meanwhile
            if watch.result is not None:
                return watch.result
            if deadline is not None and timer is None:
                timer = asyncio.ensure_future(clock().async_sleep(deadline - clock().now()))
            if timer is not None and timer.done() and watch.read:
                return ("deadline", watch.job)
            if timer is None or timer.done():
                await watch.update.wait()  # no extra task and wait set per waiting trigger
                continue
            waiter: asyncio.Future[Any] = asyncio.ensure_future(watch.update.wait())
            try:
                await asyncio.wait({waiter, timer}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                waiter.cancel()
    finally:
        if timer is not None:
            timer.cancel()
        POLLERS.leave(poller, trigger.job_name, watch)

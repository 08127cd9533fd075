"""
The triggers in one asyncio loop, started the way Airflow's triggerer starts them, and what the loop saw.

A 50 ms ticker measures its own lateness (loop stalls), CPU time and RSS; every garbage collection is
timed; each job's first status read (``DescribeTrainingJob``, ``DescribeHyperParameterTuningJob``) call and
answer are noted, whichever client made them.
"""

from __future__ import annotations

import asyncio
import gc
import importlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from benchmarks.trigger_scale.common import TICK_SECONDS, rss_bytes


@dataclass
class Tick:
    """
    One wake-up of the lateness ticker.

    :param t: wall-clock time (epoch seconds) of the wake-up.
    :param late: seconds later than asked.
    :param cpu: process CPU time (user + system, all threads) at the wake-up.
    :param rss: resident set size in bytes at the wake-up.
    """

    t: float
    late: float
    cpu: float
    rss: int


@dataclass
class LoopRecord:
    """
    What happened in the worker's event loop.

    :param launch: epoch seconds the first trigger was created.
    :param launch_cpu: process CPU time at ``launch``.
    :param launched: epoch seconds the last trigger task was created.
    :param ticks: the ticker's samples.
    :param first_call: job name -> epoch seconds its first status read (Describe*) was issued.
    :param first_read: job name -> epoch seconds its first status read answered.
    :param events: job name -> (epoch seconds, payload) of the trigger's event.
    :param errors: job name -> exception text of a trigger task that raised.
    :param timed_out: trigger tasks still running at the deadline (then cancelled).
    :param ready: epoch seconds every job's first status read had answered (None: not within the start-up timeout).
    :param jobs_ended: epoch seconds the jobs were ended (the LocalSageMaker clock moved past their end).
    :param gc_pauses: ``(epoch seconds, generation, seconds)`` of every garbage collection in the loop.
    """

    launch: float = 0.0
    launch_cpu: float = 0.0
    launched: float = 0.0
    ticks: list[Tick] = field(default_factory=list)
    first_call: dict[str, float] = field(default_factory=dict)
    first_read: dict[str, float] = field(default_factory=dict)
    events: dict[str, tuple[float, dict[str, Any]]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    timed_out: int = 0
    gc_pauses: list[tuple[float, int, float]] = field(default_factory=list)
    ready: float | None = None
    jobs_ended: float | None = None


@dataclass
class EndPlan:
    """
    When the worker ends the jobs: a fixed steady state after every trigger has read its job once.

    :param poll: poll interval of the triggers, seconds.
    :param periods: whole poll periods of steady state to measure before the jobs end.
    :param startup_timeout: seconds after launch to wait for every first answer; then the jobs end anyway.
    :param grace: seconds after the jobs ended to wait for the last event.
    :param end_jobs: ends every job now (blocking; run in a thread, off the event loop).
    """

    poll: float
    periods: int
    startup_timeout: float
    grace: float
    end_jobs: Callable[[], None]

    def steady_span(self, ready: float) -> tuple[float, float]:
        """
        The measured steady state: whole poll periods from half a poll after ``ready``.

        :param ready: epoch seconds every first answer was in.
        """
        start = ready + self.poll / 2
        return start, start + self.periods * self.poll

    def end_after(self, ready: float) -> float:
        """
        Epoch seconds to end the jobs at: a quarter poll after the steady span (off the poll grid).

        :param ready: epoch seconds every first answer was in.
        """
        return self.steady_span(ready)[1] + self.poll / 4


def _record_first_reads(
    operation: str, name_param: str, first_call: dict[str, float], first_read: dict[str, float]
) -> None:
    """
    Note when each job's first status read was issued and answered, whatever client made it.

    Wraps ``AioBaseClient._make_api_call`` (two dict lookups per call) so that start-up is measured
    the same way for every trigger: a trigger has started once its job's status was asked for (by the
    trigger itself or by a poller it shares).

    :param operation: the Describe operation of the job kind (``DescribeTrainingJob``, ...).
    :param name_param: its job-name parameter.
    :param first_call: filled with job name -> epoch seconds the first call was made.
    :param first_read: filled with job name -> epoch seconds the first call returned.
    """
    from aiobotocore.client import AioBaseClient

    original = AioBaseClient._make_api_call

    async def _make_api_call(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        if operation_name != operation:
            return await original(self, operation_name, api_params)
        name = api_params.get(name_param)
        if name is not None and name not in first_call:
            first_call[name] = time.time()
        result = await original(self, operation_name, api_params)
        if name is not None and name not in first_read:
            first_read[name] = time.time()
        return result

    AioBaseClient._make_api_call = _make_api_call  # type: ignore[method-assign]


async def run_triggers(
    workloads: list[tuple[str, dict[str, Any]]],
    names: list[str],
    launch_at: float,
    plan: EndPlan,
    status_read: tuple[str, str],
) -> LoopRecord:
    """
    Start one task per trigger like the triggerer's ``create_triggers``/``run_trigger`` and wait for them.

    :param workloads: ``(classpath, kwargs)`` of each trigger.
    :param names: the job name of each trigger.
    :param launch_at: epoch seconds at which to start the first trigger (the ticker runs before).
    :param plan: when to end the jobs, and how long to wait for the events after that.
    :param status_read: the Describe operation that reads one job's status and its job-name parameter.
    """
    ensure_portal: Callable[[], Any] | None = None
    if os.environ.get("AIRFLOW_DISABLE_GREENBACK_PORTAL", "").lower() != "true":
        try:
            import greenback

            ensure_portal = greenback.ensure_portal
        except ImportError:  # pragma: no cover - greenback ships with Airflow 3
            pass

    record = LoopRecord()
    _record_first_reads(*status_read, record.first_call, record.first_read)
    gc_started: list[float] = [0.0]

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            gc_started[0] = time.perf_counter()
        else:
            record.gc_pauses.append((time.time(), info["generation"], time.perf_counter() - gc_started[0]))

    gc.callbacks.append(on_gc)
    stop = asyncio.Event()

    async def ticker() -> None:
        process_time = time.process_time
        record.ticks.append(Tick(time.time(), 0.0, process_time(), rss_bytes()))
        while not stop.is_set():
            started = time.monotonic()
            await asyncio.sleep(TICK_SECONDS)
            late = time.monotonic() - started - TICK_SECONDS
            record.ticks.append(Tick(time.time(), late, process_time(), rss_bytes()))

    async def run_one(name: str, trigger: Any) -> None:
        if ensure_portal is not None:
            await ensure_portal()
        try:
            async for event in trigger.run():
                record.events[name] = (time.time(), dict(event.payload))
        finally:
            try:
                await trigger.cleanup()
            except Exception:
                pass

    classes: dict[str, type] = {}
    tick_task = asyncio.create_task(ticker(), name="lateness-ticker")
    while len(record.ticks) < 2 or time.time() < launch_at:  # the ticker runs before anything starts
        await asyncio.sleep(min(TICK_SECONDS, max(0.001, launch_at - time.time())))
    record.launch = time.time()
    record.launch_cpu = time.process_time()
    tasks: dict[asyncio.Task[None], str] = {}
    for trigger_id, ((classpath, kwargs), name) in enumerate(zip(workloads, names, strict=True)):
        await asyncio.sleep(0)
        cls = classes.get(classpath)
        if cls is None:
            module, _, attr = classpath.rpartition(".")
            cls = classes[classpath] = getattr(importlib.import_module(module), attr)
        await asyncio.sleep(0)
        trigger = cls(**kwargs)
        trigger.trigger_id = trigger_id
        trigger.triggerer_job_id = 1
        trigger.timeout_after = None
        tasks[asyncio.create_task(run_one(name, trigger), name=f"ID {trigger_id}")] = name
    record.launched = time.time()
    end_task = asyncio.create_task(_end_jobs(record, plan, len(names)), name="job-ender")

    pending: set[asyncio.Task[None]] = set(tasks)
    while pending:
        if record.jobs_ended is None:
            remaining = 1.0  # the jobs have not ended yet: no deadline
        else:
            remaining = record.jobs_ended + plan.grace - time.time()
            if remaining <= 0:
                break
        done, pending = await asyncio.wait(pending, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if not task.cancelled() and task.exception() is not None:
                record.errors[tasks[task]] = repr(task.exception())
    record.timed_out = len(pending)
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.gather(*pending, return_exceptions=True)
    await end_task
    stop.set()
    await tick_task
    gc.callbacks.remove(on_gc)
    return record


async def _end_jobs(record: LoopRecord, plan: EndPlan, n: int) -> None:
    """
    Wait until every job was read once (or the start-up timeout), then the steady state, then end the jobs.

    :param record: the loop's record (``ready`` and ``jobs_ended`` are set).
    :param plan: the end plan.
    :param n: number of jobs.
    """
    give_up = record.launch + plan.startup_timeout
    while len(record.first_read) < n and time.time() < give_up:
        await asyncio.sleep(0.1)
    if len(record.first_read) >= n:
        record.ready = max(record.first_read.values())
    end_at = plan.end_after(record.ready) if record.ready is not None else time.time()
    await asyncio.sleep(max(0.0, end_at - time.time()))
    record.jobs_ended = time.time()
    await asyncio.get_running_loop().run_in_executor(None, plan.end_jobs)

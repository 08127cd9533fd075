"""Run an operator in-process the way a worker and a triggerer would, with an in-memory task_state_store."""

from __future__ import annotations

import asyncio
import copy
import importlib
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from airflow.sdk.exceptions import TaskDeferred
from airflow.triggers.base import BaseTrigger

from airflow_provider_smtrain.jobs.clock import Clock


class WorkerDied(BaseException):
    """A worker process lost at this point: nothing in the operator may catch it (as with SIGKILL)."""


class MemoryStateStore:
    """The subset of ``TaskStateStoreAccessor`` operators use, kept in a dict (values JSON round-tripped)."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}

    def get(self, key: str, default: Any = None) -> Any:
        return json.loads(self.data[key]) if key in self.data else default

    def set(self, key: str, value: Any, *, retention: Any = None) -> None:
        self.data[key] = json.dumps(value)


@dataclass
class FakeTI:
    dag_id: str = "dag"
    task_id: str = "train"
    run_id: str = "manual__2026-01-01"
    map_index: int = -1
    try_number: int = 1
    max_tries: int = 0
    start_date: datetime = field(default_factory=lambda: datetime.now(UTC))
    xcoms: dict[str, Any] = field(default_factory=dict)

    def retry(self) -> FakeTI:
        """The next try after a failure (or a worker crash): ``max_tries`` stays."""
        self.try_number += 1
        return self

    def clear(self, retries: int = 0) -> FakeTI:
        """The next try after a user cleared the task: Airflow sets ``max_tries = try_number + retries``."""
        self.max_tries = self.try_number + retries
        self.try_number += 1
        return self

    def xcom_push(self, key: str, value: Any, **kwargs: Any) -> None:
        json.dumps(value)  # XCom values must be JSON-native
        self.xcoms[key] = value


def make_context(ti: FakeTI, store: MemoryStateStore | None) -> dict[str, Any]:
    return {"ti": ti, "task_instance": ti, "task_state_store": store, "params": {}}


def rebuild_trigger(trigger: BaseTrigger) -> BaseTrigger:
    """Serialize a trigger and build it again from the payload, as the triggerer does."""
    classpath, kwargs = trigger.serialize()
    json.dumps(kwargs)  # only primitives may cross the database
    return import_string(classpath)(**kwargs)


async def first_event(trigger: BaseTrigger) -> dict[str, Any]:
    async for event in trigger.run():
        return event.payload
    raise AssertionError("trigger ended without an event")


def run_operator(operator: Any, ti: FakeTI, store: MemoryStateStore | None, run_trigger: bool = True) -> Any:
    """
    ``execute``; when it defers, run the rebuilt trigger to its event and resume a *fresh copy* of the
    operator (as a worker does: nothing set on the instance during ``execute`` survives a deferral).
    """
    context = make_context(ti, store)
    pristine = copy.deepcopy(operator)
    try:
        return operator.execute(context)
    except TaskDeferred as deferred:
        if not run_trigger:
            raise
        event = asyncio.run(first_event(rebuild_trigger(deferred.trigger)))
        resumed = copy.deepcopy(pristine)
        return resumed.resume_execution(deferred.method_name, {"event": event}, context)


def kill_once_running(operator: Any, ti: FakeTI, store: MemoryStateStore | None) -> list[BaseException]:
    """
    Run the operator in a thread, call ``on_kill`` (as Airflow does) once the job is submitted, and return
    what the run raised.

    :param operator: the operator (blocking mode: the job must outlive the kill).
    :param ti: the task instance (its ``job_name`` XCom says the job is submitted).
    :param store: the task state store.
    """
    errors: list[BaseException] = []

    def run() -> None:
        try:
            run_operator(operator, ti, store)
        except BaseException as err:
            errors.append(err)

    worker = threading.Thread(target=run)
    worker.start()
    deadline = time.time() + 30
    while "job_name" not in ti.xcoms and time.time() < deadline:
        time.sleep(0.1)
    operator.on_kill()
    worker.join(30)
    return errors


def import_string(dotted_path: str) -> Any:
    """Import ``package.module.Name``."""
    module, _, name = dotted_path.rpartition(".")
    return getattr(importlib.import_module(module), name)



class FastClock(Clock):
    """
    A virtual clock for retry and backoff tests: sleeping moves it forward at once.

    Real time still passes underneath (a sleep yields for at most ``real_cap`` seconds), so jobs of the
    local SageMaker, which run on wall time, make progress while minutes of backoff cost nothing.

    :param real_cap: the longest real sleep behind one virtual sleep.
    """

    def __init__(self, real_cap: float = 0.05) -> None:
        self.offset = 0.0
        self.real_cap = real_cap
        self.slept = 0.0

    def now(self) -> float:
        return time.time() + self.offset

    def sleep(self, seconds: float) -> None:
        seconds = max(seconds, 0.0)
        real = min(seconds, self.real_cap)
        time.sleep(real)
        self.offset += seconds - real
        self.slept += seconds

    async def async_sleep(self, seconds: float) -> None:
        seconds = max(seconds, 0.0)
        real = min(seconds, self.real_cap)
        await asyncio.sleep(real)
        self.offset += seconds - real
        self.slept += seconds

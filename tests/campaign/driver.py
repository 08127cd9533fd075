"""Airflow's side of one task instance, simulated faithfully enough to break the job lifecycle.

A :class:`TaskDriver` runs tries of one task instance: each try (and each resume after a deferral) runs
a fresh deep copy of the operator with the same ``task_state_store``; a deferral runs the trigger,
rebuilt from ``serialize()``, in an asyncio loop until its first event. At every sleep point of the
virtual clock the driver lets Airflow act as the scenario says:

* worker side: a kill (mark-failed, clear: ``on_kill`` on the running operator, as the SIGTERM
  handler does), Airflow's ``execution_timeout`` (``AirflowTaskTimeout``, then ``on_kill``), or a
  worker death (nothing runs after it);
* triggerer side: a restart (the trigger task is cancelled, ``cleanup()`` called, a rebuilt trigger
  started), an ``error`` event fed to ``execute_complete``, a kill (cancel, then the trigger's
  ``on_kill``), the triggerer down until the deferral's timeout (the task resumes with ``__fail__``).

Every act is written down with wall and virtual time (:class:`TaskRecord`) for the checker, which
dates server requests by their wall time.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from airflow.sdk.bases.operator import TRIGGER_FAIL_REPR, TriggerFailureReason
from airflow.sdk.exceptions import AirflowTaskTimeout, TaskDeferred
from airflow.triggers.base import BaseTrigger

from airflow_provider_smtrain.operators.base import SageMakerJobOperator
from tests.campaign.plan import Action, Scenario
from tests.campaign.vclock import SLEEP_POINT, CampaignClock
from tests.operators.runner import (
    FakeTI,
    MemoryStateStore,
    WorkerDied,
    first_event,
    make_context,
    rebuild_trigger,
)

#: Bounds of one scenario: virtual seconds, real seconds.
VIRTUAL_LIMIT = 12 * 3600.0
REAL_LIMIT = 120.0


class Stuck(BaseException):
    """The scenario ran past its virtual or real bound."""


class Killed(BaseException):
    """Airflow killed the worker process (SIGTERM after mark-failed or clear); ``on_kill`` follows."""

    def __init__(self, what: str) -> None:
        super().__init__(what)
        self.what = what


@dataclass
class Note:
    """Something Airflow did or saw, dated."""

    what: str  # try | success | retry | failed | clear | mark_failed | kill | timeout | restart | error_event | death
    wall: float
    virtual: float
    try_number: int
    epoch: int
    detail: str = ""


@dataclass
class TaskRecord:
    """What happened to one task instance, from Airflow's side."""

    deployment: str
    access_key: str
    notes: list[Note] = field(default_factory=list)
    state: str = "running"  # success | failed
    results: list[tuple[int, str]] = field(default_factory=list)  # (epoch, job name returned)
    try_errors: list[str] = field(default_factory=list)
    served: dict[str, int] = field(default_factory=dict)

    def times(self, what: str) -> list[Note]:
        return [n for n in self.notes if n.what == what]


class TaskDriver:
    """
    Runs one task instance to its end (success, or failed for good).

    :param sc: the scenario.
    :param operator: the operator as the DAG file built it (never run itself: tries run copies).
    :param clock: the campaign clock.
    :param record: where to write what happened.
    :param actions: Airflow's acts for this task instance (consumed as they fire).
    """

    def __init__(
        self,
        sc: Scenario,
        operator: SageMakerJobOperator,
        clock: CampaignClock,
        record: TaskRecord,
        actions: list[Action],
    ) -> None:
        self.sc = sc
        self.template = operator
        self.clock = clock
        self.record = record
        self.pending = sorted(actions, key=lambda a: a.at)
        self.ti = FakeTI(
            dag_id=operator.dag_id,
            task_id=operator.task_id,
            run_id="scheduled__2026-01-01",
            max_tries=sc.retries,
        )
        self.store = MemoryStateStore()
        self.epoch = 1
        self.cleared_after_success = False
        self.async_action: str | None = None
        self.airflow_timer: float | None = None
        self.late_kill: BaseTrigger | None = None
        self.real_start = time.monotonic()
        operator.campaign.deadline_used = self.deadline_used  # type: ignore[attr-defined]
        self.current: SageMakerJobOperator = operator
        self.quiet = False

    # -- bookkeeping ----------------------------------------------------------------------------------

    def note(self, what: str, detail: str = "") -> None:
        self.record.notes.append(
            Note(what, time.time(), self.clock.now(), self.ti.try_number, self.epoch, detail)
        )
        if what in (
            "triggerer_down",
            "restart",
            "error_event",
            "clear",
            "mark_failed",
            "timeout",
            "death",
            "clear_after_success",
        ):
            self.record.served[what] = self.record.served.get(what, 0) + 1

    def deadline_used(self, deadline: float | None) -> None:
        """The lifecycle waits (or defers) until ``deadline``: noted, to check it never moves later."""
        if deadline is not None:
            self.note("deadline", repr(deadline))

    def fresh(self) -> SageMakerJobOperator:
        """A worker's copy of the operator (nothing set on an earlier copy survives)."""
        self.airflow_timer = (
            self.clock.now() + self.sc.execution_timeout + self.sc.airflow_timeout_grace
            if self.sc.execution_timeout
            else None
        )
        return copy.deepcopy(self.template)

    def sleep_point(self, is_async: bool) -> bool:
        """Called by the clock at every sleep: Airflow acts here if something is due."""
        if time.monotonic() - self.real_start > REAL_LIMIT or self.clock.elapsed > VIRTUAL_LIMIT:
            raise Stuck(f"{self.sc.name}: past {REAL_LIMIT:.0f}s real or {VIRTUAL_LIMIT:.0f}s virtual")
        if self.quiet:  # Airflow is already acting (on_kill runs): nothing else cuts in
            return False
        if not is_async and self.airflow_timer is not None and self.clock.now() >= self.airflow_timer:
            self.airflow_timer = None
            raise AirflowTaskTimeout()
        action = self._due(is_async)
        if action is None:
            return False
        if is_async:
            self.async_action = action
            return True
        if action == "death":
            self.note("death", "while waiting")
            raise WorkerDied("while waiting")
        raise Killed(action)

    def _due(self, is_async: bool) -> str | None:
        """Take the first planned action of this side (triggerer or worker) that is due now, if any."""
        phase = (
            {"restart", "error_event", "clear", "mark_failed", "triggerer_down"}
            if is_async
            else {"clear", "mark_failed", "death"}
        )
        for action in self.pending:
            if action.at > self.clock.elapsed:
                break
            if action.what in phase:
                self.pending.remove(action)
                return action.what
        return None

    def cut_in(self) -> None:
        """
        Triggerer side, between two sleep points: Airflow acts when an action is due, whatever the trigger
        is doing. A trigger served by a shared poller may not sleep itself for a long time (it waits for
        the poller's news), and a real restart or kill does not wait for a sleep either.
        """
        if self.async_action is None and not self.quiet:
            self.async_action = self._due(True)

    # -- the task instance ----------------------------------------------------------------------------

    def run(self) -> TaskRecord:
        token = SLEEP_POINT.set(self.sleep_point)
        try:
            with self.clock.actor():
                while self.record.state == "running":
                    self.run_try()
        finally:
            SLEEP_POINT.reset(token)
            self.record.served.update(
                {k: v for k, v in self.template.campaign.served.items()}  # type: ignore[attr-defined]
            )
        return self.record

    def ended_try(self, failed: bool) -> None:
        """After a failed try: a retry if tries remain, else the task instance failed for good."""
        if not failed:
            return
        if self.ti.try_number <= self.ti.max_tries:
            self.note("retry")
            self.ti.retry()
        else:
            self.note("failed")
            self.record.state = "failed"

    def clear(self) -> None:
        """Airflow's clear: ``max_tries = try_number + retries``; the next try starts a new epoch."""
        self.ti.clear(self.sc.retries)
        self.epoch = self.ti.try_number

    def run_try(self) -> None:
        self.ti.start_date = datetime.fromtimestamp(self.clock.now(), UTC)
        self.note("try")
        context: Any = make_context(self.ti, self.store)
        self.current = operator = self.fresh()
        try:
            try:
                result: dict[str, Any] | None = operator.execute(context)
            except TaskDeferred as deferred:
                self.run_late_kill()
                result = self.defer_and_resume(deferred, context)
            finally:
                self.run_late_kill()
        except WorkerDied as died:
            self.note("died", str(died))
            self.ended_try(failed=True)
            return
        except Killed as killed:
            self.killed(killed.what)
            return
        except AirflowTaskTimeout:
            self.note("timeout", "execution_timeout")
            self.note("kill", "timeout")
            self.on_kill(self.current)
            self.ended_try(failed=True)
            return
        except Exception as err:
            self.record.try_errors.append(f"try {self.ti.try_number}: {type(err).__name__}: {err}"[:500])
            self.ended_try(failed=True)
            return
        if result is not None:  # None: killed while deferred
            self.succeeded(result)

    def succeeded(self, result: dict[str, Any]) -> None:
        self.note("success", result["job_name"])
        self.record.results.append((self.epoch, result["job_name"]))
        if self.sc.clear_after_success and not self.cleared_after_success:
            self.cleared_after_success = True
            self.note("clear_after_success")
            self.clear()
            return
        self.record.state = "success"

    def killed(self, what: str) -> None:
        """A kill reached the running worker: ``on_kill`` runs on the live operator, the try ends."""
        self.note(what)
        self.note("kill", what)
        self.on_kill(self.current)
        if what == "clear":
            self.clear()
        else:
            self.note("failed")
            self.record.state = "failed"

    def on_kill(self, operator: SageMakerJobOperator) -> None:
        """The SIGTERM handler's ``on_kill``; what it raises is logged and the worker dies anyway."""
        self.quiet = True
        try:
            operator.on_kill()
        except Exception as err:
            self.record.try_errors.append(f"on_kill raised {type(err).__name__}: {err}"[:500])
        finally:
            self.quiet = False

    def run_late_kill(self) -> None:
        """The cleared try's old trigger got its ``on_kill`` only after the new try began (issue 12's race)."""
        if self.late_kill is not None:
            trigger, self.late_kill = self.late_kill, None
            self.quiet = True
            try:
                asyncio.run(trigger.on_kill())
            finally:
                self.quiet = False

    def defer_and_resume(self, deferred: TaskDeferred, context: Any) -> dict[str, Any] | None:
        """Wait in the triggerer, then resume fresh copies until the task returns; None when killed."""
        while True:
            deferred_at = self.clock.now()
            outcome, payload = asyncio.run(self.triggerer(rebuild_trigger(deferred.trigger)))
            if outcome == "killed":
                return None
            method, kwargs = deferred.method_name, {**(deferred.kwargs or {}), "event": payload}
            if outcome == "down":  # the scheduler fails the deferral once its timeout passed
                timeout = deferred.timeout.total_seconds() if deferred.timeout is not None else 3600.0
                self.quiet_sleep(deferred_at + timeout - self.clock.now())
                method, kwargs = TRIGGER_FAIL_REPR, {"error": TriggerFailureReason.TRIGGER_TIMEOUT}
            self.current = self.fresh()
            try:
                result: dict[str, Any] = self.current.resume_execution(method, kwargs, context)
                return result
            except TaskDeferred as again:
                deferred = again

    def quiet_sleep(self, seconds: float) -> None:
        """Let virtual time pass while nothing of this task instance runs."""
        self.quiet = True
        try:
            self.clock.sleep(seconds)
        finally:
            self.quiet = False

    async def triggerer(self, trigger: BaseTrigger) -> tuple[str, Any]:
        """Run the trigger to its first event; restarts, error events and kills cut in at sleep points."""
        while True:
            self.async_action = None
            task = asyncio.create_task(first_event(trigger))
            while not task.done() and self.async_action is None:
                await asyncio.wait({task}, timeout=0.002)
                self.cut_in()
            if task.done():
                return "event", task.result()
            action = self.async_action or ""
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            self.note(action)
            if action == "restart":
                await trigger.cleanup()
                trigger = rebuild_trigger(trigger)
                continue
            if action == "triggerer_down":
                await trigger.cleanup()
                return "down", None
            if action == "error_event":
                await trigger.cleanup()
                job_name = trigger.serialize()[1]["job_name"]
                return "event", {
                    "status": "error",
                    "job_name": job_name,
                    "kind": self.template.job_kind.name,
                    "message": "campaign: the triggerer could not read the job",
                }
            self.note("kill", action)
            if action == "clear" and (self.sc.index // 2) % 2 == 1 and self.late_kill is None:
                self.late_kill = trigger  # its on_kill comes after the new try started
            else:
                self.quiet = True
                try:
                    await trigger.on_kill()
                finally:
                    self.quiet = False
            await trigger.cleanup()
            if action == "clear":
                self.clear()
            else:
                self.note("failed")
                self.record.state = "failed"
            return "killed", None

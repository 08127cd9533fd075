"""
Task instance calls of the REST client: state, waits, mark/clear as in the UI, XCom, logs, state store.

:class:`TaskInstanceClient` extends :class:`~.api_client.AirflowApiClient`; :class:`~.stack.AirflowStack`
is one.  Trigger logs are read from ``AIRFLOW_HOME/logs`` (the triggerer writes them there; there is no
REST endpoint that tells the triggerer job apart).
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterable
from typing import Any

from airflow_provider_smtrain.testing.airflow.api_client import AirflowApiClient
from airflow_provider_smtrain.testing.airflow.errors import AirflowStackError

__all__ = ["TaskInstanceClient"]

#: TI states after which a task instance will not change state on its own.
_TERMINAL_TI_STATES = frozenset({"success", "failed", "skipped", "upstream_failed", "removed"})


def _format_log_message(entry: Any) -> str:
    """Render one entry of the structured task-log response as a text line."""
    if not isinstance(entry, dict):
        return str(entry)
    skip = {"timestamp", "level", "event", "logger", "filename", "lineno", "sources"}
    parts = [str(entry[k]) for k in ("timestamp", "level", "logger") if entry.get(k)]
    parts.append(str(entry.get("event", "")))
    extra = " ".join(f"{k}={v!r}" for k, v in entry.items() if k not in skip)
    if entry.get("sources"):
        parts.append(" ".join(str(s) for s in entry["sources"]))
    if extra:
        parts.append(extra)
    return " ".join(parts)


class TaskInstanceClient(AirflowApiClient):
    """Calls of the public REST API about task instances (and their logs) as the admin user."""

    @staticmethod
    def _ti_path(dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> str:
        path = f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}"
        return path if map_index < 0 else f"{path}/{map_index}"

    def ti(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> dict[str, Any]:
        """
        Return the task instance (``state``, ``try_number``, ``start_date``, ``end_date``, ``hostname``, ...).

        :param dag_id: the DAG id.
        :param run_id: the run id.
        :param task_id: the task id.
        :param map_index: map index of a mapped task instance (-1 for unmapped).
        """
        result: dict[str, Any] = self.request("GET", self._ti_path(dag_id, run_id, task_id, map_index)).json()
        return result

    def wait_for_ti(
        self,
        dag_id: str,
        run_id: str,
        task_id: str,
        states: Iterable[str] = frozenset({"deferred"}),
        timeout: float = 60.0,
        map_index: int = -1,
    ) -> dict[str, Any]:
        """
        Wait until the task instance is in one of ``states`` and return it.

        Fails fast when the TI reaches a terminal state that is not in ``states``.

        :param dag_id: the DAG id.
        :param run_id: the run id.
        :param task_id: the task id.
        :param states: target states, e.g. ``{"deferred"}`` or ``{"running"}``.
        :param timeout: seconds to wait.
        :param map_index: map index of a mapped task instance (-1 for unmapped).
        """
        wanted = {str(s) for s in ([states] if isinstance(states, str) else states)}
        deadline = time.monotonic() + timeout
        while True:
            resp = self.request("GET", self._ti_path(dag_id, run_id, task_id, map_index), ok=(200, 404))
            ti: dict[str, Any] = resp.json() if resp.status_code == 200 else {}
            state = ti.get("state")
            if state in wanted:
                return ti
            if state in _TERMINAL_TI_STATES:
                raise AirflowStackError(
                    f"Task {dag_id}/{run_id}/{task_id} reached {state!r} while waiting for {sorted(wanted)}\n"
                    + self._diagnostics(dag_id, run_id)
                )
            if time.monotonic() > deadline:
                raise AirflowStackError(
                    f"Task {dag_id}/{run_id}/{task_id} still {state!r} after {timeout:.0f}s "
                    f"(waiting for {sorted(wanted)})\n" + self._diagnostics(dag_id, run_id)
                )
            time.sleep(0.25)

    def mark_ti(
        self, dag_id: str, run_id: str, task_id: str, state: str = "failed", map_index: int = -1
    ) -> list[dict[str, Any]]:
        """
        Set a task instance's state like a user in the UI ("Mark as failed/success/skipped").

        Uses ``PATCH /dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}[/{map_index}]``.

        :param dag_id: the DAG id.
        :param run_id: the run id.
        :param task_id: the task id.
        :param state: ``"failed"``, ``"success"`` or ``"skipped"``.
        :param map_index: map index of a mapped task instance (-1 for unmapped).
        :return: the updated task instances.
        """
        resp = self.request(
            "PATCH",
            self._ti_path(dag_id, run_id, task_id, map_index),
            json={"new_state": state},
            retry_5xx=False,
        )
        result: list[dict[str, Any]] = resp.json()["task_instances"]
        return result

    def clear_ti(
        self,
        dag_id: str,
        run_id: str,
        task_id: str,
        map_index: int = -1,
        include_downstream: bool = False,
    ) -> list[dict[str, Any]]:
        """
        Clear a task instance like a user in the UI ("Clear"), so that it runs again.

        Uses ``POST /dags/{dag_id}/clearTaskInstances``.

        :param dag_id: the DAG id.
        :param run_id: the run id.
        :param task_id: the task id.
        :param map_index: map index of a mapped task instance (-1 for unmapped / all map indexes).
        :param include_downstream: also clear downstream tasks.
        :return: the cleared task instances.
        """
        target: str | list[Any] = task_id if map_index < 0 else [task_id, map_index]
        body = {
            "dry_run": False,
            "dag_run_id": run_id,
            "task_ids": [target],
            "only_failed": False,
            "only_running": False,
            "reset_dag_runs": True,
            "include_downstream": include_downstream,
            "include_upstream": False,
            "include_future": False,
            "include_past": False,
        }
        resp = self.request("POST", f"/dags/{dag_id}/clearTaskInstances", json=body, retry_5xx=False)
        result: list[dict[str, Any]] = resp.json()["task_instances"]
        return result

    def xcom(
        self, dag_id: str, run_id: str, task_id: str, key: str = "return_value", map_index: int = -1
    ) -> Any:
        """
        Return an XCom value, JSON-decoded.

        :param dag_id: the DAG id.
        :param run_id: the run id.
        :param task_id: the task id.
        :param key: XCom key.
        :param map_index: map index of a mapped task instance (-1 for unmapped).
        :raises KeyError: when the XCom does not exist.
        """
        resp = self.request(
            "GET",
            f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/{key}",
            params={"map_index": map_index},
            ok=(200, 404),
        )
        if resp.status_code == 404:
            raise KeyError(f"No XCom {key!r} for {dag_id}/{run_id}/{task_id}[{map_index}]")
        value = resp.json()["value"]
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                return json.loads(value)
        return value

    def task_log(
        self, dag_id: str, run_id: str, task_id: str, try_number: int | None = None, map_index: int = -1
    ) -> str:
        """
        Return the task log text of one try, as the UI shows it (worker and trigger parts).

        :param dag_id: the DAG id.
        :param run_id: the run id.
        :param task_id: the task id.
        :param try_number: the try (defaults to the TI's current ``try_number``).
        :param map_index: map index of a mapped task instance (-1 for unmapped).
        """
        if try_number is None:
            try_number = int(self.ti(dag_id, run_id, task_id, map_index)["try_number"])
        resp = self.request(
            "GET",
            f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/logs/{try_number}",
            params={"full_content": True, "map_index": map_index},
            headers={"Accept": "application/json"},
        )
        content = resp.json().get("content", [])
        if isinstance(content, str):
            return content
        return "\n".join(_format_log_message(entry) for entry in content)

    def trigger_logs(
        self, dag_id: str, run_id: str, task_id: str, try_number: int | None = None, map_index: int = -1
    ) -> dict[int, str]:
        """
        Return the trigger logs of one try, written by the triggerer(s) that ran its trigger.

        The triggerer writes a task's trigger log to ``<task log>.trigger.<triggerer job id>.log``, so the
        keys tell *which* triggerer process ran the trigger (e.g. two keys after a triggerer restart).
        Assumes the default ``[logging] log_filename_template``.

        :param dag_id: the DAG id.
        :param run_id: the run id.
        :param task_id: the task id.
        :param try_number: the try (defaults to the TI's current ``try_number``).
        :param map_index: map index of a mapped task instance (-1 for unmapped).
        :return: ``{triggerer job id: log text}``.
        """
        assert self.home is not None
        if try_number is None:
            try_number = int(self.ti(dag_id, run_id, task_id, map_index)["try_number"])
        folder = self.home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}" / f"task_id={task_id}"
        if map_index >= 0:
            folder = folder / f"map_index={map_index}"
        result: dict[int, str] = {}
        for path in sorted(folder.glob(f"attempt={try_number}.log.trigger.*.log")):
            job_id = path.name.rsplit(".trigger.", 1)[1].removesuffix(".log")
            if job_id.isdigit():
                result[int(job_id)] = path.read_text(errors="replace")
        return result

    def task_state_store(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> dict[str, Any]:
        """
        Return the AIP-103 task state store of a task instance as ``{key: value}``.

        Read through ``GET /dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/state-store``.

        :param dag_id: the DAG id.
        :param run_id: the run id.
        :param task_id: the task id.
        :param map_index: map index of a mapped task instance (-1 for unmapped).
        """
        result: dict[str, Any] = {}
        offset = 0
        while True:
            resp = self.request(
                "GET",
                f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/state-store",
                params={"map_index": map_index, "limit": 100, "offset": offset},
            )
            data = resp.json()
            entries = data.get("task_state_store", [])
            result.update({e["key"]: e["value"] for e in entries})
            offset += len(entries)
            if not entries or offset >= int(data.get("total_entries", 0)):
                return result

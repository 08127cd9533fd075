"""
The public REST API client of the harness: login, requests, DAGs and DAG runs.

:class:`AirflowApiClient` is a base class of :class:`~.stack.AirflowStack` (which sets its state and
supplies :meth:`AirflowApiClient._check_alive` and :meth:`AirflowApiClient.component_logs`); the task
instance calls are in :mod:`.task_instances`.  It talks to the API server like a user of the UI would:
a JWT from ``POST /auth/token`` (renewed on HTTP 401), then ``/api/v2``.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from airflow_provider_smtrain.testing.airflow.components import Component
from airflow_provider_smtrain.testing.airflow.environment import ADMIN_USER
from airflow_provider_smtrain.testing.airflow.errors import AirflowStackError

__all__ = ["AirflowApiClient"]

_TERMINAL_RUN_STATES = frozenset({"success", "failed"})


class AirflowApiClient:
    """
    Calls of the public REST API (``/api/v2``) as the admin user; DAGs and DAG runs.

    The attributes are set by :class:`~.stack.AirflowStack`, which also implements the two hooks.
    """

    base_url: str
    home: Path | None
    components: dict[str, Component]
    _password: str
    _token: str | None
    _client: httpx.Client | None

    def _check_alive(self, names: Iterable[str]) -> None:
        """
        Raise :class:`AirflowStackError` when one of the named components has exited (set by the stack).

        :param names: component names.
        """
        raise NotImplementedError

    def component_logs(self, tail: int = 200, components: Iterable[str] | None = None) -> str:
        """
        Return the last ``tail`` lines of each component's log (set by the stack).

        :param tail: number of lines per component.
        :param components: which components (all by default).
        """
        raise NotImplementedError

    # ------------------------------------------------------------------ session

    def _login(self) -> None:
        """Get a JWT for the admin user from the SimpleAuthManager (``POST /auth/token``)."""
        resp = httpx.post(
            f"{self.base_url}/auth/token",
            json={"username": ADMIN_USER, "password": self._password},
            timeout=30,
        )
        if resp.status_code not in (200, 201):
            raise AirflowStackError(f"Login failed: HTTP {resp.status_code}: {resp.text}")
        self._token = resp.json()["access_token"]
        if self._client is not None:
            self._client.close()
        self._client = httpx.Client(
            base_url=f"{self.base_url}/api/v2",
            headers={"Authorization": f"Bearer {self._token}"},
            timeout=30,
        )

    @property
    def token(self) -> str:
        """The bearer token used for the REST API (for ad-hoc ``httpx``/``curl`` calls)."""
        if self._token is None:
            raise AirflowStackError("AirflowStack is not started")
        return self._token

    def request(
        self, method: str, path: str, *, ok: Iterable[int] = (200,), retry_5xx: bool = True, **kwargs: Any
    ) -> httpx.Response:
        """
        Call the public REST API (``/api/v2`` + ``path``) as the admin user.

        :param method: HTTP method.
        :param path: path below ``/api/v2``, e.g. ``/dags/my_dag``.
        :param ok: status codes that are returned instead of raising.
        :param retry_5xx: retry a few times on 5xx / connection errors (SQLite may be briefly locked).
        :param kwargs: passed to :meth:`httpx.Client.request`.
        """
        if self._client is None:
            raise AirflowStackError("AirflowStack is not started")
        ok = set(ok)
        attempts = 5 if retry_5xx else 1
        for attempt in range(attempts):
            try:
                resp = self._client.request(method, path, **kwargs)
            except httpx.TransportError:
                if attempt == attempts - 1:
                    raise
                time.sleep(0.5)
                continue
            if resp.status_code == 401 and attempt == 0:
                self._login()
                continue
            if resp.status_code >= 500 and attempt < attempts - 1:
                time.sleep(0.5)
                continue
            break
        if resp.status_code not in ok:
            raise AirflowStackError(f"{method} {path} -> HTTP {resp.status_code}: {resp.text[:2000]}")
        return resp

    # ------------------------------------------------------------------ DAGs and runs

    def wait_for_dag(self, dag_id: str, timeout: float = 60.0) -> dict[str, Any]:
        """
        Wait until ``dag_id`` is parsed and registered; unpause it if it is paused.

        :param dag_id: the DAG id.
        :param timeout: seconds to wait.
        :return: the DAG as returned by ``GET /dags/{dag_id}``.
        """
        deadline = time.monotonic() + timeout
        while True:
            self._check_alive(self.components)
            resp = self.request("GET", f"/dags/{dag_id}", ok=(200, 404))
            if resp.status_code == 200:
                dag: dict[str, Any] = resp.json()
                if dag.get("is_paused"):
                    self.request("PATCH", f"/dags/{dag_id}", json={"is_paused": False})
                    dag["is_paused"] = False
                return dag
            if time.monotonic() > deadline:
                errors = self.request("GET", "/importErrors", ok=(200,)).json()
                raise AirflowStackError(
                    f"DAG {dag_id!r} not registered after {timeout:.0f}s. Import errors: "
                    f"{json.dumps(errors.get('import_errors', []), indent=1)[:5000]}\n"
                    + self.component_logs(tail=40, components=["dag-processor"])
                )
            time.sleep(0.5)

    def trigger(
        self,
        dag_id: str,
        conf: Mapping[str, Any] | None = None,
        logical_date: datetime | str | None = None,
        run_id: str | None = None,
    ) -> str:
        """
        Trigger a DAG run (``POST /dags/{dag_id}/dagRuns``) and return its run id.

        :param dag_id: the DAG id.
        :param conf: the run's ``conf``.
        :param logical_date: logical date (aware ``datetime`` or ISO string); ``None`` for no logical date.
        :param run_id: explicit run id (generated by Airflow when ``None``).
        """
        if isinstance(logical_date, datetime):
            if logical_date.tzinfo is None:
                logical_date = logical_date.replace(tzinfo=UTC)
            logical_date = logical_date.isoformat()
        body: dict[str, Any] = {"logical_date": logical_date, "conf": dict(conf or {})}
        if run_id is not None:
            body["dag_run_id"] = run_id
        resp = self.request("POST", f"/dags/{dag_id}/dagRuns", json=body, retry_5xx=False)
        return str(resp.json()["dag_run_id"])

    def dag_run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        """
        Return the DAG run as returned by ``GET /dags/{dag_id}/dagRuns/{run_id}``.

        :param dag_id: the DAG id.
        :param run_id: the run id.
        """
        result: dict[str, Any] = self.request("GET", f"/dags/{dag_id}/dagRuns/{run_id}").json()
        return result

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        """
        Return all task instances of a run.

        :param dag_id: the DAG id.
        :param run_id: the run id.
        """
        resp = self.request("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances", params={"limit": 100})
        result: list[dict[str, Any]] = resp.json()["task_instances"]
        return result

    def _diagnostics(self, dag_id: str, run_id: str) -> str:
        lines = []
        with contextlib.suppress(Exception):
            for ti in self.task_instances(dag_id, run_id):
                lines.append(
                    f"  {ti['task_id']}[{ti.get('map_index')}] state={ti.get('state')} "
                    f"try={ti.get('try_number')}"
                )
        return "Task instances:\n" + "\n".join(lines) + "\n" + self.component_logs(tail=60)

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 180.0) -> str:
        """
        Wait until the DAG run is in a terminal state and return it (``"success"`` or ``"failed"``).

        :param dag_id: the DAG id.
        :param run_id: the run id.
        :param timeout: seconds to wait; on timeout, raises :class:`AirflowStackError` with TI states and
            component log tails.
        """
        deadline = time.monotonic() + timeout
        while True:
            state = self.dag_run(dag_id, run_id).get("state")
            if state in _TERMINAL_RUN_STATES:
                return str(state)
            if time.monotonic() > deadline:
                raise AirflowStackError(
                    f"DAG run {dag_id}/{run_id} still {state!r} after {timeout:.0f}s\n"
                    + self._diagnostics(dag_id, run_id)
                )
            self._check_alive(self.components)
            time.sleep(0.25)

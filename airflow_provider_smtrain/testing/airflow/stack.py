"""
:class:`AirflowStack`: the lifecycle of a real, local Airflow 3 deployment (start, stop, restart, health).

Its REST calls are inherited from :class:`~.task_instances.TaskInstanceClient` and
:class:`~.api_client.AirflowApiClient`; the processes are :class:`~.components.Component`; the
environment, configuration and metadata DB come from :mod:`.environment`.  See the package docstring
for the design.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import secrets
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from airflow_provider_smtrain.testing.airflow.components import (
    COMPONENTS,
    Component,
    all_healthy,
    component_argv,
    free_port,
    log_tail,
)
from airflow_provider_smtrain.testing.airflow.environment import (
    airflow_command,
    component_env,
    default_cache_dir,
    prepare_db,
    write_passwords_file,
)
from airflow_provider_smtrain.testing.airflow.errors import AirflowStackError
from airflow_provider_smtrain.testing.airflow.task_instances import TaskInstanceClient

__all__ = ["AirflowStack"]

# Every live stack, so an interpreter exit without ``__exit__`` still cleans up the children.
_LIVE_STACKS: set[AirflowStack] = set()


def _stop_live_stacks() -> None:
    for stack in list(_LIVE_STACKS):
        with contextlib.suppress(Exception):
            stack.stop()


atexit.register(_stop_live_stacks)


class AirflowStack(TaskInstanceClient):
    """
    A real Airflow 3 deployment (DB, API server, scheduler, dag-processor, triggerer) for tests.

    Use it as a context manager; ``__enter__`` runs ``airflow db migrate`` and starts all components,
    then waits until the API server answers and the scheduler, dag-processor and triggerer report healthy
    heartbeats.  ``__exit__`` terminates every child process (by process group), also on exceptions and
    ``KeyboardInterrupt``; it is idempotent.

    All components bind to 127.0.0.1 only (the API server on a free port; the worker/trigger log servers
    are not started -- all components share ``AIRFLOW_HOME/logs`` so the API server reads task logs
    from disk).

    :param dags_folders: folders with DAG files; each becomes a ``LocalDagBundle``.  The first one is also
        ``[core] dags_folder``.
    :param env: extra environment for every component (e.g. ``AIRFLOW_CONN_MY_AWS``, ``AIRFLOW__X__Y``
        overrides, ``AWS_*``).  Applied last, so it can override any of the harness defaults.
    :param home: ``AIRFLOW_HOME`` to use; a fresh temporary directory (removed on a clean exit) when ``None``.
    :param startup_timeout: seconds to wait for all components to become healthy.
    :param reuse_migrated_db: copy a pre-migrated SQLite template (created with ``airflow db migrate`` once
        per Airflow version and cached under ``~/.cache``) instead of migrating from scratch each time.
    :param keep_home: keep a temporary ``AIRFLOW_HOME`` (logs, DB) after exit; by default it is kept only
        when the ``with`` block raised.
    :param inherit_airflow_env: pass ``AIRFLOW*`` variables of the calling process through to the
        components (off by default so a developer's shell config cannot leak into the tests).
    :param pycache_prefix: ``PYTHONPYCACHEPREFIX`` for the components (bytecode cache outside the
        virtualenv; ``PYTHONDONTWRITEBYTECODE`` is dropped for them).  Without a bytecode cache every
        Airflow process compiles Airflow from source, which doubles the start-up time.  ``"default"``
        means ``~/.cache/airflow-provider-smtrain/airflow-stack/pycache``; ``None`` leaves the
        environment alone.
    """

    def __init__(
        self,
        dags_folders: Sequence[str | os.PathLike[str]] = (),
        env: Mapping[str, str] | None = None,
        home: str | os.PathLike[str] | None = None,
        *,
        startup_timeout: float = 120.0,
        reuse_migrated_db: bool = True,
        keep_home: bool = False,
        inherit_airflow_env: bool = False,
        pycache_prefix: str | os.PathLike[str] | None = "default",
    ) -> None:
        self.dags_folders = [Path(p).resolve() for p in dags_folders]
        self.extra_env = dict(env or {})
        self._home_given = home is not None
        self.home = Path(home).resolve() if home is not None else None
        self.startup_timeout = startup_timeout
        self.reuse_migrated_db = reuse_migrated_db
        self.keep_home = keep_home
        self.inherit_airflow_env = inherit_airflow_env
        self.pycache_prefix = (
            default_cache_dir() / "pycache" if pycache_prefix == "default" else pycache_prefix
        )

        self.port: int = 0
        self.base_url: str = ""
        self.env: dict[str, str] = {}
        self.components: dict[str, Component] = {}
        self.timings: dict[str, float] = {}
        self._password = secrets.token_urlsafe(16)
        self._token: str | None = None
        self._client: httpx.Client | None = None
        self._lock = threading.RLock()
        self._started = False
        self._stopped = False

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> AirflowStack:
        self.start()
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self.stop(failed=exc_type is not None)

    @property
    def airflow_bin(self) -> list[str]:
        """The ``airflow`` entry point of the virtualenv of ``sys.executable``."""
        return airflow_command()

    def start(self) -> None:
        """Migrate the DB and start all components; wait until they are healthy."""
        with self._lock:
            if self._stopped:
                raise AirflowStackError("This AirflowStack was stopped; create a new one")
            if self._started:
                return
            self._started = True
            _LIVE_STACKS.add(self)
        t0 = time.monotonic()
        try:
            if self.home is None:
                self.home = Path(tempfile.mkdtemp(prefix="airflow-stack-"))
            self.home.mkdir(parents=True, exist_ok=True)
            (self.home / "logs").mkdir(exist_ok=True)
            self.port = free_port()
            self.base_url = f"http://127.0.0.1:{self.port}"
            self.env = component_env(
                home=self.home,
                port=self.port,
                base_url=self.base_url,
                dags_folders=self.dags_folders,
                extra_env=self.extra_env,
                inherit_airflow_env=self.inherit_airflow_env,
                pycache_prefix=self.pycache_prefix,
            )
            write_passwords_file(self.home, self._password)
            t = time.monotonic()
            prepare_db(self.airflow_bin, self.home, self.env, self.reuse_migrated_db)
            self.timings["db"] = time.monotonic() - t
            t = time.monotonic()
            for name in COMPONENTS:
                self._start_component(name)
            warmup = self._start_warmup(self.startup_timeout)
            self._wait_healthy(COMPONENTS, since=None, timeout=self.startup_timeout)
            warmup.join(timeout=self.startup_timeout)
            self.timings["components"] = time.monotonic() - t
            self._login()
            self.timings["startup"] = time.monotonic() - t0
        except BaseException:
            self.stop(failed=True)
            raise

    def stop(self, failed: bool = False, mode: str = "graceful") -> None:
        """
        Terminate all components (idempotent); remove a temporary ``AIRFLOW_HOME`` unless kept.

        :param failed: keep the temporary ``AIRFLOW_HOME`` for post-mortem inspection.
        :param mode: ``"graceful"`` (SIGTERM to each main process, SIGKILL after 20 s), ``"group"`` or
            ``"kill"`` -- see :meth:`restart`.
        """
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        try:
            if self._client is not None:
                self._client.close()
            # Scheduler, triggerer and dag-processor first (in parallel); the API server last, because
            # running tasks and the triggerer report their final states through it while shutting down.
            t0 = time.monotonic()

            def _stop(comp: Component) -> None:
                started = time.monotonic()
                # Airflow 3.3's triggerer notices that its trigger runner exited only after a fixed 10 s
                # escalation delay; at teardown the triggers are already cancelled by then, so do not wait.
                comp.stop(timeout=3 if comp.name == "triggerer" else 20, mode=mode)
                self.timings[f"stop:{comp.name}"] = time.monotonic() - started

            for phase in (["scheduler", "triggerer", "dag-processor"], ["api-server"]):
                comps = [self.components[n] for n in phase if n in self.components]
                threads = [threading.Thread(target=_stop, args=(comp,), daemon=True) for comp in comps]
                for th in threads:
                    th.start()
                for th in threads:
                    th.join(timeout=60)
            self.timings["stop"] = time.monotonic() - t0
        finally:
            _LIVE_STACKS.discard(self)
            if self.home is not None and not self._home_given and not self.keep_home:
                if failed:
                    sys.stderr.write(f"airflow_stack: kept AIRFLOW_HOME for inspection: {self.home}\n")
                else:
                    shutil.rmtree(self.home, ignore_errors=True)

    def restart(self, component: str, timeout: float = 90.0, mode: str = "graceful") -> None:
        """
        Stop and start one component, and wait until it is healthy again (a fresh job heartbeat).

        The component's log file is appended to, after a ``===== airflow_stack: restarting <name>`` line.

        :param component: one of ``api-server``, ``scheduler``, ``dag-processor``, ``triggerer``.
        :param timeout: seconds to wait for the restarted component to become healthy.
        :param mode: how to stop it: ``"graceful"`` (SIGTERM to the main process, as a deployment
            would; the triggerer then hands its triggers back at once), ``"group"`` (SIGTERM to all its
            processes) or ``"kill"`` (SIGKILL, a crash: e.g. a killed triggerer's triggers are only
            picked up again after ``[triggerer] triggerer_health_check_threshold`` = 15 s).
        """
        if component not in self.components:
            raise ValueError(f"Unknown component {component!r}; expected one of {COMPONENTS}")
        if mode not in ("graceful", "group", "kill"):
            raise ValueError(f"Unknown stop mode {mode!r}")
        self.components[component].stop(mode=mode)
        since = datetime.now(UTC)
        self._start_component(component)
        if component == "api-server":
            self._start_warmup(timeout).join(timeout=timeout)
        self._wait_healthy([component], since=since, timeout=timeout)
        if component == "api-server":
            self._login()

    # ------------------------------------------------------------------ components

    def _start_warmup(self, timeout: float) -> threading.Thread:
        """
        Warm up the Task Execution API in the background as soon as the API server listens.

        The API server builds the (Cadwyn-versioned) Task Execution API app lazily on the first request,
        which costs several seconds; without this warm-up the first task of the session pays for it.

        :param timeout: give up after this many seconds.
        """

        def _warm() -> None:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and not self._stopped:
                try:
                    if httpx.get(f"{self.base_url}/execution/health", timeout=timeout).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                time.sleep(0.25)

        thread = threading.Thread(target=_warm, name="airflow-stack-warmup", daemon=True)
        thread.start()
        return thread

    def _start_component(self, name: str) -> None:
        assert self.home is not None
        comp = self.components.get(name)
        if comp is None:
            comp = Component(
                name,
                [*self.airflow_bin, *component_argv(name, self.port)],
                self.env,
                self.home / "logs" / f"{name}.log",
                self.home,
            )
            self.components[name] = comp
        comp.start()

    def _check_alive(self, names: Iterable[str]) -> None:
        for name in names:
            comp = self.components.get(name)
            if comp is None or comp.proc is None:
                raise AirflowStackError(f"Component {name} is not running")
            rc = comp.poll()
            if rc is not None:
                raise AirflowStackError(
                    f"Airflow component {name} exited with code {rc}:\n{log_tail(comp.log_path, 120)}"
                )

    def _health(self) -> dict[str, Any] | None:
        try:
            resp = httpx.get(f"{self.base_url}/api/v2/monitor/health", timeout=5)
        except httpx.HTTPError:
            return None
        if resp.status_code != 200:
            return None
        result: dict[str, Any] = resp.json()
        return result

    def _wait_healthy(self, names: Iterable[str], since: datetime | None, timeout: float) -> None:
        names = list(names)
        deadline = time.monotonic() + timeout
        last: dict[str, Any] | None = None
        while True:
            self._check_alive(self.components)
            health = self._health()
            last = health or last
            if health is not None and all_healthy(health, names, since):
                return
            if time.monotonic() > deadline:
                raise AirflowStackError(
                    f"Airflow components {names} not healthy after {timeout:.0f}s; last health: {last}\n"
                    + self.component_logs(tail=60)
                )
            time.sleep(0.25)

    # ------------------------------------------------------------------ logs

    def component_log_path(self, component: str) -> Path:
        """
        Return the path of a component's log file (``AIRFLOW_HOME/logs/<component>.log``).

        :param component: component name, e.g. ``triggerer``.
        """
        assert self.home is not None
        return self.home / "logs" / f"{component}.log"

    def component_logs(self, tail: int = 200, components: Iterable[str] | None = None) -> str:
        """
        Return the last ``tail`` lines of each component's log, for failure messages.

        :param tail: number of lines per component.
        :param components: which components (all by default).
        """
        if self.home is None:
            return ""
        names = list(components) if components is not None else ["db-migrate", *COMPONENTS]
        parts = []
        for name in names:
            text = log_tail(self.component_log_path(name), tail)
            if text:
                parts.append(f"----- {name} (last {tail} lines) -----\n{text}")
        return "\n".join(parts)

    def triggerer_log(self) -> str:
        """Return the full triggerer component log (all restarts, separated by marker lines)."""
        path = self.component_log_path("triggerer")
        return path.read_text(errors="replace") if path.exists() else ""

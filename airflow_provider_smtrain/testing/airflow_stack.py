"""
A real, local Airflow 3 deployment for integration tests and demos.

:class:`AirflowStack` starts the same processes a production deployment runs -- ``airflow db migrate``
followed by ``api-server`` (the public REST API *and* the Task Execution API that workers talk to),
``scheduler`` (with the ``LocalExecutor``), ``dag-processor`` and ``triggerer`` -- as subprocesses of
the calling Python process, and drives them only through the public REST API, exactly like a user in
the UI would.  Nothing here imports Airflow in the calling process; the components run with the
``airflow`` entry point of the virtualenv of ``sys.executable`` (so they import this provider, which is
installed there, through its normal provider entry point).

Example::

    from airflow_provider_smtrain.testing.airflow_stack import AirflowStack

    with AirflowStack(dags_folders=["/path/to/dags"], env={"AIRFLOW_CONN_MY_AWS": "aws://..."}) as af:
        af.wait_for_dag("my_dag")
        run_id = af.trigger("my_dag", conf={"x": 1})
        assert af.wait_for_run("my_dag", run_id) == "success"
        print(af.xcom("my_dag", run_id, "my_task"))

Design notes:

* **Database**: SQLite (WAL journal, 60 s busy timeout) in the temporary ``AIRFLOW_HOME``.  In Airflow 3
  the ``LocalExecutor`` is supported on SQLite (``airflow standalone`` uses exactly this combination)
  because workers never touch the DB -- they use the Task Execution API of the API server.
  ``airflow db migrate`` runs once per Airflow version into a cached template DB which each stack copies
  (``reuse_migrated_db=False`` migrates every time); every component still verifies the schema heads on
  start-up (``[database] check_migrations``).
* **Auth**: the default ``SimpleAuthManager`` with one ``admin`` user whose password the harness
  writes to ``[core] simple_auth_manager_passwords_file``; the client gets a JWT from
  ``POST /auth/token`` (the supported login for API clients) and renews it on HTTP 401.
* **Network**: the API server listens on 127.0.0.1 on a free port; the worker and trigger log servers
  (which would bind all interfaces) are not started -- every component shares ``AIRFLOW_HOME/logs``,
  so the API server reads task and trigger logs from disk.
* **Speed**: short heartbeats / loop intervals, a 2 s DAG-folder refresh, a bytecode cache outside the
  virtualenv (``PYTHONPYCACHEPREFIX``) and a warm-up of the lazily built Task Execution API.
* **Teardown**: each component runs in its own process group; ``stop()`` sends one SIGTERM to each main
  process (scheduler, triggerer and dag-processor first, the API server last, since tasks report their
  final state through it), SIGKILLs process groups and remembered descendants that are left, and is
  idempotent.  It also runs from ``atexit``; and each component gets ``PR_SET_PDEATHSIG`` so it is
  terminated even when the test process is SIGKILLed.  (Linux delivers that signal when the *thread*
  that started the component exits: start and restart stacks from a long-lived thread, e.g. the main one.)
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import ctypes
import hashlib
import importlib.metadata
import json
import os
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import httpx

__all__ = [
    "COMPONENTS",
    "AirflowStack",
    "AirflowStackError",
    "AirflowStackPool",
]

#: The long-running Airflow components, in start order.
COMPONENTS: tuple[str, ...] = ("api-server", "scheduler", "dag-processor", "triggerer")

#: Component name -> key in the ``/api/v2/monitor/health`` response (``None``: HTTP readiness only).
_HEALTH_KEYS: dict[str, str | None] = {
    "api-server": None,
    "scheduler": "scheduler",
    "dag-processor": "dag_processor",
    "triggerer": "triggerer",
}

#: TI states after which a task instance will not change state on its own.
_TERMINAL_TI_STATES = frozenset({"success", "failed", "skipped", "upstream_failed", "removed"})
_TERMINAL_RUN_STATES = frozenset({"success", "failed"})

_ADMIN_USER = "admin"
_PR_SET_PDEATHSIG = 1

# Every live stack, so an interpreter exit without ``__exit__`` still cleans up the children.
_LIVE_STACKS: set[AirflowStack] = set()


class AirflowStackError(RuntimeError):
    """Raised when the stack fails to start, or a wait times out; the message carries log tails."""


def _stop_live_stacks() -> None:
    for stack in list(_LIVE_STACKS):
        with contextlib.suppress(Exception):
            stack.stop()


atexit.register(_stop_live_stacks)


def _free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _set_pdeathsig() -> None:
    """
    ``preexec_fn`` for the component processes: SIGTERM them when the test process dies.

    This is a safety net for the case where the test process is killed hard (``SIGKILL``, OOM, CI
    timeout) and neither ``__exit__`` nor ``atexit`` run.  It is a no-op where ``prctl`` is unavailable.
    """
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def _tail(path: Path, lines: int) -> str:
    """
    Return the last ``lines`` lines of a text file (empty string when it does not exist).

    :param path: file to read.
    :param lines: number of lines to return.
    """
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 512 * 1024))
            data = fh.read()
    except FileNotFoundError:
        return ""
    return "\n".join(data.decode("utf-8", "replace").splitlines()[-lines:])


def _parse_ts(value: str | None) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "airflow-provider-smtrain" / "airflow-stack"


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


class _Component:
    """One Airflow CLI process running in its own process group, with output in a log file."""

    def __init__(self, name: str, argv: list[str], env: Mapping[str, str], log_path: Path, cwd: Path):
        self.name = name
        self.argv = argv
        self.env = dict(env)
        self.log_path = log_path
        self.cwd = cwd
        self.proc: subprocess.Popen[bytes] | None = None
        self._log_fh: IO[bytes] | None = None
        self.started_at: datetime | None = None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def start(self) -> None:
        """Start the process (appending to its log file, with a marker line on restarts)."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log_fh = self.log_path.open("ab")
        if self._log_fh.tell():
            marker = f"\n===== airflow_stack: restarting {self.name} at {datetime.now(UTC)} =====\n"
            self._log_fh.write(marker.encode())
            self._log_fh.flush()
        self.started_at = datetime.now(UTC)
        self.proc = subprocess.Popen(
            self.argv,
            env=self.env,
            cwd=str(self.cwd),
            stdin=subprocess.DEVNULL,
            stdout=self._log_fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own process group -> killpg() reaches the whole tree
            preexec_fn=_set_pdeathsig if sys.platform.startswith("linux") else None,
        )

    def poll(self) -> int | None:
        """Return the exit code when the process has exited, else ``None``."""
        return self.proc.poll() if self.proc else None

    def _descendants(self) -> list[Any]:
        try:
            import psutil

            return list(psutil.Process(self.proc.pid).children(recursive=True)) if self.proc else []
        except Exception:
            return []

    def signal_group(self, sig: int) -> None:
        """
        Send ``sig`` to the component's process group.

        :param sig: signal number.
        """
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, sig)

    def stop(self, timeout: float = 20.0, mode: str = "graceful") -> None:
        """
        Stop the process tree, SIGKILLing whatever is left after ``timeout``.

        :param timeout: seconds to wait for the main process to exit before SIGKILL.
        :param mode: ``"graceful"``: one SIGTERM to the main process only, like a process supervisor
            (systemd ``KillMode=mixed``, Kubernetes) does -- the component shuts its own children down;
            ``"group"``: SIGTERM to every process of the group at once (faster teardown, e.g. the
            triggerer's trigger runner exits immediately instead of after its 10 s escalation delay);
            ``"kill"``: SIGKILL the whole group (simulates a crash / OOM kill).
        """
        if self.proc is None:
            return
        # Remember the whole tree first: children that moved to another session would not get killpg().
        descendants = self._descendants()
        if mode == "kill":
            self.signal_group(signal.SIGKILL)
        elif mode == "group":
            self.signal_group(signal.SIGTERM)
        else:
            # Exactly one SIGTERM: a second one makes e.g. the triggerer force-exit without cleanup.
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.signal_group(signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=10)
        # Leftovers of the group (e.g. task processes) and escaped descendants.
        self.signal_group(signal.SIGKILL)
        try:
            import psutil

            alive = [c for c in descendants if c.is_running()]
            for child in alive:
                with contextlib.suppress(Exception):
                    child.kill()
            psutil.wait_procs(alive, timeout=5)
        except Exception:
            pass
        if self._log_fh is not None:
            self._log_fh.close()
            self._log_fh = None
        self.proc = None


class AirflowStack:
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
            _default_cache_dir() / "pycache" if pycache_prefix == "default" else pycache_prefix
        )

        self.port: int = 0
        self.base_url: str = ""
        self.env: dict[str, str] = {}
        self.components: dict[str, _Component] = {}
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
        candidate = Path(sys.executable).parent / "airflow"
        if candidate.exists():
            return [str(candidate)]
        return [sys.executable, "-m", "airflow"]

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
            self.port = _free_port()
            self.base_url = f"http://127.0.0.1:{self.port}"
            self.env = self._build_env()
            (self.home / "simple_auth_manager_passwords.json").write_text(
                json.dumps({_ADMIN_USER: self._password})
            )
            t = time.monotonic()
            self._prepare_db()
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

            def _stop(comp: _Component) -> None:
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

    # ------------------------------------------------------------------ setup internals

    def _build_env(self) -> dict[str, str]:
        assert self.home is not None
        home = self.home
        env = {
            k: v
            for k, v in os.environ.items()
            if self.inherit_airflow_env or not (k.startswith("AIRFLOW") or k.startswith("_AIRFLOW"))
        }
        venv_bin = str(Path(sys.executable).parent)
        env["PATH"] = venv_bin + os.pathsep + env.get("PATH", "")
        env["PYTHONUNBUFFERED"] = "1"
        if self.pycache_prefix is not None:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = str(self.pycache_prefix)
        dags = self.dags_folders or [home / "dags"]
        for folder in dags:
            folder.mkdir(parents=True, exist_ok=True)
        bundles = [
            {
                "name": f"dags-{i}-{folder.name}",
                "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
                "kwargs": {"path": str(folder), "refresh_interval": 2},
            }
            for i, folder in enumerate(dags)
        ]
        url = self.base_url
        config = {
            # --- core
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags[0]),
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__CORE__PARALLELISM": "8",
            "AIRFLOW__CORE__FERNET_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{url}/execution/",
            "AIRFLOW__CORE__AUTH_MANAGER": (
                "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
            ),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{_ADMIN_USER}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(
                home / "simple_auth_manager_passwords.json"
            ),
            "AIRFLOW__CORE__MIN_SERIALIZED_DAG_UPDATE_INTERVAL": "1",
            # --- database: SQLite, wait (not fail) on a busy DB
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}?timeout=60",
            # --- API server (public REST API + Task Execution API)
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(self.port),
            "AIRFLOW__API__BASE_URL": url,
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(64),
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(64),  # >= 64 bytes: no HMAC warnings
            # --- scheduler
            "AIRFLOW__SCHEDULER__JOB_HEARTBEAT_SEC": "1",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
            "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.2",
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "30",
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
            "AIRFLOW__SCHEDULER__TRIGGER_TIMEOUT_CHECK_INTERVAL": "5",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_THRESHOLD": "15",
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
            # --- dag processor: notice new files fast, do not re-parse unchanged files all the time
            "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": json.dumps(bundles),
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "2",
            "AIRFLOW__DAG_PROCESSOR__BUNDLE_REFRESH_CHECK_INTERVAL": "1",
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "60",
            "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "2",
            "AIRFLOW__DAG_PROCESSOR__PRINT_STATS_INTERVAL": "600",
            "AIRFLOW__DAG_PROCESSOR__HEALTH_CHECK_THRESHOLD": "15",
            # --- triggerer
            "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "1",
            "AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD": "15",
            # --- logging: everything under AIRFLOW_HOME/logs, no log servers (ports point nowhere)
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
            "AIRFLOW__LOGGING__COLORED_CONSOLE_LOG": "False",
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(_free_port()),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(_free_port()),
        }
        env.update(config)
        env.update(self.extra_env)
        return env

    def _run_cli(self, args: list[str], log_name: str, env: Mapping[str, str] | None = None) -> None:
        assert self.home is not None
        log_path = self.home / "logs" / f"{log_name}.log"
        with log_path.open("ab") as fh:
            result = subprocess.run(
                [*self.airflow_bin, *args],
                env=dict(env or self.env),
                cwd=str(self.home),
                stdin=subprocess.DEVNULL,
                stdout=fh,
                stderr=subprocess.STDOUT,
                timeout=600,
                start_new_session=True,
                check=False,
            )
        if result.returncode != 0:
            raise AirflowStackError(
                f"`airflow {' '.join(args)}` failed with exit code {result.returncode}:\n{_tail(log_path, 80)}"
            )

    def _prepare_db(self) -> None:
        """Create the metadata DB: ``airflow db migrate`` (or a copy of a cached migrated template)."""
        assert self.home is not None
        db_path = self.home / "airflow.db"
        if db_path.exists() or not self.reuse_migrated_db:
            self._run_cli(["db", "migrate"], "db-migrate")
        else:
            db_path_template = self._migrated_template()
            shutil.copyfile(db_path_template, db_path)
        # WAL lets readers (API server, dag-processor) proceed while the scheduler writes.
        with contextlib.closing(sqlite3.connect(db_path, timeout=60)) as con:
            con.execute("PRAGMA journal_mode=WAL")

    def _migrated_template(self) -> Path:
        """Return a cached SQLite DB migrated by ``airflow db migrate`` for this Airflow version."""
        versions = []
        for dist in ("apache-airflow-core", "apache-airflow"):
            with contextlib.suppress(importlib.metadata.PackageNotFoundError):
                versions.append(f"{dist}=={importlib.metadata.version(dist)}")
        key = hashlib.sha256((sys.executable + "|" + "|".join(versions)).encode()).hexdigest()[:16]
        cache_dir = _default_cache_dir()
        template = cache_dir / f"airflow-{key}.db"
        if template.exists():
            return template
        cache_dir.mkdir(parents=True, exist_ok=True)
        assert self.home is not None
        work = Path(tempfile.mkdtemp(prefix="migrate-", dir=cache_dir))
        try:
            env = dict(self.env)
            env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{work / 'airflow.db'}"
            self._run_cli(["db", "migrate"], "db-migrate", env=env)
            os.replace(work / "airflow.db", template)  # atomic: concurrent sessions never see a partial DB
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return template

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

    def _component_argv(self, name: str) -> list[str]:
        if name == "api-server":
            return ["api-server", "--host", "127.0.0.1", "--port", str(self.port)]
        if name in ("scheduler", "triggerer"):
            return [name, "--skip-serve-logs"]
        return [name]

    def _start_component(self, name: str) -> None:
        assert self.home is not None
        comp = self.components.get(name)
        if comp is None:
            comp = _Component(
                name,
                [*self.airflow_bin, *self._component_argv(name)],
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
                    f"Airflow component {name} exited with code {rc}:\n{_tail(comp.log_path, 120)}"
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
            if health is not None and self._all_healthy(health, names, since):
                return
            if time.monotonic() > deadline:
                raise AirflowStackError(
                    f"Airflow components {names} not healthy after {timeout:.0f}s; last health: {last}\n"
                    + self.component_logs(tail=60)
                )
            time.sleep(0.25)

    @staticmethod
    def _all_healthy(health: Mapping[str, Any], names: Iterable[str], since: datetime | None) -> bool:
        if (health.get("metadatabase") or {}).get("status") != "healthy":
            return False
        for name in names:
            key = _HEALTH_KEYS[name]
            if key is None:
                continue
            info = health.get(key) or {}
            if info.get("status") != "healthy":
                return False
            if since is not None:
                beat = _parse_ts(info.get(f"latest_{key}_heartbeat"))
                if beat is None or beat <= since:
                    return False
        return True

    # ------------------------------------------------------------------ REST client

    def _login(self) -> None:
        """Get a JWT for the admin user from the SimpleAuthManager (``POST /auth/token``)."""
        resp = httpx.post(
            f"{self.base_url}/auth/token",
            json={"username": _ADMIN_USER, "password": self._password},
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

    # ------------------------------------------------------------------ task instances

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
            text = _tail(self.component_log_path(name), tail)
            if text:
                parts.append(f"----- {name} (last {tail} lines) -----\n{text}")
        return "\n".join(parts)

    def triggerer_log(self) -> str:
        """Return the full triggerer component log (all restarts, separated by marker lines)."""
        path = self.component_log_path("triggerer")
        return path.read_text(errors="replace") if path.exists() else ""


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

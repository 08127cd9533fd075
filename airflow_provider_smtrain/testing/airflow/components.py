"""
Process supervision for the Airflow components: one process group each, ``PR_SET_PDEATHSIG``, health.

Each component (``api-server``, ``scheduler``, ``dag-processor``, ``triggerer``) is an ``airflow`` CLI
process in its own process group with its output in a log file. :meth:`Component.stop` reaches the
whole process tree (the group, then remembered descendants that left it); ``PR_SET_PDEATHSIG`` makes
Linux SIGTERM a component when the thread that started it exits, so nothing outlives a SIGKILLed test
process.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

__all__ = ["COMPONENTS", "Component", "all_healthy", "component_argv", "free_port", "log_tail"]

#: The long-running Airflow components, in start order.
COMPONENTS: tuple[str, ...] = ("api-server", "scheduler", "dag-processor", "triggerer")

#: Component name -> key in the ``/api/v2/monitor/health`` response (``None``: HTTP readiness only).
_HEALTH_KEYS: dict[str, str | None] = {
    "api-server": None,
    "scheduler": "scheduler",
    "dag-processor": "dag_processor",
    "triggerer": "triggerer",
}

_PR_SET_PDEATHSIG = 1


def component_argv(name: str, port: int) -> list[str]:
    """
    Return the ``airflow`` CLI arguments of a component (no log servers; the API server on 127.0.0.1).

    :param name: one of :data:`COMPONENTS`.
    :param port: the API server's port.
    """
    if name == "api-server":
        return ["api-server", "--host", "127.0.0.1", "--port", str(port)]
    if name in ("scheduler", "triggerer"):
        return [name, "--skip-serve-logs"]
    return [name]


def free_port() -> int:
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


def log_tail(path: Path, lines: int) -> str:
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


def all_healthy(health: Mapping[str, Any], names: Iterable[str], since: datetime | None) -> bool:
    """
    Tell whether the metadata DB and the named components are healthy in a health response.

    :param health: the JSON of ``GET /api/v2/monitor/health``.
    :param names: component names, e.g. ``COMPONENTS``.
    :param since: when given, each component's latest heartbeat must be later than this.
    """
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


class Component:
    """
    One Airflow CLI process running in its own process group, with output in a log file.

    :param name: component name, e.g. ``triggerer``.
    :param argv: the full command line.
    :param env: the process environment.
    :param log_path: file the output is appended to.
    :param cwd: working directory.
    """

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
        """The main process id, or ``None`` when the component is not running."""
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

"""
What the Airflow components run with: environment and configuration, metadata DB, admin login.

* **Configuration**: ``AIRFLOW__*`` variables only (no ``airflow.cfg``): LocalExecutor, SQLite, the
  API server on 127.0.0.1, short heartbeats and loop intervals, one ``LocalDagBundle`` per DAG folder,
  no worker/trigger log servers.
* **Database**: SQLite (WAL journal, 60 s busy timeout); ``airflow db migrate`` runs once per Airflow
  version into a cached template DB which each stack copies.
* **Auth**: the ``SimpleAuthManager`` with one :data:`ADMIN_USER` whose password is written to
  ``[core] simple_auth_manager_passwords_file``.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import importlib.metadata
import json
import os
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from airflow_provider_smtrain.testing.airflow.components import free_port, log_tail
from airflow_provider_smtrain.testing.airflow.errors import AirflowStackError

__all__ = [
    "ADMIN_USER",
    "airflow_command",
    "component_env",
    "default_cache_dir",
    "prepare_db",
    "run_cli",
    "write_passwords_file",
]

#: The one user of the ``SimpleAuthManager`` (role ``admin``).
ADMIN_USER = "admin"
_PASSWORDS_FILE = "simple_auth_manager_passwords.json"


def default_cache_dir() -> Path:
    """Return the cache folder of the harness (migrated DB templates, bytecode)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "airflow-provider-smtrain" / "airflow-stack"


def airflow_command() -> list[str]:
    """Return the ``airflow`` entry point of the virtualenv of ``sys.executable``."""
    candidate = Path(sys.executable).parent / "airflow"
    if candidate.exists():
        return [str(candidate)]
    return [sys.executable, "-m", "airflow"]


def write_passwords_file(home: Path, password: str) -> None:
    """
    Write the ``SimpleAuthManager`` passwords file with the admin user's password.

    :param home: the ``AIRFLOW_HOME``.
    :param password: the admin user's password.
    """
    (home / _PASSWORDS_FILE).write_text(json.dumps({ADMIN_USER: password}))


def component_env(
    *,
    home: Path,
    port: int,
    base_url: str,
    dags_folders: Sequence[Path],
    extra_env: Mapping[str, str],
    inherit_airflow_env: bool,
    pycache_prefix: str | os.PathLike[str] | None,
) -> dict[str, str]:
    """
    Return the environment of every component: the caller's, minus ``AIRFLOW*``, plus the configuration.

    Creates the DAG folders that do not exist yet.

    :param home: the ``AIRFLOW_HOME``.
    :param port: the API server's port on 127.0.0.1.
    :param base_url: the API server's URL.
    :param dags_folders: folders with DAG files, one ``LocalDagBundle`` each (``home/dags`` when empty).
    :param extra_env: applied last, so it can override any of the defaults.
    :param inherit_airflow_env: keep the caller's ``AIRFLOW*`` variables.
    :param pycache_prefix: ``PYTHONPYCACHEPREFIX`` (``PYTHONDONTWRITEBYTECODE`` is then dropped);
        ``None`` leaves the environment alone.
    """
    env = {
        k: v
        for k, v in os.environ.items()
        if inherit_airflow_env or not (k.startswith("AIRFLOW") or k.startswith("_AIRFLOW"))
    }
    venv_bin = str(Path(sys.executable).parent)
    env["PATH"] = venv_bin + os.pathsep + env.get("PATH", "")
    env["PYTHONUNBUFFERED"] = "1"
    if pycache_prefix is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(pycache_prefix)
    dags = list(dags_folders) or [home / "dags"]
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
    url = base_url
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
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / _PASSWORDS_FILE),
        "AIRFLOW__CORE__MIN_SERIALIZED_DAG_UPDATE_INTERVAL": "1",
        # --- database: SQLite, wait (not fail) on a busy DB
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}?timeout=60",
        # --- API server (public REST API + Task Execution API)
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
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
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
    }
    env.update(config)
    env.update(extra_env)
    return env


def run_cli(
    airflow_bin: Sequence[str], args: list[str], home: Path, env: Mapping[str, str], log_name: str
) -> None:
    """
    Run one ``airflow`` CLI command to completion, its output appended to ``home/logs/<log_name>.log``.

    :param airflow_bin: the ``airflow`` command (see :func:`airflow_command`).
    :param args: the CLI arguments, e.g. ``["db", "migrate"]``.
    :param home: the ``AIRFLOW_HOME`` (also the working directory).
    :param env: the process environment.
    :param log_name: name of the log file.
    :raises AirflowStackError: when the command fails; the message carries the log tail.
    """
    log_path = home / "logs" / f"{log_name}.log"
    with log_path.open("ab") as fh:
        result = subprocess.run(
            [*airflow_bin, *args],
            env=dict(env),
            cwd=str(home),
            stdin=subprocess.DEVNULL,
            stdout=fh,
            stderr=subprocess.STDOUT,
            timeout=600,
            start_new_session=True,
            check=False,
        )
    if result.returncode != 0:
        raise AirflowStackError(
            f"`airflow {' '.join(args)}` failed with exit code {result.returncode}:\n{log_tail(log_path, 80)}"
        )


def prepare_db(
    airflow_bin: Sequence[str], home: Path, env: Mapping[str, str], reuse_migrated_db: bool
) -> None:
    """
    Create the metadata DB: ``airflow db migrate`` (or a copy of a cached migrated template).

    :param airflow_bin: the ``airflow`` command.
    :param home: the ``AIRFLOW_HOME``; the DB is ``home/airflow.db``.
    :param env: the components' environment.
    :param reuse_migrated_db: copy the cached template instead of migrating (an existing DB is migrated).
    """
    db_path = home / "airflow.db"
    if db_path.exists() or not reuse_migrated_db:
        run_cli(airflow_bin, ["db", "migrate"], home, env, "db-migrate")
    else:
        db_path_template = _migrated_template(airflow_bin, home, env)
        shutil.copyfile(db_path_template, db_path)
    # WAL lets readers (API server, dag-processor) proceed while the scheduler writes.
    with contextlib.closing(sqlite3.connect(db_path, timeout=60)) as con:
        con.execute("PRAGMA journal_mode=WAL")


def _migrated_template(airflow_bin: Sequence[str], home: Path, env: Mapping[str, str]) -> Path:
    """
    Return a cached SQLite DB migrated by ``airflow db migrate`` for this Airflow version.

    :param airflow_bin: the ``airflow`` command.
    :param home: the ``AIRFLOW_HOME`` (for the migration's log).
    :param env: the components' environment (its DB URL is replaced).
    """
    versions = []
    for dist in ("apache-airflow-core", "apache-airflow"):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            versions.append(f"{dist}=={importlib.metadata.version(dist)}")
    key = hashlib.sha256((sys.executable + "|" + "|".join(versions)).encode()).hexdigest()[:16]
    cache_dir = default_cache_dir()
    template = cache_dir / f"airflow-{key}.db"
    if template.exists():
        return template
    cache_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="migrate-", dir=cache_dir))
    try:
        migrate_env = dict(env)
        migrate_env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{work / 'airflow.db'}"
        run_cli(airflow_bin, ["db", "migrate"], home, migrate_env, "db-migrate")
        os.replace(work / "airflow.db", template)  # atomic: concurrent sessions never see a partial DB
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return template

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

    from airflow_provider_smtrain.testing.airflow import AirflowStack

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

Modules: :mod:`.stack` (the lifecycle), :mod:`.components` (processes, ``PR_SET_PDEATHSIG``, health),
:mod:`.environment` (environment and configuration, DB template, auth), :mod:`.api_client` and
:mod:`.task_instances` (the REST client), :mod:`.pool` (one stack per pytest session), :mod:`.errors`.
"""

from __future__ import annotations

from airflow_provider_smtrain.testing.airflow.components import COMPONENTS
from airflow_provider_smtrain.testing.airflow.errors import AirflowStackError
from airflow_provider_smtrain.testing.airflow.pool import AirflowStackPool
from airflow_provider_smtrain.testing.airflow.stack import AirflowStack

__all__ = [
    "COMPONENTS",
    "AirflowStack",
    "AirflowStackError",
    "AirflowStackPool",
]

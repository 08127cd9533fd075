"""
Integration tests of the real-Airflow harness (:mod:`airflow_provider_smtrain.testing.airflow`).

These run DAGs from ``dags_stack/`` through a real Airflow 3 deployment: metadata DB, scheduler with
the LocalExecutor, dag-processor, triggerer and API server (Task Execution API) as separate processes.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from airflow_provider_smtrain.testing.airflow import AirflowStack

pytestmark = pytest.mark.integration

DAGS = Path(__file__).parent / "dags_stack"


ENV = {"AIRFLOW_CONN_STACK_TEST": "http://someone:secret@stack-test.invalid:8080"}


@pytest.fixture(scope="module")
def af(airflow_stack_factory) -> AirflowStack:
    return airflow_stack_factory(dags_folders=[DAGS], env=ENV)


def test_trivial_dag_runs_and_xcom_is_readable(af: AirflowStack) -> None:
    af.wait_for_dag("stack_trivial")
    started = time.monotonic()
    run_id = af.trigger("stack_trivial", conf={"who": "harness"})

    assert af.wait_for_run("stack_trivial", run_id, timeout=60) == "success"
    elapsed = time.monotonic() - started

    ti = af.ti("stack_trivial", run_id, "answer")
    assert ti["state"] == "success"
    assert ti["try_number"] == 1
    assert af.xcom("stack_trivial", run_id, "answer") == {
        "answer": 42,
        "conf": {"who": "harness"},
        "items": [1, "two", None],
        "conn": ["http", "stack-test.invalid", 8080, "someone"],
    }
    assert "stack_trivial says hello from the worker" in af.task_log("stack_trivial", run_id, "answer")
    assert elapsed < 30, f"trivial DAG run took {elapsed:.1f}s"


def test_deferrable_sensor_defers_to_the_triggerer(af: AirflowStack) -> None:
    af.wait_for_dag("stack_deferrable")
    run_id = af.trigger("stack_deferrable")

    deferred = af.wait_for_ti("stack_deferrable", run_id, "wait", states={"deferred"}, timeout=60)
    assert deferred["trigger"] is not None, deferred

    assert af.wait_for_run("stack_deferrable", run_id, timeout=90) == "success"
    wait_ti = af.ti("stack_deferrable", run_id, "wait")
    assert wait_ti["state"] == "success"
    assert af.ti("stack_deferrable", run_id, "after")["state"] == "success"
    assert af.xcom("stack_deferrable", run_id, "after") == "after-wait"

    # The trigger ran in the triggerer process: the triggerer writes the trigger part of the task log
    # (``<attempt>.log.trigger.<triggerer job id>.log``), and the UI/REST task log shows it.
    trigger_id = deferred["trigger"]["id"]
    trigger_logs = af.trigger_logs("stack_deferrable", run_id, "wait")
    assert len(trigger_logs) == 1, trigger_logs
    (trigger_log,) = trigger_logs.values()
    assert f"(ID {trigger_id}) starting" in trigger_log
    assert "Trigger fired event" in trigger_log
    task_log = af.task_log("stack_deferrable", run_id, "wait")
    assert "Pausing task as DEFERRED" in task_log
    assert "Trigger fired event" in task_log
    assert "Starting the triggerer" in af.triggerer_log()


def test_marking_a_deferred_task_failed(af: AirflowStack) -> None:
    af.wait_for_dag("stack_defer_long")
    run_id = af.trigger("stack_defer_long")
    af.wait_for_ti("stack_defer_long", run_id, "wait", states={"deferred"}, timeout=60)

    updated = af.mark_ti("stack_defer_long", run_id, "wait", state="failed")
    assert [ti["state"] for ti in updated] == ["failed"]

    assert af.ti("stack_defer_long", run_id, "wait")["state"] == "failed"
    assert af.wait_for_run("stack_defer_long", run_id, timeout=60) == "failed"
    # It stays failed: the (cancelled) trigger must not resurrect it.
    time.sleep(3)
    final = af.ti("stack_defer_long", run_id, "wait")
    assert final["state"] == "failed"
    assert final["try_number"] == 1


def test_task_state_store_persists_across_tries(af: AirflowStack) -> None:
    af.wait_for_dag("stack_state_store")
    run_id = af.trigger("stack_state_store")

    assert af.wait_for_run("stack_state_store", run_id, timeout=120) == "success"
    ti = af.ti("stack_state_store", run_id, "remember")
    assert ti["state"] == "success"
    assert ti["try_number"] == 2
    assert af.xcom("stack_state_store", run_id, "remember") == {"k": "v", "try_number": 2}
    assert af.task_state_store("stack_state_store", run_id, "remember") == {"k": "v", "seen_tries": [1, 2]}
    assert "failing try 1 on purpose" in af.task_log("stack_state_store", run_id, "remember", try_number=1)
    assert "read k='v'" in af.task_log("stack_state_store", run_id, "remember", try_number=2)


def test_deferred_task_survives_a_triggerer_restart(af: AirflowStack) -> None:
    af.wait_for_dag("stack_defer_resume")
    run_id = af.trigger("stack_defer_resume")
    af.wait_for_ti("stack_defer_resume", run_id, "defer", states={"deferred"}, timeout=60)
    # Let the current triggerer pick the trigger up before restarting it.
    deadline = time.monotonic() + 30
    while not af.trigger_logs("stack_defer_resume", run_id, "defer") and time.monotonic() < deadline:
        time.sleep(0.25)

    af.restart("triggerer")

    during = af.ti("stack_defer_resume", run_id, "defer")
    assert during["state"] == "deferred", "the 30 s deferral should outlast the triggerer restart"

    assert af.wait_for_run("stack_defer_resume", run_id, timeout=120) == "success"
    after = af.ti("stack_defer_resume", run_id, "defer")
    assert after["state"] == "success"
    assert after["try_number"] == 1
    assert af.xcom("stack_defer_resume", run_id, "defer") == {"resumed": True, "try_number": 1}

    # Two triggerer processes (jobs) ran the trigger: the old one until the restart, the new one after it
    # -- and only the new one fired the event.
    trigger_logs = af.trigger_logs("stack_defer_resume", run_id, "defer")
    assert len(trigger_logs) == 2, trigger_logs.keys()
    old_job, new_job = sorted(trigger_logs)
    assert "starting" in trigger_logs[old_job] and "Trigger fired event" not in trigger_logs[old_job]
    assert "starting" in trigger_logs[new_job] and "Trigger fired event" in trigger_logs[new_job]
    assert "airflow_stack: restarting triggerer" in af.triggerer_log()
    assert "Resumed after trigger event" in af.task_log("stack_defer_resume", run_id, "defer")


def test_clearing_a_task_runs_it_again(af: AirflowStack) -> None:
    af.wait_for_dag("stack_trivial")
    run_id = af.trigger("stack_trivial")
    assert af.wait_for_run("stack_trivial", run_id, timeout=60) == "success"

    cleared = af.clear_ti("stack_trivial", run_id, "answer")
    assert [ti["task_id"] for ti in cleared] == ["answer"]

    assert af.wait_for_run("stack_trivial", run_id, timeout=60) == "success"
    ti = af.ti("stack_trivial", run_id, "answer")
    assert (ti["state"], ti["try_number"]) == ("success", 2)
    assert "stack_trivial says hello" in af.task_log("stack_trivial", run_id, "answer", try_number=2)

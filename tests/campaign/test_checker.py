"""The checker catches what it must: a checker that cannot fail proves nothing.

Each test builds the evidence of a synthetic scenario (request log, final jobs, samples, Airflow's
notes) that breaks one invariant, and expects the checker to report exactly that.
"""

from __future__ import annotations

from typing import Any

from tests.campaign.checker import Evidence, Verdict, check
from tests.campaign.driver import Note, TaskRecord

PROD, STAGING = "AKIAPROD", "AKIASTAGING"
JOB1, JOB2 = "c1tr0001-0123456789-1", "c1tr0001-0123456789-2"


def request(operation: str, name: str, wall: float, key: str = PROD, **extra: Any) -> dict[str, Any]:
    return {
        "operation": operation,
        "name": name,
        "time": wall,
        "access_key_id": key,
        "status_code": 200,
        "fault": None,
        "service": "sagemaker",
        **extra,
    }


def task(
    state: str = "success",
    key: str = PROD,
    results: list[tuple[int, str]] | None = None,
    notes: list[Note] | None = None,
    deployment: str = "prod",
) -> TaskRecord:
    record = TaskRecord(deployment=deployment, access_key=key, state=state)
    record.notes = notes if notes is not None else [Note("try", 10.0, 10.0, 1, 1)]
    record.results = results if results is not None else ([(1, JOB1)] if state == "success" else [])
    return record


def judge(
    records: list[TaskRecord] | None = None,
    requests: list[dict[str, Any]] | None = None,
    jobs: dict[str, str] | None = None,
    samples: list[tuple[float, frozenset[str]]] | None = None,
    **options: Any,
) -> Verdict:
    return check(
        Evidence(
            prefix="c1tr0001",
            kind="training",
            records=records or [task()],
            requests=requests if requests is not None else [request("CreateTrainingJob", JOB1, 11.0)],
            jobs={"training": [{"name": n, "status": s} for n, s in (jobs or {JOB1: "Completed"}).items()]},
            samples=samples if samples is not None else [(0.0, frozenset({JOB1})), (600.0, frozenset())],
            virtual_at=lambda wall: wall,
            **options,
        )
    )


def test_a_clean_scenario_is_clean() -> None:
    verdict = judge()
    assert verdict.clean, verdict


def test_two_jobs_running_at_once_are_a_duplicate() -> None:
    verdict = judge(
        requests=[request("CreateTrainingJob", JOB1, 11.0), request("CreateTrainingJob", JOB2, 12.0)],
        jobs={JOB1: "Completed", JOB2: "Stopped"},
        samples=[(0.0, frozenset({JOB1})), (30.0, frozenset({JOB1, JOB2})), (60.0, frozenset({JOB1}))],
    )
    assert len(verdict.duplicates) == 1 and "2 jobs running at once" in verdict.duplicates[0]


def test_two_jobs_completed_in_one_epoch_are_a_duplicate() -> None:
    verdict = judge(
        requests=[request("CreateTrainingJob", JOB1, 11.0), request("CreateTrainingJob", JOB2, 12.0)],
        jobs={JOB1: "Completed", JOB2: "Completed"},
        samples=[],
    )
    assert any("completed in clear epoch 1" in d for d in verdict.duplicates), verdict


def test_jobs_completed_in_two_clear_epochs_are_not_a_duplicate() -> None:
    notes = [Note("try", 10.0, 10.0, 1, 1), Note("clear", 20.0, 20.0, 1, 1), Note("try", 21.0, 21.0, 2, 2)]
    verdict = judge(
        records=[task(notes=notes, results=[(1, JOB1), (2, JOB2)])],
        requests=[request("CreateTrainingJob", JOB1, 11.0), request("CreateTrainingJob", JOB2, 22.0)],
        jobs={JOB1: "Completed", JOB2: "Completed"},
        samples=[],
    )
    assert verdict.clean, verdict


def test_a_job_no_create_request_made_is_a_duplicate() -> None:
    verdict = judge(jobs={JOB1: "Completed", JOB2: "InProgress"})
    assert any(JOB2 in d and "no Create request" in d for d in verdict.duplicates)


def test_a_job_left_running_after_the_task_failed_is_an_orphan() -> None:
    verdict = judge(records=[task(state="failed")], jobs={JOB1: "InProgress"}, expected_failure=True)
    assert len(verdict.orphans) == 1 and verdict.expected_failures == 1 and not verdict.failed_tasks


def test_with_stop_job_on_kill_false_a_failed_task_may_leave_its_job_running() -> None:
    verdict = judge(
        records=[task(state="failed")],
        jobs={JOB1: "InProgress"},
        expected_failure=True,
        stop_job_on_kill=False,
    )
    assert not verdict.orphans


def test_a_tuning_child_running_after_its_parent_ended_is_an_orphan() -> None:
    name = "c1tu0001-0123456789-1"
    verdict = check(
        Evidence(
            prefix="c1tu0001",
            kind="tuning",
            records=[task(results=[(1, name)])],
            requests=[request("CreateHyperParameterTuningJob", name, 11.0)],
            jobs={
                "tuning": [{"name": name, "status": "Completed"}],
                "training": [{"name": f"{name}-001-abc", "status": "InProgress", "tuning_job": name}],
            },
            samples=[],
            virtual_at=lambda wall: wall,
        )
    )
    assert len(verdict.orphans) == 1 and "child" in verdict.orphans[0]


def test_a_stop_nobody_asked_for_is_wrongful() -> None:
    verdict = judge(
        requests=[request("CreateTrainingJob", JOB1, 11.0), request("StopTrainingJob", JOB1, 30.0)],
    )
    assert len(verdict.wrongful_stops) == 1


def test_a_stop_after_a_kill_is_explained_but_not_one_signed_by_another_deployment() -> None:
    notes = [Note("try", 10.0, 10.0, 1, 1), Note("kill", 25.0, 25.0, 1, 1, "mark_failed")]
    record = task(state="failed", notes=notes)
    explained = judge(
        records=[record],
        requests=[request("CreateTrainingJob", JOB1, 11.0), request("StopTrainingJob", JOB1, 30.0)],
        jobs={JOB1: "Stopped"},
        expected_failure=True,
    )
    assert explained.clean and explained.expected_failures == 1, explained
    foreign = judge(
        records=[record, task(key=STAGING, deployment="staging", results=[])],
        requests=[
            request("CreateTrainingJob", JOB1, 11.0),
            request("StopTrainingJob", JOB1, 30.0, key=STAGING),
        ],
        jobs={JOB1: "Stopped"},
        expected_failure=True,
    )
    assert len(foreign.wrongful_stops) == 1


def test_a_kill_does_not_explain_stopping_a_job_created_after_it() -> None:
    notes = [
        Note("try", 10.0, 10.0, 1, 1),
        Note("kill", 12.0, 12.0, 1, 1, "clear"),
        Note("clear", 12.5, 12.5, 1, 1),
        Note("try", 13.0, 13.0, 2, 2),
    ]
    verdict = judge(
        records=[task(notes=notes, results=[(2, JOB2)])],
        requests=[
            request("CreateTrainingJob", JOB1, 11.0),
            request("StopTrainingJob", JOB1, 14.0),
            request("CreateTrainingJob", JOB2, 15.0),
            request("StopTrainingJob", JOB2, 40.0),
        ],
        jobs={JOB1: "Stopped", JOB2: "Completed"},
        samples=[],
    )
    assert len(verdict.wrongful_stops) == 1 and JOB2 in verdict.wrongful_stops[0], verdict


def test_a_stop_is_explained_by_a_timeout_only_once_the_timeout_passed() -> None:
    early = judge(
        records=[task(state="failed")],
        requests=[request("CreateTrainingJob", JOB1, 11.0), request("StopTrainingJob", JOB1, 50.0)],
        jobs={JOB1: "Stopped"},
        timeout=100.0,
        expected_failure=True,
        samples=[],
    )
    late = judge(
        records=[task(state="success")],
        requests=[request("CreateTrainingJob", JOB1, 11.0), request("StopTrainingJob", JOB1, 115.0)],
        timeout=100.0,
        samples=[],
    )
    assert early.wrongful_stops == [], "a final failure explains it"
    assert late.wrongful_stops == []
    no_reason = judge(
        requests=[request("CreateTrainingJob", JOB1, 11.0), request("StopTrainingJob", JOB1, 50.0)],
        timeout=100.0,
        samples=[],
    )
    assert len(no_reason.wrongful_stops) == 1


def test_a_transient_scenario_whose_task_failed_is_a_failed_task() -> None:
    record = task(state="failed")
    record.try_errors.append("try 1: ClientError: boom")
    verdict = judge(records=[record], jobs={JOB1: "Failed"})
    assert len(verdict.failed_tasks) == 1 and "boom" in verdict.failed_tasks[0]
    assert judge(records=[task(state="failed")], jobs={JOB1: "Failed"}, expected_failure=True).clean


def test_a_result_naming_another_deployments_job_is_wrong() -> None:
    verdict = judge(
        records=[task(), task(key=STAGING, deployment="staging", results=[(1, JOB1)])],
    )
    assert len(verdict.wrong_results) == 1 and "staging" in verdict.wrong_results[0]


def test_a_result_naming_a_job_that_did_not_complete_is_wrong() -> None:
    verdict = judge(jobs={JOB1: "Stopped"})
    assert len(verdict.wrong_results) == 1


def test_a_try_waiting_past_its_own_deadline_is_a_late_timeout() -> None:
    notes = [
        Note("try", 10.0, 10.0, 1, 1),
        Note("deadline", 11.0, 11.0, 1, 1, "610.0"),
        Note("deadline", 500.0, 500.0, 1, 1, "1100.0"),
        Note("try", 600.0, 600.0, 2, 1),
        Note("deadline", 601.0, 601.0, 2, 1, "1200.0"),
    ]
    verdict = judge(records=[task(notes=notes)])
    assert len(verdict.late_timeouts) == 1 and "try 1" in verdict.late_timeouts[0], verdict


def test_a_job_left_by_a_worker_lost_on_the_last_try_is_unstoppable_not_an_orphan() -> None:
    died = [Note("try", 10.0, 10.0, 1, 1), Note("died", 20.0, 20.0, 1, 1), Note("failed", 20.0, 20.0, 1, 1)]
    verdict = judge(
        records=[task(state="failed", notes=died)], jobs={JOB1: "InProgress"}, expected_failure=True
    )
    assert verdict.orphans == [] and len(verdict.unstoppable) == 1
    retried = [
        Note("try", 10.0, 10.0, 1, 1),
        Note("died", 20.0, 20.0, 1, 1),
        Note("retry", 20.0, 20.0, 1, 1),
        Note("try", 21.0, 21.0, 2, 1),
        Note("failed", 30.0, 30.0, 2, 1),
    ]
    verdict = judge(
        records=[task(state="failed", notes=retried)], jobs={JOB1: "InProgress"}, expected_failure=True
    )
    assert len(verdict.orphans) == 1, "the last try did not die: it should have stopped the job"


EP, CFG1, CFG2 = "c1en0001-ep", "c1en0001-0123456789-1", "c1en0001-0123456789-2"


def judge_endpoint(requests: list[dict[str, Any]], status: str = "InService", config: str = CFG1) -> Verdict:
    return check(
        Evidence(
            prefix="c1en0001",
            kind="endpoint",
            records=[task(results=[(1, EP)])],
            requests=requests,
            jobs={"endpoint": [{"name": EP, "status": status, "config": config, "pending": None}]},
            samples=[],
            virtual_at=lambda wall: wall,
            stop_job_on_kill=False,
        )
    )


def deployment(config: str = CFG1, key: str = PROD) -> list[dict[str, Any]]:
    return [request("CreateModel", config, 1.0, key), request("CreateEndpointConfig", config, 2.0, key),
            request("CreateEndpoint", EP, 3.0, key)]


def test_an_endpoint_deployed_once_is_clean() -> None:
    assert judge_endpoint(deployment()).clean


def test_a_second_endpoint_config_of_one_task_instance_is_a_duplicate() -> None:
    second = [request("CreateEndpointConfig", CFG2, 5.0), request("UpdateEndpoint", EP, 6.0)]
    verdict = judge_endpoint(deployment() + second, config=CFG2)
    assert len(verdict.duplicates) == 1 and "created by AKIAPROD" in verdict.duplicates[0]


def test_deleting_an_endpoint_is_wrongful_and_a_failed_endpoint_is_a_wrong_result() -> None:
    verdict = judge_endpoint([*deployment(), request("DeleteEndpoint", EP, 9.0)], status="Failed")
    assert len(verdict.wrongful_stops) == 1 and len(verdict.wrong_results) == 1

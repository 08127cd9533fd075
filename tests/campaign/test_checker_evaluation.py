"""The checker's pipeline-execution invariants (kind ``evaluation``) catch what they must.

An execution is owned through its generation's pipeline (the key that signed its first successful
``StartPipelineExecution``): a second execution in one pipeline is a duplicate, an execution left
``Executing`` after its task succeeded an orphan, a stop its owner had no reason for a wrongful stop.
"""

from __future__ import annotations

from typing import Any

from tests.campaign.checker import Evidence, Verdict, check
from tests.campaign.driver import Note, TaskRecord

PROD, STAGING = "AKIAPROD", "AKIASTAGING"
PREFIX = "c1ev0001"
BASE = "arn:aws:sagemaker:us-east-1:123456789012:pipeline"


def pipeline(generation: int = 1) -> str:
    return f"SagemakerEvaluation-BenchmarkEvaluation-{PREFIX}-0123456789-{generation}"


def execution(generation: int = 1, suffix: str = "a") -> str:
    return f"{BASE}/{pipeline(generation)}/execution/{suffix * 12}"


EXEC1 = execution()


def job(arn: str, status: str = "Succeeded", generation: int = 1) -> dict[str, Any]:
    return {"name": f"{PREFIX}-0123456789-{generation}", "arn": arn, "pipeline_name": pipeline(generation),
            "status": status}


def request(operation: str, name: str, wall: float, key: str = PROD) -> dict[str, Any]:
    return {"operation": operation, "name": name, "time": wall, "access_key_id": key, "status_code": 200,
            "fault": None, "service": "sagemaker"}


def started(generation: int = 1, wall: float = 11.0, key: str = PROD) -> list[dict[str, Any]]:
    return [request("CreatePipeline", pipeline(generation), wall, key),
            request("StartPipelineExecution", pipeline(generation), wall + 0.1, key)]


def task(state: str = "success", results: list[tuple[int, str]] | None = None) -> TaskRecord:
    record = TaskRecord(deployment="prod", access_key=PROD, state=state)
    record.notes = [Note("try", 10.0, 10.0, 1, 1)]
    record.results = results if results is not None else ([(1, EXEC1)] if state == "success" else [])
    return record


def judge(
    requests: list[dict[str, Any]],
    executions: list[dict[str, Any]],
    record: TaskRecord | None = None,
    samples: list[tuple[float, frozenset[str]]] | None = None,
) -> Verdict:
    return check(
        Evidence(
            prefix=PREFIX,
            kind="evaluation",
            records=[record or task()],
            requests=requests,
            jobs={"pipeline_execution": executions},
            samples=samples if samples is not None else [(0.0, frozenset({EXEC1})), (600.0, frozenset())],
            virtual_at=lambda wall: wall,
        )
    )


def test_one_execution_in_its_generations_pipeline_is_clean() -> None:
    verdict = judge(started(), [job(EXEC1)])
    assert verdict.clean, verdict


def test_a_second_execution_in_one_pipeline_is_a_duplicate() -> None:
    second = execution(suffix="b")
    verdict = judge(
        [*started(), request("StartPipelineExecution", pipeline(), 40.0)],
        [job(EXEC1), job(second, status="Stopped")],
    )
    assert len(verdict.duplicates) == 1 and "2 executions of one generation" in verdict.duplicates[0]


def test_an_execution_started_with_a_key_of_no_task_instance_is_a_duplicate() -> None:
    verdict = judge(started(key=STAGING), [job(EXEC1)])
    assert any("key of no task instance" in d for d in verdict.duplicates), verdict.duplicates
    assert any("no Create request" in d for d in verdict.duplicates), verdict.duplicates


def test_an_execution_still_executing_after_the_task_succeeded_is_an_orphan() -> None:
    second = execution(2, "c")
    verdict = judge(
        [*started(), *started(2, wall=20.0)],
        [job(EXEC1), job(second, status="Executing", generation=2)],
        samples=[(0.0, frozenset({EXEC1})), (300.0, frozenset({second}))],
    )
    assert len(verdict.orphans) == 1 and "still Executing after the task success" in verdict.orphans[0]


def test_a_stop_of_a_live_tasks_execution_is_wrongful() -> None:
    verdict = judge([*started(), request("StopPipelineExecution", EXEC1, 30.0)], [job(EXEC1, status="Stopped")],
                    record=task(results=[]))
    assert len(verdict.wrongful_stops) == 1 and "StopPipelineExecution" in verdict.wrongful_stops[0]


def test_a_stop_after_the_task_failed_for_good_is_licensed() -> None:
    record = task(state="failed")
    record.notes.append(Note("failed", 30.0, 30.0, 1, 1))
    verdict = judge([*started(), request("StopPipelineExecution", EXEC1, 31.0)], [job(EXEC1, status="Stopped")],
                    record=record)
    assert not verdict.wrongful_stops and not verdict.orphans and verdict.failed_tasks


def test_deleting_the_pipeline_is_wrongful() -> None:
    verdict = judge([*started(), request("DeletePipeline", pipeline(), 700.0)], [job(EXEC1)])
    assert len(verdict.wrongful_stops) == 1 and "DeletePipeline" in verdict.wrongful_stops[0]

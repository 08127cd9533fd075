"""The checker's AI Registry invariants (kind ``hub_content``) catch what they must.

An import cannot be stopped and one version holds one content: two live versions are duplicates, a
delete is a wrongful stop, a success must return an ``Available`` version of the content.
"""

from __future__ import annotations

from typing import Any

from tests.campaign.checker import Evidence, Verdict, check
from tests.campaign.driver import Note, TaskRecord

PROD, STAGING = "AKIAPROD", "AKIASTAGING"
NAME = "c1hu0001-data"
HUB = "HUB0123"


def arn(version: str) -> str:
    return f"arn:aws:sagemaker:us-east-1:123456789012:hub-content/{HUB}/DataSet/{NAME}/{version}"


def version(number: str, status: str = "Available") -> dict[str, Any]:
    return {"hub": HUB, "type": "DataSet", "name": NAME, "version": number, "status": status, "arn": arn(number)}


def request(operation: str, key: str = PROD) -> dict[str, Any]:
    return {"operation": operation, "name": NAME, "time": 11.0, "access_key_id": key, "status_code": 200,
            "fault": None, "service": "sagemaker"}


def task(state: str = "success", key: str = PROD, result: str | None = "1.0.0", deployment: str = "prod") -> TaskRecord:
    record = TaskRecord(deployment=deployment, access_key=key, state=state)
    record.notes = [Note("try", 10.0, 10.0, 1, 1)]
    record.results = [(1, arn(result))] if state == "success" and result else []
    return record


def judge(
    versions: list[dict[str, Any]],
    records: list[TaskRecord] | None = None,
    requests: list[dict[str, Any]] | None = None,
    expected_failure: bool = False,
) -> Verdict:
    return check(
        Evidence(
            prefix="c1hu0001",
            kind="hub_content",
            records=records or [task()],
            requests=requests if requests is not None else [request("ImportHubContent")],
            jobs={"hub_content": versions},
            samples=[],
            virtual_at=lambda wall: wall,
            stop_job_on_kill=False,
            expected_failure=expected_failure,
        )
    )


def test_one_version_shared_by_two_deployments_is_clean() -> None:
    records = [task(), task(key=STAGING, deployment="staging")]
    verdict = judge([version("1.0.0")], records, [request("ImportHubContent"), request("DescribeHubContent", STAGING)])
    assert verdict.clean, verdict


def test_two_live_versions_of_one_content_are_duplicates() -> None:
    verdict = judge([version("1.0.0"), version("2.0.0", "Importing")])
    assert len(verdict.duplicates) == 1 and "2 versions of one content" in verdict.duplicates[0]
    assert judge([version("1.0.0", "ImportFailed"), version("2.0.0")], [task(result="2.0.0")]).clean


def test_an_import_signed_by_no_task_instance_is_a_duplicate() -> None:
    verdict = judge([version("1.0.0")], requests=[request("ImportHubContent", "AKIASOMEONEELSE")])
    assert verdict.duplicates == [f"{NAME}: imported with a key of no task instance"]


def test_a_delete_is_a_wrongful_stop_even_after_mark_failed() -> None:
    records = [task(state="failed")]
    verdict = judge([version("1.0.0", "Importing")], records,
                    [request("ImportHubContent"), request("DeleteHubContent")], expected_failure=True)
    assert len(verdict.wrongful_stops) == 1 and verdict.expected_failures == 1
    assert not verdict.orphans, "an import left Importing after the task failed is not an orphan"


def test_a_success_on_a_version_not_available_is_a_wrong_result() -> None:
    assert judge([version("1.0.0", "Importing")]).wrong_results
    assert judge([version("1.0.0")], [task(result="3.0.0")]).wrong_results


def test_a_failed_import_task_under_transient_faults_is_found() -> None:
    verdict = judge([version("1.0.0")], [task(state="failed")])
    assert len(verdict.failed_tasks) == 1

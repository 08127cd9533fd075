"""HubContentTrigger against the local SageMaker: Importing -> Available / ImportFailed, never stopped."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from airflow_provider_smtrain.jobs.hub_content import hub_content_params
from airflow_provider_smtrain.triggers.registry import HubContentTrigger
from tests.triggers.conftest import ACCESS_KEY, TriggerSageMaker
from tests.triggers.test_job_triggers import EVENT_KEYS, FAST, after_polls, run_trigger

HUB = "registry-hub"


def import_version(sm: TriggerSageMaker, name: str, version: str = "1.0.0") -> str:
    client = sm.client()
    if not client.list_hubs()["HubSummaries"]:
        client.create_hub(HubName=HUB, HubDescription="test")
    arn: str = client.import_hub_content(
        HubName=HUB, HubContentType="DataSet", HubContentName=name, HubContentVersion=version,
        DocumentSchemaVersion="2.0.0",
        HubContentDocument=json.dumps({"DatasetS3Bucket": "b", "DatasetS3Prefix": "d.jsonl"}),
    )["HubContentArn"]
    return arn


def trigger(handle: str, **kwargs: Any) -> HubContentTrigger:
    return HubContentTrigger(job_name=handle, **{**FAST, **kwargs})


def test_the_handle_is_the_arn_sagemaker_returns(sm: TriggerSageMaker) -> None:
    arn = import_version(sm, "chat")
    assert hub_content_params(arn) == {
        "HubName": HUB, "HubContentType": "DataSet", "HubContentName": "chat", "HubContentVersion": "1.0.0",
    }
    assert "HubContentVersion" not in hub_content_params(arn.rsplit("/", 1)[0])
    with pytest.raises(ValueError, match="not a hub content ARN"):
        hub_content_params("arn:aws:sagemaker:us-east-1:123456789012:training-job/x")


def test_an_import_that_becomes_available_succeeds(sm: TriggerSageMaker) -> None:
    arn = import_version(sm, "chat")
    event = run_trigger(
        trigger(arn), during=after_polls(sm, "chat", 2, lambda: sm.server.force_job("hub_content", "chat", "Available"))
    )
    assert set(event) == EVENT_KEYS
    assert (event["status"], event["job_status"], event["kind"], event["job_name"]) == (
        "succeeded", "Available", "hub_content", arn,
    )
    describes = sm.calls("DescribeHubContent")
    assert len(describes) >= 2 and {c["access_key_id"] for c in describes} == {ACCESS_KEY}


def test_an_import_that_fails_ends_failed_with_the_reason(sm: TriggerSageMaker) -> None:
    arn = import_version(sm, "bad")
    event = run_trigger(
        trigger(arn),
        during=after_polls(
            sm, "bad", 1, lambda: sm.server.force_job("hub_content", "bad", "ImportFailed", "Invalid JSON line 3")
        ),
    )
    assert (event["status"], event["job_status"]) == ("failed", "ImportFailed")
    assert event["failure_reason"] == "Invalid JSON line 3" and "Invalid JSON line 3" in event["message"]


def test_the_deadline_and_a_kill_never_try_to_stop_an_import(sm: TriggerSageMaker) -> None:
    import asyncio

    arn = import_version(sm, "slow")
    event = run_trigger(trigger(arn, deadline=time.time() + 0.2))
    assert event["status"] == "deadline" and "cannot be stopped" in event["message"]
    asyncio.run(trigger(arn).on_kill())
    assert not [c for c in sm.calls() if c["operation"].startswith("Stop") or c["operation"].startswith("Delete")]


def test_without_a_version_the_latest_is_watched(sm: TriggerSageMaker) -> None:
    import_version(sm, "chat", "1.0.0")
    latest = import_version(sm, "chat", "2.0.0")
    sm.server.force_job("hub_content", "chat", "Available")
    event = run_trigger(trigger(latest.rsplit("/", 1)[0]))
    assert event["status"] == "succeeded" and event["job_name"] == latest.rsplit("/", 1)[0]

"""EndpointTrigger against the local SageMaker: Creating/Updating -> InService / Failed, never stopped."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from airflow_provider_smtrain.triggers.endpoint import EndpointTrigger
from tests.triggers.conftest import ACCESS_KEY, TriggerSageMaker
from tests.triggers.test_job_triggers import EVENT_KEYS, FAST, after_polls, run_trigger

ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"


def create_endpoint(sm: TriggerSageMaker, name: str) -> None:
    sm.server.configure(endpoint_seconds=3600)  # stays Creating until forced
    client = sm.client()
    client.create_model(ModelName=name, ExecutionRoleArn=ROLE,
                        PrimaryContainer={"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/serve:1"})
    client.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[
        {"VariantName": "AllTraffic", "ModelName": name, "InstanceType": "ml.m5.large", "InitialInstanceCount": 1}])
    client.create_endpoint(EndpointName=name, EndpointConfigName=name)


def trigger(name: str, **kwargs: Any) -> EndpointTrigger:
    return EndpointTrigger(job_name=name, **{**FAST, **kwargs})


def test_an_endpoint_that_comes_in_service_succeeds(sm: TriggerSageMaker) -> None:
    create_endpoint(sm, "ep")
    event = run_trigger(trigger("ep"), during=after_polls(sm, "ep", 2, lambda: sm.server.force_job("endpoint", "ep", "InService")))
    assert set(event) == EVENT_KEYS
    assert (event["status"], event["job_status"], event["kind"], event["job_name"]) == (
        "succeeded", "InService", "endpoint", "ep")
    describes = sm.calls("DescribeEndpoint")
    assert len(describes) >= 2 and {c["access_key_id"] for c in describes} == {ACCESS_KEY}


def test_a_failed_endpoint_ends_failed_with_the_reason(sm: TriggerSageMaker) -> None:
    create_endpoint(sm, "bad")
    event = run_trigger(trigger("bad"), during=after_polls(
        sm, "bad", 1, lambda: sm.server.force_job("endpoint", "bad", "Failed", "ModelError: ping failed")))
    assert (event["status"], event["job_status"]) == ("failed", "Failed")
    assert event["failure_reason"] == "ModelError: ping failed" and "ModelError: ping failed" in event["message"]


def test_the_deadline_and_a_kill_never_touch_the_endpoint(sm: TriggerSageMaker) -> None:
    create_endpoint(sm, "slow")
    event = run_trigger(trigger("slow", deadline=time.time() + 0.2))
    assert event["status"] == "deadline" and "cannot be stopped" in event["message"]
    asyncio.run(trigger("slow").on_kill())
    touched = [c["operation"] for c in sm.calls() if c["operation"].startswith(("Stop", "Delete", "Update"))]
    assert touched == []

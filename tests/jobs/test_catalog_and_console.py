"""The job catalog, the console URL builder, the failure sentence and what JobKind can express."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from airflow_provider_smtrain.jobs import catalog
from airflow_provider_smtrain.jobs.console import TRAINING_LOG_GROUP, console_url, log_console_url
from airflow_provider_smtrain.jobs.kinds import (
    AGENT_RFT,
    HUB_CONTENT,
    TRAINING,
    TUNING,
    JobNotStoppable,
    failure_message,
)
from airflow_provider_smtrain.links.sagemaker import TrainingJobLink, TrainingLogsLink, TuningJobLink
from airflow_provider_smtrain.triggers import (
    AgentRFTJobTrigger,
    TrainingJobTrigger,
    TuningJobTrigger,
    trigger_for,
    trigger_for_task,
)
from airflow_provider_smtrain.triggers.base import SageMakerJobTrigger


class FakeTask:
    aws_conn_id: str | None = "task_conn"
    verify: bool | str | None = "/ca.pem"
    botocore_config: dict[str, Any] | None = {"retries": {"max_attempts": 1}}


def test_failure_message_is_one_sentence_with_or_without_a_reason() -> None:
    assert failure_message(TRAINING, "job-1", "Failed", "OOM") == "SageMaker training job job-1 ended Failed: OOM"
    assert (
        failure_message(TUNING, "t-1", "Stopped", None)
        == "SageMaker hyperparameter tuning job t-1 ended Stopped: no failure reason given"
    )


def test_a_kind_without_stop_says_so_instead_of_calling_nothing() -> None:
    endpoint_like = replace(TRAINING, name="unstoppable", stop=None)
    assert TRAINING.stoppable and TRAINING.stop_method == "stop_training_job"
    assert not endpoint_like.stoppable
    with pytest.raises(JobNotStoppable, match="cannot be stopped"):
        _ = endpoint_like.stop_method


def test_a_kind_identified_by_arn_and_its_own_failure_key() -> None:
    pipeline_like = replace(
        TRAINING,
        name="pipeline-like",
        identity="arn",
        name_param="PipelineExecutionArn",
        failure_key="FailureReasonText",
        token_param="ClientRequestToken",
        console_fragment="pipelines/{name}/executions/{execution_id}",
    )
    assert pipeline_like.failure_reason({"FailureReasonText": "step failed", "FailureReason": "x"}) == "step failed"
    assert pipeline_like.failure_reason({"FailureReasonText": ""}) is None
    url = console_url(pipeline_like, "my-pipeline", "us-east-1", execution_id="abc123")
    assert url.endswith("#/pipelines/my-pipeline/executions/abc123")


@pytest.mark.parametrize(
    ("region", "host"),
    [
        ("us-east-1", "us-east-1.console.aws.amazon.com"),
        ("cn-north-1", "cn-north-1.console.amazonaws.cn"),
        ("us-gov-west-1", "us-gov-west-1.console.amazonaws-us-gov.com"),
    ],
)
def test_links_and_results_share_one_url_builder(region: str, host: str) -> None:
    persisted = {"region_name": region, "aws_domain": "ignored", "job_name": "job-1"}
    assert TrainingJobLink().format_link(**persisted) == f"https://{host}/sagemaker/home?region={region}#/jobs/job-1"
    assert TuningJobLink().format_link(**persisted) == console_url(TUNING, "job-1", region)
    logs = TrainingLogsLink().format_link(**persisted)
    assert logs == log_console_url("job-1", region)
    assert f"group={TRAINING_LOG_GROUP};prefix=job-1;" in logs
    assert TrainingJobLink().format_link(region_name=region) == ""  # nothing persisted yet


def test_catalog_entries_by_kind_or_name() -> None:
    assert catalog.entry("training") is catalog.entry(TRAINING)
    assert catalog.kinds()[:4] == (TRAINING, TUNING, AGENT_RFT, HUB_CONTENT)
    with pytest.raises(ValueError, match=r"accepted: \['agent_rft', .*'hub_content', .*'training', 'tuning'"):
        catalog.entry("processing")


def test_trigger_for_builds_the_catalogs_class() -> None:
    assert type(trigger_for(TRAINING, job_name="j")) is TrainingJobTrigger
    assert type(trigger_for(TUNING, job_name="j")) is TuningJobTrigger
    assert type(trigger_for(AGENT_RFT, job_name="j")) is AgentRFTJobTrigger


def test_trigger_for_task_connects_as_the_task_does() -> None:
    trigger = trigger_for_task(FakeTask(), TUNING, job_name="j", region_name="eu-west-1", poll_interval=5)
    assert isinstance(trigger, SageMakerJobTrigger)
    assert trigger.hook_params() == {
        "aws_conn_id": "task_conn",
        "region_name": "eu-west-1",
        "verify": "/ca.pem",
        "config": {"retries": {"max_attempts": 1}},
    }
    assert trigger.poll_interval == 5.0 and trigger.job_kind is TUNING

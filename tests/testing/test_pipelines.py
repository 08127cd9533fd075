"""Pipelines and their executions in the local SageMaker: steps over simulated time, stop, failure, results."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from airflow_provider_smtrain.testing.client import LocalSageMaker
from tests.testing import evaluation_pipelines as ep
from tests.testing.conftest import BUCKET

BENCH = "SagemakerEvaluation-BenchmarkEvaluation-0001"
LLMAJ = "SagemakerEvaluation-LLMAJEvaluation-0001"


@pytest.fixture
def client(sm: LocalSageMaker) -> Any:
    """SageMaker client; the clock stands still."""
    sm.clock.freeze()
    return sm.boto3_client("sagemaker")


def _start(client: Any, name: str, n: int = 1, display: str = "eval-run") -> str:
    return str(
        client.start_pipeline_execution(PipelineName=name, PipelineExecutionDisplayName=display, ClientRequestToken=ep.token(n))[
            "PipelineExecutionArn"
        ]
    )


def test_benchmark_execution_steps_through_its_training_steps(sm: LocalSageMaker, client: Any) -> None:
    ep.create(sm, client, BENCH, "DETERMINISTIC_TEMPLATE", BUCKET)
    arn = _start(client, BENCH)
    assert arn.startswith(f"arn:aws:sagemaker:us-east-1:123456789012:pipeline/{BENCH}/execution/")
    assert ep.status(client, arn) == "Executing"
    steps = ep.steps(client, arn)
    assert steps["CreateEvaluationAction"]["StepStatus"] == "Succeeded"
    assert {steps[n]["StepStatus"] for n in ("EvaluateBaseModel", "EvaluateCustomModel")} == {"Executing"}
    assert "AssociateLineage" not in steps  # it reads both evaluation steps' outputs: it waits for them
    job_arn = steps["EvaluateCustomModel"]["Metadata"]["TrainingJob"]["Arn"]
    job = client.describe_training_job(TrainingJobName=job_arn.rsplit("/", 1)[-1])
    assert job["TrainingJobStatus"] == "InProgress"
    assert job["OutputDataConfig"]["S3OutputPath"] == f"s3://{BUCKET}/eval/"
    assert job["ServerlessJobConfig"]["JobType"] == "Evaluation"
    assert job["HyperParameters"]["task"] == "mmlu"

    sm.clock.advance(1.0)
    steps = ep.steps(client, arn)
    assert ep.status(client, arn) == "Succeeded"
    assert [s["StepStatus"] for s in steps.values()] == ["Succeeded"] * 4
    assert steps["AssociateLineage"]["StartTime"] >= steps["EvaluateCustomModel"]["EndTime"]
    assert client.describe_training_job(TrainingJobName=job["TrainingJobName"])["TrainingJobStatus"] == "Completed"


def test_llmaj_metrics_steps_wait_for_their_inference_steps(sm: LocalSageMaker, client: Any) -> None:
    ep.create(sm, client, LLMAJ, "LLMAJ_TEMPLATE", BUCKET)
    arn = _start(client, LLMAJ)
    assert set(ep.steps(client, arn)) == {"CreateEvaluationAction", "EvaluateBaseInferenceModel", "EvaluateCustomInferenceModel"}
    sm.clock.advance(0.9)
    steps = ep.steps(client, arn)
    assert steps["EvaluateBaseModelMetrics"]["StepStatus"] == "Executing"
    assert steps["EvaluateBaseModelMetrics"]["StartTime"] == steps["EvaluateBaseInferenceModel"]["EndTime"]
    metrics_job = steps["EvaluateCustomModelMetrics"]["Metadata"]["TrainingJob"]["Arn"].rsplit("/", 1)[-1]
    inference_job = steps["EvaluateCustomInferenceModel"]["Metadata"]["TrainingJob"]["Arn"].rsplit("/", 1)[-1]
    hyperparameters = client.describe_training_job(TrainingJobName=metrics_job)["HyperParameters"]
    assert hyperparameters["inference_data_s3_path"] == (
        f"s3://{BUCKET}/eval//{inference_job}/output/output/CustomInference/eval_results/inference_output.jsonl"
    )
    execution_id = arn.rsplit("/", 1)[-1]
    assert hyperparameters["name"] == f"custom-llmaj-eval-{execution_id}"
    sm.clock.advance(1.0)
    assert ep.status(client, arn) == "Succeeded"


def test_stop_goes_stopping_then_stopped_and_stops_the_jobs(sm: LocalSageMaker, client: Any) -> None:
    ep.create(sm, client, BENCH, "DETERMINISTIC_TEMPLATE", BUCKET)
    arn = _start(client, BENCH)
    sm.clock.advance(0.2)
    assert client.stop_pipeline_execution(PipelineExecutionArn=arn, ClientRequestToken=ep.token(9))["PipelineExecutionArn"] == arn
    assert ep.status(client, arn) == "Stopping"
    assert ep.steps(client, arn)["EvaluateBaseModel"]["StepStatus"] == "Stopping"
    sm.clock.advance(0.5)
    assert ep.status(client, arn) == "Stopped"
    steps = ep.steps(client, arn)
    assert steps["EvaluateBaseModel"]["StepStatus"] == "Stopped"
    assert "AssociateLineage" not in steps
    job = steps["EvaluateCustomModel"]["Metadata"]["TrainingJob"]["Arn"].rsplit("/", 1)[-1]
    assert client.describe_training_job(TrainingJobName=job)["TrainingJobStatus"] == "Stopped"
    sm.clock.advance(10)
    assert ep.status(client, arn) == "Stopped"


def test_rule_fails_a_step_with_its_reason(sm: LocalSageMaker, client: Any) -> None:
    sm.add_rule(kind="pipeline_execution", name_glob="bad-*", outcome="Failed", failure_reason="ClientError: OOM", step="EvaluateBaseModel")
    ep.create(sm, client, BENCH, "DETERMINISTIC_TEMPLATE", BUCKET)
    good = _start(client, BENCH, 1, display="good-run")
    bad = _start(client, BENCH, 2, display="bad-run")
    sm.clock.advance(2)
    assert ep.status(client, good) == "Succeeded"
    described = client.describe_pipeline_execution(PipelineExecutionArn=bad)
    assert described["PipelineExecutionStatus"] == "Failed"
    assert described["FailureReason"] == "Step failure: One or multiple steps failed."
    steps = ep.steps(client, bad)
    assert steps["EvaluateBaseModel"]["StepStatus"] == "Failed"
    assert steps["EvaluateBaseModel"]["FailureReason"] == "ClientError: OOM"
    assert steps["EvaluateCustomModel"]["StepStatus"] == "Succeeded"
    assert "AssociateLineage" not in steps
    job = steps["EvaluateBaseModel"]["Metadata"]["TrainingJob"]["Arn"].rsplit("/", 1)[-1]
    assert client.describe_training_job(TrainingJobName=job)["FailureReason"] == "ClientError: OOM"


def test_completed_with_failures_by_rule(sm: LocalSageMaker, client: Any) -> None:
    sm.add_rule(kind="pipeline_execution", name_glob=BENCH, outcome="CompletedWithFailures", step="EvaluateCustomModel")
    ep.create(sm, client, BENCH, "DETERMINISTIC_TEMPLATE", BUCKET)
    arn = _start(client, BENCH)
    sm.clock.advance(2)
    assert ep.status(client, arn) == "CompletedWithFailures"
    assert ep.steps(client, arn)["EvaluateBaseModel"]["StepStatus"] == "Succeeded"


def test_same_token_same_execution_other_request_conflict(sm: LocalSageMaker, client: Any) -> None:
    ep.create(sm, client, BENCH, "DETERMINISTIC_TEMPLATE", BUCKET)
    first = _start(client, BENCH, 7)
    assert _start(client, BENCH, 7) == first
    summaries = client.list_pipeline_executions(PipelineName=BENCH)["PipelineExecutionSummaries"]
    assert [s["PipelineExecutionArn"] for s in summaries] == [first]
    with pytest.raises(ClientError) as err:
        _start(client, BENCH, 7, display="another-run")
    assert err.value.response["Error"]["Code"] == "ConflictException"
    assert len(sm.requests(operation="CreateTrainingJob")) == 0  # jobs are created by the service, not the API
    assert len(sm.jobs()["training"]) == 2


def test_each_execution_keeps_the_definition_it_started_with(sm: LocalSageMaker, client: Any) -> None:
    first_definition = ep.create(sm, client, BENCH, "DETERMINISTIC_TEMPLATE", BUCKET)
    first = _start(client, BENCH, 1)
    second_definition = ep.render("DETERMINISTIC_TEMPLATE", BENCH, ep.context(BUCKET, task="bbh", subtask=""))
    client.update_pipeline(PipelineName=BENCH, PipelineDefinition=second_definition, RoleArn=ep.ROLE_ARN)
    second = _start(client, BENCH, 2)
    for arn, expected in ((first, first_definition), (second, second_definition)):
        got = client.describe_pipeline_definition_for_execution(PipelineExecutionArn=arn)["PipelineDefinition"]
        assert got == expected
    assert client.describe_pipeline(PipelineName=BENCH)["PipelineDefinition"] == second_definition
    tasks = {
        arn: client.describe_training_job(
            TrainingJobName=ep.steps(client, arn)["EvaluateBaseModel"]["Metadata"]["TrainingJob"]["Arn"].rsplit("/", 1)[-1]
        )["HyperParameters"]["task"]
        for arn in (first, second)
    }
    assert tasks == {first: "mmlu", second: "bbh"}
    assert client.describe_pipeline_execution(PipelineExecutionArn=second)["PipelineVersionId"] == 2


def test_force_pipeline_execution(sm: LocalSageMaker, client: Any) -> None:
    ep.create(sm, client, BENCH, "DETERMINISTIC_TEMPLATE", BUCKET)
    arn = _start(client, BENCH)
    sm.force_job("pipeline_execution", arn, "Failed", failure_reason="forced by test")
    described = client.describe_pipeline_execution(PipelineExecutionArn=arn)
    assert (described["PipelineExecutionStatus"], described["FailureReason"]) == ("Failed", "forced by test")
    sm.clock.advance(5)
    assert ep.status(client, arn) == "Failed"
    sm.force_job("pipeline_execution", "eval-run", "Succeeded")
    assert ep.status(client, arn) == "Succeeded"


def test_unknown_pipeline_and_execution_are_resource_not_found(client: Any) -> None:
    for call in (
        lambda: client.describe_pipeline(PipelineName="nope"),
        lambda: client.start_pipeline_execution(PipelineName="nope", ClientRequestToken=ep.token(1)),
        lambda: client.describe_pipeline_execution(
            PipelineExecutionArn="arn:aws:sagemaker:us-east-1:123456789012:pipeline/nope/execution/abcdefabcdef"
        ),
        lambda: client.update_pipeline(PipelineName="nope", PipelineDefinition="{}"),
    ):
        with pytest.raises(ClientError) as err:
            call()
        assert err.value.response["Error"]["Code"] == "ResourceNotFound"


def test_list_pipelines_by_prefix_and_executions_sorted_paged_bounded(sm: LocalSageMaker, client: Any) -> None:
    ep.create(sm, client, BENCH, "DETERMINISTIC_TEMPLATE", BUCKET)
    ep.create(sm, client, LLMAJ, "LLMAJ_TEMPLATE", BUCKET)
    ep.create(sm, client, "Other-SagemakerEvaluation-BenchmarkEvaluation", "DETERMINISTIC_TEMPLATE", BUCKET)
    listed = client.list_pipelines(PipelineNamePrefix="SagemakerEvaluation-BenchmarkEvaluation")["PipelineSummaries"]
    assert [p["PipelineName"] for p in listed] == [BENCH]
    client.add_tags(ResourceArn=listed[0]["PipelineArn"], Tags=[{"Key": "team", "Value": "evals"}])
    assert client.list_tags(ResourceArn=listed[0]["PipelineArn"])["Tags"] == [*ep.EVAL_TAG, {"Key": "team", "Value": "evals"}]
    arns = []
    for n in range(3):
        arns.append(_start(client, BENCH, n, display=f"run-{n}"))
        sm.clock.advance(10)
    page = client.list_pipeline_executions(PipelineName=BENCH, MaxResults=2)
    assert [s["PipelineExecutionArn"] for s in page["PipelineExecutionSummaries"]] == arns[::-1][:2]
    rest = client.list_pipeline_executions(PipelineName=BENCH, MaxResults=2, NextToken=page["NextToken"])
    assert [s["PipelineExecutionArn"] for s in rest["PipelineExecutionSummaries"]] == arns[:1]
    started = client.describe_pipeline_execution(PipelineExecutionArn=arns[1])["CreationTime"]
    after = client.list_pipeline_executions(PipelineName=BENCH, CreatedAfter=started, SortOrder="Ascending")
    assert [s["PipelineExecutionArn"] for s in after["PipelineExecutionSummaries"]] == arns[2:]
    assert {s["PipelineExecutionStatus"] for s in page["PipelineExecutionSummaries"]} == {"Succeeded"}


def test_a_step_whose_job_is_forced_failed_fails_the_execution(sm: LocalSageMaker, client: Any) -> None:
    ep.create(sm, client, BENCH, "DETERMINISTIC_TEMPLATE", BUCKET)
    arn = _start(client, BENCH)
    job = ep.steps(client, arn)["EvaluateCustomModel"]["Metadata"]["TrainingJob"]["Arn"].rsplit("/", 1)[-1]
    sm.force_job("training", job, "Stopped")
    sm.clock.advance(2)
    described = client.describe_pipeline_execution(PipelineExecutionArn=arn)
    assert (described["PipelineExecutionStatus"], described["FailureReason"]) == (
        "Failed",
        "Step failure: One or multiple steps failed.",
    )
    assert ep.steps(client, arn)["EvaluateCustomModel"]["StepStatus"] == "Stopped"


def test_rule_seconds_is_each_job_steps_duration(sm: LocalSageMaker, client: Any) -> None:
    sm.add_rule(kind="pipeline_execution", name_glob="slow-*", outcome="Succeeded", seconds=100)
    ep.create(sm, client, BENCH, "DETERMINISTIC_TEMPLATE", BUCKET)
    arn = _start(client, BENCH, display="slow-run")
    sm.clock.advance(99)
    assert ep.status(client, arn) == "Executing"
    sm.clock.advance(2)
    assert ep.status(client, arn) == "Succeeded"
    with pytest.raises(Exception, match="only for kind 'pipeline_execution'"):
        sm.add_rule(kind="training", outcome="Succeeded")


def test_a_listing_page_brings_only_its_own_executions_up_to_date(sm: LocalSageMaker, client: Any) -> None:
    ep.create(sm, client, BENCH, "DETERMINISTIC_TEMPLATE", BUCKET)
    arns = [_start(client, BENCH, n, display=f"run-{n}") for n in range(12)]
    sm.clock.advance(1.0)  # every execution has ended by now, none was read since
    before = sm.stats()["ticks"].get("pipeline_execution", 0)
    page = client.list_pipeline_executions(PipelineName=BENCH, MaxResults=3, SortOrder="Ascending")
    # the page's three executions are read up to date (the thousands of a busy pipeline are not)
    assert sm.stats()["ticks"].get("pipeline_execution", 0) - before == 3
    # started at one (frozen) instant: creation time ties, the ARN orders them
    assert [s["PipelineExecutionArn"] for s in page["PipelineExecutionSummaries"]] == sorted(arns)[:3]
    assert {s["PipelineExecutionStatus"] for s in page["PipelineExecutionSummaries"]} == {"Succeeded"}

"""What the SDK's evaluators need besides pipelines: artifacts, Bedrock judge models, hub evaluation recipes; faults."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from airflow_provider_smtrain.testing.client import LocalSageMaker
from airflow_provider_smtrain.testing.services.bedrock import FOUNDATION_MODELS
from airflow_provider_smtrain.testing.services.hub.evaluation_recipes import JUDGE_MODELS_KEY
from tests.testing import evaluation_pipelines as ep
from tests.testing.conftest import BUCKET

SOURCE = "arn:aws:sagemaker:us-east-1:123456789012:model-package/tuned/1"
BENCH = "SagemakerEvaluation-BenchmarkEvaluation-0003"


def test_artifacts_create_describe_and_list_by_source(sm: LocalSageMaker) -> None:
    client = sm.boto3_client("sagemaker")
    assert client.list_artifacts(SourceUri=SOURCE)["ArtifactSummaries"] == []
    source = {"SourceUri": SOURCE, "SourceTypes": [{"SourceIdType": "Custom", "Value": "now"}]}
    arn = client.create_artifact(ArtifactType="Model", Source=source, Properties={"ModelPackageArn": SOURCE})["ArtifactArn"]
    other = client.create_artifact(ArtifactType="Model", Source={"SourceUri": "s3://b/other"})["ArtifactArn"]
    assert arn.startswith("arn:aws:sagemaker:us-east-1:123456789012:artifact/") and arn != other
    described = client.describe_artifact(ArtifactArn=arn)
    assert (described["Source"], described["ArtifactType"], described["Properties"]) == (source, "Model", {"ModelPackageArn": SOURCE})
    listed = client.list_artifacts(SourceUri=SOURCE)["ArtifactSummaries"]
    assert [a["ArtifactArn"] for a in listed] == [arn]
    assert len(client.list_artifacts(ArtifactType="Model")["ArtifactSummaries"]) == 2
    with pytest.raises(ClientError) as err:
        client.describe_artifact(ArtifactArn=arn + "0")
    assert err.value.response["Error"]["Code"] == "ResourceNotFound"
    sm.reset()
    assert client.list_artifacts()["ArtifactSummaries"] == []


def test_bedrock_judge_models_are_active_and_others_not_found(sm: LocalSageMaker) -> None:
    bedrock = sm.boto3_client("bedrock")
    for model_id in FOUNDATION_MODELS:
        details = bedrock.get_foundation_model(modelIdentifier=model_id)["modelDetails"]
        assert (details["modelId"], details["modelLifecycle"]["status"]) == (model_id, "ACTIVE")
        assert details["modelArn"] == f"arn:aws:bedrock:us-east-1::foundation-model/{model_id}"
    with pytest.raises(ClientError) as err:
        bedrock.get_foundation_model(modelIdentifier="anthropic.claude-v1")
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
    logged = sm.requests(operation="GetFoundationModel")
    assert len(logged) == len(FOUNDATION_MODELS) + 1 and logged[-1]["name"] == "anthropic.claude-v1"
    sm.fail_next("GetFoundationModel", code="AccessDeniedException", status=403)
    with pytest.raises(ClientError) as err:
        bedrock.get_foundation_model(modelIdentifier="amazon.nova-pro-v1:0")
    assert err.value.response["Error"]["Code"] == "AccessDeniedException"


def test_the_judge_allowlist_and_evaluation_recipes_are_in_the_public_hub(sm: LocalSageMaker) -> None:
    s3 = sm.boto3_client("s3")
    judges = json.loads(s3.get_object(Bucket="jumpstart-cache-prod-us-east-1", Key=JUDGE_MODELS_KEY)["Body"].read())
    assert {j["model_id"] for j in judges["supported_judge_models"]} == set(FOUNDATION_MODELS)
    document = json.loads(
        sm.boto3_client("sagemaker").describe_hub_content(
            HubName="SageMakerPublicHub", HubContentType="Model", HubContentName="huggingface-llm-qwen2-5-7b-instruct"
        )["HubContentDocument"]
    )
    evaluations = {r["EvaluationType"]: r for r in document["RecipeCollection"] if r.get("Type") == "Evaluation"}
    assert set(evaluations) == {"DeterministicEvaluation", "MTRLEvaluation"}
    bucket, key = evaluations["DeterministicEvaluation"]["SmtjOverrideParamsS3Uri"][len("s3://") :].split("/", 1)
    spec = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    assert spec["max_new_tokens"]["default"] == 8192 and spec["max_model_len"]["max"] == 8192


def test_a_lost_start_response_then_a_retry_with_the_same_token_makes_one_execution(sm: LocalSageMaker) -> None:
    client = sm.boto3_client("sagemaker", access_key_id="AKIALOSTSTART", retries={"mode": "standard", "max_attempts": 3})
    ep.create(sm, client, BENCH, "DETERMINISTIC_TEMPLATE", BUCKET)
    sm.fail_next("StartPipelineExecution", kind="lost_response")
    # botocore retries the lost call with the same token: the execution it started is the answer
    arn = client.start_pipeline_execution(PipelineName=BENCH, ClientRequestToken=ep.token(5))["PipelineExecutionArn"]
    summaries = client.list_pipeline_executions(PipelineName=BENCH)["PipelineExecutionSummaries"]
    assert [s["PipelineExecutionArn"] for s in summaries] == [arn]
    started = sm.requests(operation="StartPipelineExecution")
    assert [(r["fault"], r["name"]) for r in started] == [("lost_response", BENCH), (None, BENCH)]
    assert sm.requests(operation="DescribePipelineExecution", name=arn) == []


def test_error_faults_apply_to_pipeline_operations(sm: LocalSageMaker) -> None:
    client: Any = sm.boto3_client("sagemaker", access_key_id="AKIADENIEDCREATE", retries={"total_max_attempts": 1})
    sm.fail_next("CreatePipeline", code="AccessDeniedException", message="User is not authorized to perform: sagemaker:CreatePipeline")
    with pytest.raises(ClientError) as err:
        ep.create(sm, client, BENCH, "DETERMINISTIC_TEMPLATE", BUCKET)
    assert err.value.response["Error"]["Message"] == "User is not authorized to perform: sagemaker:CreatePipeline"
    assert client.list_pipelines()["PipelineSummaries"] == []

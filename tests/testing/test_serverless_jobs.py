"""Serverless (model customization) training jobs on the LocalSageMaker: the SDK trainers' CreateTrainingJob."""

from __future__ import annotations

import io
import json
import tarfile
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.testing.conftest import BUCKET, ROLE_ARN

BASE_MODEL_ARN = (
    "arn:aws:sagemaker:us-east-1:aws:hub-content/SageMakerPublicHub/Model/meta-textgeneration-llama-3-2-1b-instruct/1.2.0"
)
MLFLOW_ARN = "arn:aws:sagemaker:us-east-1:123456789012:mlflow-app/app-ABC123"
GROUP = "llama-finetunes"


@pytest.fixture
def wait_for(clock_wait_for):
    """Jobs are waited for in simulated time."""
    return clock_wait_for


@pytest.fixture
def group_arn(sagemaker) -> str:
    """A model package group for the fine-tuned versions."""
    return sagemaker.create_model_package_group(ModelPackageGroupName=GROUP)["ModelPackageGroupArn"]


def serverless_args(name: str, group_arn: str | None, **overrides: Any) -> dict[str, Any]:
    """CreateTrainingJob arguments as SFTTrainer.train() sends them (serverless path)."""
    args: dict[str, Any] = {
        "TrainingJobName": name,
        "RoleArn": ROLE_ARN,
        "InputDataConfig": [
            {
                "ChannelName": "train",
                "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{BUCKET}/data/train.jsonl"}},
            }
        ],
        "OutputDataConfig": {"S3OutputPath": f"s3://{BUCKET}/finetune"},
        "ServerlessJobConfig": {
            "BaseModelArn": BASE_MODEL_ARN,
            "AcceptEula": True,
            "JobType": "FineTuning",
            "CustomizationTechnique": "SFT",
            "Peft": "LORA",
        },
        "MlflowConfig": {"MlflowResourceArn": MLFLOW_ARN, "MlflowExperimentName": "exp", "MlflowRunName": "run-1"},
        "HyperParameters": {"learning_rate": "0.0001", "lora_rank": "16"},
        "Tags": [{"Key": "sagemaker-sdk:jumpstart-model-id", "Value": "meta-textgeneration-llama-3-2-1b-instruct"}],
    }
    if group_arn:
        args["ModelPackageConfig"] = {"ModelPackageGroupArn": group_arn}
    args.update(overrides)
    return args


def completed(sagemaker: Any, name: str, status: str = "Completed") -> Any:
    def check() -> Any:
        desc = sagemaker.describe_training_job(TrainingJobName=name)
        return desc if desc["TrainingJobStatus"] == status else None

    return check


def read_s3(sm: Any, key: str) -> bytes:
    body: bytes = sm.boto3_client("s3").get_object(Bucket=BUCKET, Key=key)["Body"].read()
    return body


def test_serverless_job_runs_and_registers_a_model_package_version(sm, sagemaker, group_arn, wait_for):
    sm.configure(training_seconds=600)
    sm.clock.freeze()
    arn = sagemaker.create_training_job(**serverless_args("sft-1", group_arn))["TrainingJobArn"]
    assert arn.endswith(":training-job/sft-1")

    first = sagemaker.describe_training_job(TrainingJobName="sft-1")  # shapes checked by the conftest fixture
    assert first["TrainingJobStatus"] == "InProgress"
    assert first["ServerlessJobConfig"]["BaseModelArn"] == BASE_MODEL_ARN
    assert first["ServerlessJobConfig"]["Peft"] == "LORA"
    assert first["MlflowConfig"]["MlflowRunName"] == "run-1"
    assert first["ModelPackageConfig"] == {"ModelPackageGroupArn": group_arn}
    assert set(first["MlflowDetails"]) == {"MlflowExperimentId", "MlflowRunId"}
    assert "AlgorithmSpecification" not in first and "ResourceConfig" not in first
    assert first["StoppingCondition"] == {"MaxRuntimeInSeconds": 86400}
    assert "OutputModelPackageArn" not in first
    assert sagemaker.list_model_packages(ModelPackageGroupName=GROUP)["ModelPackageSummaryList"] == []

    sm.clock.advance(300)
    assert sagemaker.describe_training_job(TrainingJobName="sft-1")["SecondaryStatus"] == "Training"
    done = wait_for(completed(sagemaker, "sft-1"), timeout=700, interval=50)

    assert [t["Status"] for t in done["SecondaryStatusTransitions"]][-1] == "Completed"
    assert done["BillableTimeInSeconds"] >= 1 and done["BillableTokenCount"] > 0
    assert done["FinalMetricDataList"]
    package_arn = done["OutputModelPackageArn"]
    assert package_arn.startswith("arn:aws:sagemaker:us-east-1:123456789012:model-package/llama-finetunes/")
    [summary] = sagemaker.list_model_packages(ModelPackageGroupName=GROUP)["ModelPackageSummaryList"]
    assert summary["ModelPackageArn"] == package_arn
    package = sagemaker.describe_model_package(ModelPackageName=package_arn)
    container = package["InferenceSpecification"]["Containers"][0]
    assert container["BaseModel"] == {
        "HubContentName": "meta-textgeneration-llama-3-2-1b-instruct",
        "HubContentVersion": "1.2.0",
    }
    checkpoint = container["ModelDataSource"]["S3DataSource"]["S3Uri"]
    assert checkpoint == f"s3://{BUCKET}/finetune/sft-1/checkpoints/hf_merged/"

    assert done["ModelArtifacts"]["S3ModelArtifacts"] == f"s3://{BUCKET}/finetune/sft-1/output/model.tar.gz"
    read_s3(sm, "finetune/sft-1/output/model.tar.gz")
    adapter = json.loads(read_s3(sm, "finetune/sft-1/checkpoints/adapter/adapter_config.json"))
    assert adapter["peft_type"] == "LORA" and adapter["r"] == "16"
    read_s3(sm, "finetune/sft-1/checkpoints/hf_merged/model.safetensors")
    with tarfile.open(fileobj=io.BytesIO(read_s3(sm, "finetune/sft-1/output/output.tar.gz"))) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
    assert manifest["checkpoint_s3_bucket"] == checkpoint  # where the SDK's manifest reader looks

    sagemaker.describe_training_job(TrainingJobName="sft-1")
    sm.force_job("training", "sft-1", "Completed")  # completing again registers no second version
    assert len(sagemaker.list_model_packages(ModelPackageGroupName=GROUP)["ModelPackageSummaryList"]) == 1


def test_versions_count_up_in_the_group(sm, sagemaker, group_arn, wait_for):
    sm.clock.freeze()
    for name in ("sft-a", "sft-b"):
        sagemaker.create_training_job(**serverless_args(name, group_arn))
    arns = [wait_for(completed(sagemaker, name))["OutputModelPackageArn"] for name in ("sft-a", "sft-b")]
    assert sorted(arn.rsplit("/", 1)[1] for arn in arns) == ["1", "2"]


def test_full_fine_tune_without_group_registers_nothing_and_writes_no_adapter(sm, sagemaker, wait_for):
    sm.clock.freeze()
    args = serverless_args("full-1", None)
    del args["ServerlessJobConfig"]["Peft"]
    sagemaker.create_training_job(**args)
    done = wait_for(completed(sagemaker, "full-1"))
    assert "OutputModelPackageArn" not in done and "ModelPackageConfig" not in done
    read_s3(sm, "finetune/full-1/checkpoints/hf_merged/config.json")
    with pytest.raises(ClientError, match="NoSuchKey"):
        read_s3(sm, "finetune/full-1/checkpoints/adapter/adapter_config.json")


def test_unknown_group_is_rejected(sm, sagemaker):
    missing = "arn:aws:sagemaker:us-east-1:123456789012:model-package-group/nope"
    with pytest.raises(ClientError, match="does not exist") as err:
        sagemaker.create_training_job(**serverless_args("sft-x", missing))
    assert err.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ClientError):
        sagemaker.describe_training_job(TrainingJobName="sft-x")


def test_stop_ends_stopped_without_a_model_package(sm, sagemaker, group_arn, wait_for):
    sm.configure(training_seconds=600)
    sm.clock.freeze()
    sagemaker.create_training_job(**serverless_args("sft-stop", group_arn))
    sm.clock.advance(200)
    sagemaker.stop_training_job(TrainingJobName="sft-stop")
    assert sagemaker.describe_training_job(TrainingJobName="sft-stop")["TrainingJobStatus"] == "Stopping"
    done = wait_for(completed(sagemaker, "sft-stop", "Stopped"))
    assert done["SecondaryStatus"] == "Stopped" and "OutputModelPackageArn" not in done
    sm.clock.advance(1000)
    assert sagemaker.list_model_packages(ModelPackageGroupName=GROUP)["ModelPackageSummaryList"] == []


def test_rule_fails_a_serverless_job_with_its_reason(sm, sagemaker, group_arn, wait_for):
    sm.clock.freeze()
    sm.add_rule(kind="training", name_glob="sft-bad-*", outcome="Failed", failure_reason="ClientError: bad dataset")
    sagemaker.create_training_job(**serverless_args("sft-bad-1", group_arn))
    done = wait_for(completed(sagemaker, "sft-bad-1", "Failed"))
    assert done["FailureReason"] == "ClientError: bad dataset"
    assert "OutputModelPackageArn" not in done and "FinalMetricDataList" not in done
    assert sagemaker.list_model_packages(ModelPackageGroupName=GROUP)["ModelPackageSummaryList"] == []


def test_serverless_requests_are_logged_with_their_signing_key(sm, sagemaker, group_arn):
    sagemaker.create_training_job(**serverless_args("sft-log", group_arn))
    [record] = sm.requests(operation="CreateTrainingJob", name="sft-log")
    assert record["access_key_id"] == "AKIATESTSAGEMAKER"

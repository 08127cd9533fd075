"""The fine-tune result and its links: JSON-native, same keys whatever the describe holds, URLs shared."""

from __future__ import annotations

import json

from airflow_provider_smtrain.jobs.outputs import finetune_result, training_result
from airflow_provider_smtrain.links.finetune import MlflowLink, ModelPackageLink

BASE = "arn:aws:sagemaker:us-west-2:aws:hub-content/SageMakerPublicHub/Model/huggingface-llm-qwen2-5-7b-instruct/1.1.0"
PACKAGE = "arn:aws:sagemaker:us-west-2:123456789012:model-package/ft-models/7"
MLFLOW = "arn:aws:sagemaker:us-west-2:123456789012:mlflow-app/app-XYZ"

DESCRIBE = {
    "TrainingJobName": "sft-1",
    "TrainingJobStatus": "Completed",
    "ServerlessJobConfig": {"BaseModelArn": BASE, "CustomizationTechnique": "DPO", "JobType": "FineTuning"},
    "ModelPackageConfig": {
        "ModelPackageGroupArn": "arn:aws:sagemaker:us-west-2:123456789012:model-package-group/ft-models",
        "SourceModelPackageArn": "arn:aws:sagemaker:us-west-2:123456789012:model-package/ft-models/6",
    },
    "OutputModelPackageArn": PACKAGE,
    "MlflowConfig": {"MlflowResourceArn": MLFLOW, "MlflowExperimentName": "exp", "MlflowRunName": "r"},
    "MlflowDetails": {"MlflowExperimentId": "12", "MlflowRunId": "abc"},
    "BillableTokenCount": 1234,
}


def test_result_names_the_base_model_the_package_and_mlflow() -> None:
    result = finetune_result(DESCRIBE, "us-west-2")
    assert json.loads(json.dumps(result)) == result
    assert result["technique"] == "DPO" and result["training_type"] == "FULL", "no Peft: full fine-tuning"
    assert result["base_model"] == {
        "id": "huggingface-llm-qwen2-5-7b-instruct", "version": "1.1.0", "hub": "SageMakerPublicHub", "arn": BASE,
    }
    assert result["model_package"]["version"] == 7 and result["model_package_arn"] == PACKAGE
    assert result["source_model_package_arn"].endswith("/ft-models/6")
    assert result["mlflow"]["ui_path"] == "#/experiments/12/runs/abc"
    assert result["billable_token_count"] == 1234
    assert set(training_result(DESCRIBE, "us-west-2")) < set(result)


def test_keys_do_not_depend_on_the_describe_and_the_task_fills_the_gaps() -> None:
    minimal = finetune_result({"TrainingJobName": "x"}, "us-east-1", base_model_id="m", training_type="LORA",
                              technique="SFT")
    assert set(minimal) == set(finetune_result(DESCRIBE, "us-west-2"))
    assert minimal["base_model"]["id"] == "m" and minimal["training_type"] == "LORA" and minimal["technique"] == "SFT"
    assert minimal["model_package"] == {"arn": None, "group_arn": None, "version": None, "console_url": None}
    assert minimal["serverless"] is False


def test_links_point_where_the_result_does() -> None:
    result = finetune_result(DESCRIBE, "us-west-2")
    assert ModelPackageLink().format_link(region_name="us-west-2", arn=PACKAGE) == result["model_package"]["console_url"]
    assert MlflowLink().format_link(region_name="us-west-2", arn=MLFLOW) == result["mlflow"]["console_url"]
    assert ModelPackageLink().format_link(region_name="us-west-2") == ""


def test_result_is_documented_key_for_key() -> None:
    from tests.contracts.test_catalog import OUTPUTS_DOC, documented_result_keys

    assert documented_result_keys("Fine-tune result") == set(finetune_result(DESCRIBE, "us-west-2"))
    text = OUTPUTS_DOC.read_text()
    assert ModelPackageLink.key in text and MlflowLink.key in text

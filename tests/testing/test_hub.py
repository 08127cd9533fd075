"""SageMaker hubs: the public hub's fine-tuning catalogue, private hub content on the clock, model packages."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from botocore.exceptions import ClientError

from airflow_provider_smtrain.testing.services.hub import public_models
from airflow_provider_smtrain.testing.services.hub.public_models import MODELS, PUBLIC_HUB_NAME
from tests.testing import shapes

LLAMA_1B = "meta-textgeneration-llama-3-2-1b-instruct"


def describe_model(sagemaker: Any, model_id: str, **kwargs: Any) -> dict[str, Any]:
    return sagemaker.describe_hub_content(
        HubName=PUBLIC_HUB_NAME, HubContentType="Model", HubContentName=model_id, **kwargs
    )


def import_content(sagemaker: Any, name: str, version: str = "1.0.0", **kwargs: Any) -> dict[str, Any]:
    args = {
        "HubName": "registry",
        "HubContentType": "DataSet",
        "HubContentName": name,
        "HubContentVersion": version,
        "DocumentSchemaVersion": "2.0.0",
        "HubContentDocument": json.dumps({"DatasetS3Bucket": "b", "DatasetS3Prefix": f"{name}.jsonl"}),
        "HubContentSearchKeywords": ["method:generated"],
    }
    args.update(kwargs)
    result: dict[str, Any] = sagemaker.import_hub_content(**args)
    return result


def content_state(sagemaker: Any, name: str, **kwargs: Any) -> tuple[str, str | None]:
    described = sagemaker.describe_hub_content(
        HubName="registry", HubContentType="DataSet", HubContentName=name, **kwargs
    )
    return described["HubContentStatus"], described.get("FailureReason")


@pytest.mark.parametrize("model_id", sorted(MODELS))
def test_every_public_model_has_its_recipes_and_specs_where_the_document_says(sm, sagemaker, model_id):
    entry = MODELS[model_id]
    described = describe_model(sagemaker, model_id)
    assert described["HubContentArn"] == (
        f"arn:aws:sagemaker:us-east-1:aws:hub-content/{PUBLIC_HUB_NAME}/Model/{model_id}/{entry.version}"
    )
    assert described["HubContentStatus"] == "Available"
    document = json.loads(described["HubContentDocument"])
    assert document["GatedBucket"] is entry.gated
    recipes = [r for r in document["RecipeCollection"] if r["Type"] == "FineTuning"]  # Evaluation ones too
    assert {(r["CustomizationTechnique"], "LORA" if r.get("Peft") else "FULL") for r in recipes} == set(
        entry.recipes()
    )
    for recipe in recipes:
        technique, training_type = (
            recipe["CustomizationTechnique"],
            ("LORA" if recipe.get("Peft") else "FULL"),
        )
        bucket, key = recipe["SmtjOverrideParamsS3Uri"][len("s3://") :].split("/", 1)
        assert bucket == "jumpstart-cache-prod-us-east-1"
        spec = json.loads(sm.get_object(bucket, key))
        assert spec == entry.override_spec(technique, training_type)
        assert ("lora_rank" in spec) is (training_type == "LORA")
        bucket, key = recipe["SmtjRecipeTemplateS3Uri"][len("s3://") :].split("/", 1)
        template = yaml.safe_load(sm.get_object(bucket, key))
        assert template["training_config"]["learning_rate"] == "{{learning_rate}}"
        assert template["run"]["model_name_or_path"] == entry.hf_model_id
    # the AWS-owned bucket is not the caller's
    assert [b["Name"] for b in sm.boto3_client("s3").list_buckets()["Buckets"]] == ["local-sm-tests"]


def test_override_specs_are_realistic_and_consistent():
    spec = public_models.override_spec(LLAMA_1B, "SFT", "LORA")
    assert spec["learning_rate"] == {"type": "float", "default": 1e-4, "min": 1e-7, "max": 1e-3}
    assert spec["lora_rank"]["enum"] == [4, 8, 16, 32, 64, 128]
    assert spec["dataset_max_len"]["max"] == 4096
    rlaif = public_models.override_spec("huggingface-llm-qwen2-5-7b-instruct", "RLAIF", "FULL")
    assert "summarize.jinja" in rlaif["judge_prompt_template"]["enum"]
    assert rlaif["max_prompt_length"]["default"] + rlaif["max_response_length"]["default"] <= 8192
    assert "beta" in public_models.override_spec(LLAMA_1B, "DPO", "FULL")
    with pytest.raises(ValueError, match="has no MTRL FULL recipe"):
        public_models.override_spec("huggingface-llm-qwen2-5-7b-instruct", "MTRL", "FULL")
    for entry in MODELS.values():
        for technique, training_type in entry.recipes():
            for name, item in entry.override_spec(technique, training_type).items():
                if "default" in item and "min" in item:
                    assert item["min"] <= item["default"] <= item["max"], (entry.model_id, technique, name)


def test_public_hub_lists_models_with_recipe_keywords_and_refuses_unknown_ones(sm, sagemaker):
    listed = sagemaker.list_hub_contents(HubName=PUBLIC_HUB_NAME, HubContentType="Model", MaxResults=100)
    names = [s["HubContentName"] for s in listed["HubContentSummaries"]]
    assert names == sorted(MODELS)
    keywords = {s["HubContentName"]: s["HubContentSearchKeywords"] for s in listed["HubContentSummaries"]}
    assert "@recipe:finetuning_mtrl_lora" in keywords["huggingface-llm-qwen2-5-7b-instruct"]
    assert "@recipe:finetuning_mtrl_lora" not in keywords[LLAMA_1B]
    versions = sagemaker.list_hub_content_versions(
        HubName=PUBLIC_HUB_NAME, HubContentType="Model", HubContentName=LLAMA_1B
    )["HubContentSummaries"]
    assert [v["HubContentVersion"] for v in versions] == [MODELS[LLAMA_1B].version]
    for bad in ({"HubContentName": "meta-textgeneration-llama-99"}, {"HubContentVersion": "9.9.9"}):
        with pytest.raises(ClientError) as err:
            describe_model(sagemaker, bad.pop("HubContentName", LLAMA_1B), **bad)
        assert err.value.response["Error"]["Code"] == "ResourceNotFound"
    hub = sagemaker.describe_hub(HubName=PUBLIC_HUB_NAME)
    assert hub["HubArn"] == f"arn:aws:sagemaker:us-east-1:aws:hub/{PUBLIC_HUB_NAME}"


def test_public_hub_has_no_models_outside_the_customization_regions(sm):
    import boto3

    client = shapes.install(
        boto3.session.Session().client(
            "sagemaker",
            region_name="eu-central-1",
            endpoint_url=sm.endpoint_url,
            aws_access_key_id="AKIAFRANKFURT",
            aws_secret_access_key="x",
        )
    )
    with pytest.raises(ClientError) as err:
        describe_model(client, LLAMA_1B)
    assert err.value.response["Error"]["Code"] == "ResourceNotFound"
    assert (
        client.list_hub_contents(HubName=PUBLIC_HUB_NAME, HubContentType="Model")["HubContentSummaries"] == []
    )


def test_hub_content_import_goes_from_importing_to_available_on_the_clock(sm, sagemaker):
    sm.configure(hub_import_seconds=30)
    sm.clock.freeze()
    created = sagemaker.create_hub(
        HubName="registry", HubDescription="AI Registry Hub", HubDisplayName="AiRegistry"
    )
    assert created["HubArn"] == "arn:aws:sagemaker:us-east-1:123456789012:hub/registry"
    assert sagemaker.describe_hub(HubName="registry")["HubStatus"] == "InService"
    imported = import_content(sagemaker, "train-set")
    assert imported["HubContentArn"] == (
        "arn:aws:sagemaker:us-east-1:123456789012:hub-content/registry/DataSet/train-set/1.0.0"
    )
    assert content_state(sagemaker, "train-set") == ("Importing", None)
    sm.clock.advance(29.9)
    assert content_state(sagemaker, "train-set") == ("Importing", None)
    sm.clock.advance(0.1)
    described = sagemaker.describe_hub_content(
        HubName="registry", HubContentType="DataSet", HubContentName="train-set"
    )
    assert described["HubContentStatus"] == "Available"
    assert (described["LastModifiedTime"] - described["CreationTime"]).total_seconds() == pytest.approx(30)
    assert described["HubContentSearchKeywords"] == ["method:generated"]
    assert json.loads(described["HubContentDocument"])["DatasetS3Prefix"] == "train-set.jsonl"
    assert [r["operation"] for r in sm.requests(name="train-set")] == ["ImportHubContent"] + [
        "DescribeHubContent"
    ] * 3


def test_import_fails_with_the_reason_when_a_rule_says_so(sm, sagemaker):
    sm.add_rule(
        kind="hub_content", name_glob="bad-*", outcome="Failed", failure_reason="Dataset format is invalid"
    )
    sm.clock.freeze()
    sagemaker.create_hub(HubName="registry", HubDescription="d")
    import_content(sagemaker, "bad-set")
    import_content(sagemaker, "good-set")
    assert content_state(sagemaker, "bad-set") == ("Importing", None)
    sm.clock.advance(2.0)
    assert content_state(sagemaker, "bad-set") == ("ImportFailed", "Dataset format is invalid")
    assert content_state(sagemaker, "good-set") == ("Available", None)
    sm.force_job("hub_content", "good-set", "ImportFailed", failure_reason="forced")
    assert content_state(sagemaker, "good-set") == ("ImportFailed", "forced")
    with pytest.raises(Exception, match="status must be one of"):
        sm.force_job("hub_content", "good-set", "Completed")


def test_versions_latest_first_duplicates_and_deletion(sm, sagemaker):
    sm.clock.freeze()
    sagemaker.create_hub(HubName="registry", HubDescription="d")
    import_content(sagemaker, "ds", "1.0.0")
    sm.clock.advance(5)
    import_content(sagemaker, "ds", "2.0.0", HubContentSearchKeywords=["method:uploaded"])
    assert (
        sagemaker.describe_hub_content(HubName="registry", HubContentType="DataSet", HubContentName="ds")[
            "HubContentVersion"
        ]
        == "2.0.0"
    )
    assert content_state(sagemaker, "ds", HubContentVersion="1.0.0") == ("Available", None)
    assert content_state(sagemaker, "ds") == ("Importing", None)
    versions = sagemaker.list_hub_content_versions(
        HubName="registry", HubContentType="DataSet", HubContentName="ds"
    )
    assert [v["HubContentVersion"] for v in versions["HubContentSummaries"]] == ["1.0.0", "2.0.0"]
    for version, code in (
        ("2.0.0", "ResourceInUse"),
        ("1.5.0", "ValidationException"),
        ("v3.0.0", "ValidationException"),
    ):
        with pytest.raises(ClientError) as err:
            import_content(sagemaker, "ds", version)
        assert err.value.response["Error"]["Code"] == code
    listed = sagemaker.list_hub_contents(HubName="registry", HubContentType="DataSet")["HubContentSummaries"]
    assert [(s["HubContentName"], s["HubContentVersion"]) for s in listed] == [("ds", "2.0.0")]
    assert (
        sagemaker.list_hub_contents(HubName="registry", HubContentType="JsonDoc")["HubContentSummaries"] == []
    )
    sagemaker.delete_hub_content(
        HubName="registry", HubContentType="DataSet", HubContentName="ds", HubContentVersion="2.0.0"
    )
    assert (
        sagemaker.describe_hub_content(HubName="registry", HubContentType="DataSet", HubContentName="ds")[
            "HubContentVersion"
        ]
        == "1.0.0"
    )
    sagemaker.delete_hub_content(
        HubName="registry", HubContentType="DataSet", HubContentName="ds", HubContentVersion="1.0.0"
    )
    with pytest.raises(ClientError) as err:
        content_state(sagemaker, "ds")
    assert err.value.response["Error"]["Code"] == "ResourceNotFound"


def test_hub_errors_are_sagemakers(sm, sagemaker):
    with pytest.raises(
        sagemaker.exceptions.ResourceNotFound
    ):  # what the AI Registry catches to create its hub
        sagemaker.describe_hub(HubName="AiRegistryHub")
    with pytest.raises(sagemaker.exceptions.ResourceNotFound):
        import_content(sagemaker, "ds")
    with pytest.raises(sagemaker.exceptions.ResourceNotFound):
        sagemaker.list_hub_content_versions(HubName="registry", HubContentType="DataSet", HubContentName="ds")
    sagemaker.create_hub(HubName="registry", HubDescription="d")
    with pytest.raises(sagemaker.exceptions.ResourceInUse):
        sagemaker.create_hub(HubName="registry", HubDescription="d")
    with pytest.raises(ClientError, match="regular expression pattern"):
        sagemaker.create_hub(HubName="bad_name", HubDescription="d")
    assert [h["HubName"] for h in sagemaker.list_hubs()["HubSummaries"]] == ["registry"]
    with pytest.raises(ClientError, match="public hub"):
        import_content(sagemaker, "ds", HubName=PUBLIC_HUB_NAME)
    sagemaker.delete_hub(HubName="registry")
    assert sagemaker.list_hubs()["HubSummaries"] == []


def test_registered_model_packages_name_their_base_model_and_count_versions(sm, sagemaker):
    sagemaker.create_model_package_group(ModelPackageGroupName="fine-tuned")
    group = sagemaker.describe_model_package_group(ModelPackageGroupName="fine-tuned")
    by_arn = sagemaker.describe_model_package_group(ModelPackageGroupName=group["ModelPackageGroupArn"])
    assert by_arn["ModelPackageGroupName"] == "fine-tuned"  # SageMaker takes a name or an ARN
    arns = [
        sm.register_model_package(
            group["ModelPackageGroupArn"],
            training_job_name=f"sft-{n}",
            training_job_arn=f"arn:aws:sagemaker:us-east-1:123456789012:training-job/sft-{n}",
            model_data_s3_uri=f"s3://out/sft-{n}/output/model/",
            base_model=LLAMA_1B,
            recipe_name="llmft_llama3_2_1b_instruct_seq4k_gpu_sft_lora",
        )
        for n in (1, 2)
    ]
    assert arns == [f"arn:aws:sagemaker:us-east-1:123456789012:model-package/fine-tuned/{n}" for n in (1, 2)]
    package = sagemaker.describe_model_package(ModelPackageName=arns[1])
    assert (package["ModelPackageName"], package["ModelPackageVersion"]) == ("fine-tuned", 2)
    container = package["InferenceSpecification"]["Containers"][0]
    assert container["BaseModel"] == {
        "HubContentName": LLAMA_1B,
        "HubContentVersion": MODELS[LLAMA_1B].version,
        "RecipeName": "llmft_llama3_2_1b_instruct_seq4k_gpu_sft_lora",
    }
    assert container["ModelDataSource"]["S3DataSource"]["S3Uri"] == "s3://out/sft-2/output/model/"
    assert package["CustomerMetadataProperties"]["TrainingJobName"] == "sft-2"
    assert package["ModelApprovalStatus"] == "PendingManualApproval"
    sagemaker.update_model_package(ModelPackageArn=arns[1], ModelApprovalStatus="Approved")
    assert sagemaker.describe_model_package(ModelPackageName=arns[1])["ModelApprovalStatus"] == "Approved"
    listed = sagemaker.list_model_packages(ModelPackageGroupName="fine-tuned")["ModelPackageSummaryList"]
    assert sorted(p["ModelPackageArn"] for p in listed) == arns
    with pytest.raises(Exception, match="cannot register a model package in 'missing'"):
        sm.register_model_package(
            "missing",
            training_job_name="x",
            training_job_arn="arn",
            model_data_s3_uri="s3://o/m/",
            base_model=LLAMA_1B,
        )
    with pytest.raises(ClientError) as err:
        sagemaker.describe_model_package_group(ModelPackageGroupName="missing")
    assert err.value.response["Error"]["Code"] == "ValidationException"


HUB_OPERATIONS = [
    "CreateHub",
    "DescribeHub",
    "ListHubs",
    "DeleteHub",
    "ImportHubContent",
    "DescribeHubContent",
    "ListHubContents",
    "ListHubContentVersions",
    "DeleteHubContent",
    "CreateModelPackageGroup",
    "DescribeModelPackageGroup",
    "DescribeModelPackage",
    "ListModelPackages",
    "UpdateModelPackage",
]


def test_every_hub_and_model_package_response_matches_botocore(sm, sagemaker):
    shapes.CHECKED.clear()
    for scenario in (
        test_versions_latest_first_duplicates_and_deletion,
        test_hub_errors_are_sagemakers,
        test_registered_model_packages_name_their_base_model_and_count_versions,
    ):
        sm.reset()
        scenario(sm, sagemaker)
    describe_model(sagemaker, LLAMA_1B)
    sagemaker.create_hub(
        HubName="registry", HubDescription="d", S3StorageConfig={"S3OutputPath": "s3://b/hub"}
    )
    assert sagemaker.describe_hub(HubName="registry")["S3StorageConfig"] == {"S3OutputPath": "s3://b/hub"}
    sagemaker.describe_hub(HubName=PUBLIC_HUB_NAME)
    sagemaker.list_hub_contents(HubName=PUBLIC_HUB_NAME, HubContentType="Model")
    missing = [op for op in HUB_OPERATIONS if ("sagemaker", op) not in shapes.CHECKED]
    assert missing == []


def test_faults_and_the_request_log_cover_hub_operations(sm, sagemaker):
    sagemaker.create_hub(HubName="registry", HubDescription="d")
    sm.fail_next("DescribeHubContent", code="ThrottlingException", status=400)
    with pytest.raises(ClientError) as err:
        describe_model(sagemaker, LLAMA_1B)
    assert err.value.response["Error"]["Code"] == "ThrottlingException"
    sm.fail_next("ImportHubContent", kind="lost_response")
    with pytest.raises(Exception):  # noqa: B017 - the connection is reset: botocore's connection error
        import_content(sagemaker, "lost")
    assert content_state(sagemaker, "lost") == ("Importing", None)  # carried out, answer lost
    logged = sm.requests(name="lost")
    assert [(r["operation"], r["fault"]) for r in logged] == [
        ("ImportHubContent", "lost_response"),
        ("DescribeHubContent", None),
    ]
    assert {r["access_key_id"] for r in logged} == {"AKIATESTSAGEMAKER"}

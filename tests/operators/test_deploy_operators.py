"""DeployModelOperator and ApproveModelPackageOperator against the local SageMaker."""

from __future__ import annotations

from typing import Any

import pytest
from airflow.sdk.exceptions import TaskDeferred

from airflow_provider_smtrain.exceptions import SageMakerJobFailed
from airflow_provider_smtrain.jobs.identity import STATE_KEY
from airflow_provider_smtrain.operators.deploy import DeployModelOperator
from airflow_provider_smtrain.operators.model_package import ApproveModelPackageOperator
from airflow_provider_smtrain.specs import SpecValidationError
from tests.operators.conftest import CONNECTION_ACCESS_KEY, Env
from tests.operators.runner import FakeTI, MemoryStateStore, WorkerDied, rebuild_trigger, run_operator

IMAGE = "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.5-gpu"
GROUP = "chat-models"


@pytest.fixture
def dep_env(env: Env) -> Env:
    env.sm.configure(endpoint_seconds=0.6)
    env.sm.boto3_client("sagemaker").create_model_package_group(ModelPackageGroupName=GROUP)
    return env


def register(env: Env, job: str = "ft-1") -> str:
    arn: str = env.sm.register_model_package(
        GROUP, training_job_name=job, training_job_arn=f"arn:aws:sagemaker:us-east-1:123456789012:training-job/{job}",
        model_data_s3_uri=f"s3://{env.bucket}/{job}/checkpoints/hf_merged/",
        base_model="meta-textgeneration-llama-3-2-1b-instruct",
    )
    return arn


def deploy_operator(env: Env, **overrides: Any) -> DeployModelOperator:
    kwargs: dict[str, Any] = {
        "endpoint_name": "chat-endpoint",
        "role": env.role_arn,
        "instance_type": "ml.g5.2xlarge",
        "deferrable": False,
        "poll_interval": 0.2,
    }
    kwargs.update(overrides)
    return DeployModelOperator(task_id="deploy", aws_conn_id=env.conn_id, **kwargs)


def calls(env: Env, operation: str) -> list[dict[str, Any]]:
    return [r for r in env.sm.requests(operation=operation) if r["fault"] is None or r["status_code"] is not None]


def test_a_fine_tune_result_is_deployed_to_a_new_endpoint_in_service(dep_env: Env, ti: FakeTI,
                                                                     store: MemoryStateStore) -> None:
    package = register(dep_env)
    fine_tune_result = {"kind": "training", "job_name": "ft-1", "model_package_arn": package, "status": "Completed"}
    result = run_operator(deploy_operator(dep_env, model_package_arn=fine_tune_result), ti, store)
    assert (result["status"], result["endpoint_name"], result["model_package_arn"]) == (
        "InService", "chat-endpoint", package)
    assert result["endpoint_config_name"] == result["deployed_endpoint_config_name"] == result["model_name"]
    assert result["endpoint_arn"] == "arn:aws:sagemaker:us-east-1:123456789012:endpoint/chat-endpoint"
    assert result["variants"][0]["name"] == "AllTraffic" and result["variants"][0]["current_instance_count"] == 1
    assert result["console_url"].endswith("#/endpoints/chat-endpoint")
    assert ti.xcoms["smtrain_endpoint"]["job_name"] == "chat-endpoint"
    model = dep_env.sm.boto3_client("sagemaker").describe_model(ModelName=result["model_name"])
    assert model["PrimaryContainer"]["ModelPackageName"] == package
    assert [len(calls(dep_env, op)) for op in ("CreateModel", "CreateEndpointConfig", "CreateEndpoint")] == [1, 1, 1]
    assert calls(dep_env, "UpdateEndpoint") == []


def test_an_existing_endpoint_is_updated_with_a_new_config(dep_env: Env) -> None:
    first = run_operator(deploy_operator(dep_env, model_package_arn=register(dep_env)), FakeTI(), MemoryStateStore())
    second_package = register(dep_env, "ft-2")
    later = FakeTI(run_id="manual__2026-01-02")
    result = run_operator(deploy_operator(dep_env, model_package_arn=second_package), later, MemoryStateStore())
    assert result["status"] == "InService" and result["endpoint_config_name"] != first["endpoint_config_name"]
    assert result["endpoint_config_name"] == result["deployed_endpoint_config_name"]
    assert len(calls(dep_env, "UpdateEndpoint")) == 1 and len(calls(dep_env, "CreateEndpoint")) == 1


def test_training_artifacts_and_an_image_are_deployed(dep_env: Env, ti: FakeTI, store: MemoryStateStore) -> None:
    training_result = {"kind": "training", "model_artifacts": f"s3://{dep_env.bucket}/models/job/output/model.tar.gz"}
    result = run_operator(
        deploy_operator(dep_env, model_data_url=training_result, image=IMAGE, instance_type="ml.m5.large",
                        initial_instance_count=2, environment={"SAGEMAKER_PROGRAM": "inference.py"}),
        ti, store,
    )
    assert result["variants"][0]["image"] == IMAGE and result["variants"][0]["current_instance_count"] == 2
    model = dep_env.sm.boto3_client("sagemaker").describe_model(ModelName=result["model_name"])
    assert model["PrimaryContainer"]["ModelDataUrl"] == training_result["model_artifacts"]
    assert model["PrimaryContainer"]["Environment"] == {"SAGEMAKER_PROGRAM": "inference.py"}


def test_a_retry_while_updating_reattaches_without_a_second_config(
    dep_env: Env, ti: FakeTI, store: MemoryStateStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_operator(deploy_operator(dep_env, model_package_arn=register(dep_env)), FakeTI(), MemoryStateStore())
    dep_env.sm.clock.freeze()  # the update stays Updating until the clock moves
    package = register(dep_env, "ft-2")

    def die(*args: Any, **kwargs: Any) -> None:
        raise WorkerDied

    with monkeypatch.context() as patched:
        patched.setattr(DeployModelOperator, "_wait_and_finish", die)
        with pytest.raises(WorkerDied):
            run_operator(deploy_operator(dep_env, model_package_arn=package), ti, store)
    assert store.get(STATE_KEY)["job_name"] == "chat-endpoint"
    sagemaker = dep_env.sm.boto3_client("sagemaker")
    assert sagemaker.describe_endpoint(EndpointName="chat-endpoint")["EndpointStatus"] == "Updating"

    with pytest.raises(TaskDeferred):  # the retry finds its update in flight and defers on it
        run_operator(deploy_operator(dep_env, model_package_arn=package, deferrable=True), ti.retry(), store,
                     run_trigger=False)
    dep_env.sm.clock.resume()
    dep_env.sm.clock.advance(1)
    result = run_operator(deploy_operator(dep_env, model_package_arn=package), ti.retry(), store)
    assert result["status"] == "InService" and result["model_package_arn"] == package
    assert len(calls(dep_env, "UpdateEndpoint")) == 1
    assert len(calls(dep_env, "CreateEndpointConfig")) == 2, "one per task instance: no second config on retry"
    assert len(sagemaker.list_endpoint_configs()["EndpointConfigs"]) == 2


def test_a_lost_update_response_is_reconciled_not_repeated(dep_env: Env) -> None:
    run_operator(deploy_operator(dep_env, model_package_arn=register(dep_env)), FakeTI(), MemoryStateStore())
    dep_env.sm.fail_next("UpdateEndpoint", kind="lost_response")
    later = FakeTI(run_id="manual__2026-01-02")
    result = run_operator(deploy_operator(dep_env, model_package_arn=register(dep_env, "ft-2")), later,
                          MemoryStateStore())
    assert result["status"] == "InService" and result["endpoint_config_name"] == result["model_name"]
    updates = dep_env.sm.requests(operation="UpdateEndpoint")
    # botocore resends after the reset; SageMaker refuses the resend (in progress), the task reconciles
    assert [r["status_code"] for r in updates if r["fault"] is None] in ([], [400])
    assert [r["fault"] for r in updates][0] == "lost_response"


@pytest.mark.parametrize("deferrable", [False, True])
def test_a_failed_endpoint_fails_the_task_with_the_reason_and_the_retry_deploys_again(
    dep_env: Env, ti: FakeTI, store: MemoryStateStore, deferrable: bool
) -> None:
    dep_env.sm.add_rule(kind="endpoint", name_glob="chat-endpoint", outcome="Failed", times=1,
                        failure_reason="ModelError: the container did not pass the ping health check")
    package = register(dep_env)
    with pytest.raises(SageMakerJobFailed, match="ended Failed: ModelError: the container did not pass the ping"):
        run_operator(deploy_operator(dep_env, model_package_arn=package, deferrable=deferrable), ti, store)
    result = run_operator(deploy_operator(dep_env, model_package_arn=package, deferrable=deferrable), ti.retry(),
                          store)
    assert result["status"] == "InService" and store.get(STATE_KEY)["generation"] == 2
    assert len(calls(dep_env, "UpdateEndpoint")) == 1, "the failed endpoint is updated to generation 2's config"


def test_deferral_goes_through_the_endpoint_trigger(dep_env: Env, ti: FakeTI, store: MemoryStateStore) -> None:
    operator = deploy_operator(dep_env, model_package_arn=register(dep_env), deferrable=True)
    with pytest.raises(TaskDeferred) as deferred:
        operator.execute({"ti": ti, "task_state_store": store, "params": {}})
    classpath, kwargs = rebuild_trigger(deferred.value.trigger).serialize()
    assert classpath.endswith("triggers.endpoint.EndpointTrigger")
    assert kwargs["job_name"] == "chat-endpoint"
    assert kwargs["stop_on_kill"] is False and kwargs["stop_on_deadline"] is False
    result = run_operator(deploy_operator(dep_env, model_package_arn=register(dep_env), deferrable=True), ti, store)
    assert result["status"] == "InService"
    assert len(calls(dep_env, "CreateEndpoint")) == 1


def test_every_request_is_signed_by_the_connection(dep_env: Env, ambient_access_key: str) -> None:
    package = register(dep_env)
    dep_env.sm.clear_requests()
    run_operator(ApproveModelPackageOperator(task_id="approve", aws_conn_id=dep_env.conn_id,
                                             model_package_arn=package), FakeTI(), MemoryStateStore())
    run_operator(deploy_operator(dep_env, model_package_arn=package, deferrable=True), FakeTI(), MemoryStateStore())
    requests = [r for r in dep_env.sm.requests() if r["service"] != "local"]
    operations = {r["operation"] for r in requests}
    assert {"UpdateModelPackage", "DescribeModelPackage", "CreateModel", "CreateEndpointConfig", "CreateEndpoint",
            "DescribeEndpoint"} <= operations, operations
    signers = {r["access_key_id"] for r in requests}
    assert signers == {CONNECTION_ACCESS_KEY} and ambient_access_key not in signers


def test_approve_is_idempotent_and_accepts_a_fine_tune_result(dep_env: Env) -> None:
    package = register(dep_env)

    def approve() -> dict[str, Any]:
        op = ApproveModelPackageOperator(task_id="approve", aws_conn_id=dep_env.conn_id,
                                         model_package_arn={"model_package_arn": package},
                                         approval_description="eval passed")
        result: dict[str, Any] = run_operator(op, FakeTI(), MemoryStateStore())
        return result

    first = approve()
    assert (first["status"], first["previous_status"], first["changed"]) == ("Approved", "PendingManualApproval", True)
    assert (first["model_package_group_name"], first["version"]) == (GROUP, 1)
    assert first["console_url"].endswith(f"model-package-groups/{GROUP}/versions/1")
    second = approve()
    assert (second["status"], second["changed"]) == ("Approved", False)
    assert len(dep_env.sm.requests(operation="UpdateModelPackage")) == 1


@pytest.mark.parametrize(
    ("overrides", "field", "accepted"),
    [
        ({"instance_type": "g5.2xlarge"}, "instance_type", "an instance type like ml.g5.2xlarge"),
        ({"initial_instance_count": 0}, "initial_instance_count", "must be >= 1"),
        ({"initial_instance_count": 101}, "initial_instance_count", "must be <= 100"),
        ({"endpoint_name": "chat_endpoint"}, "endpoint_name", "letters, digits and hyphens"),
        ({"endpoint_name": "x" * 64}, "endpoint_name", "at most 63"),
        ({"variant_name": "-all"}, "variant_name", "letters, digits and hyphens"),
        ({"model_package_arn": None}, "model_package_arn", "give exactly one of model_package_arn"),
        ({"model_package_arn": "arn:aws:sagemaker:us-east-1:123456789012:model-package-group/g"},
         "model_package_arn", "a model package version ARN"),
        ({"model_package_arn": {"kind": "training", "model_package_arn": None}}, "model_package_arn",
         "has no model_package_arn"),
        ({"model_package_arn": None, "model_data_url": "s3://bucket/model.tar.gz"}, "image", "is required"),
        ({"model_package_arn": None, "model_data_url": "/tmp/model.tar.gz", "image": IMAGE}, "model_data_url",
         "an S3 URI"),
        ({"role": "SageMakerRole"}, "role", "an IAM role ARN"),
    ],
)
def test_bad_input_is_rejected_naming_the_field_before_any_aws_call(
    dep_env: Env, overrides: dict[str, Any], field: str, accepted: str
) -> None:
    args = {"model_package_arn": "arn:aws:sagemaker:us-east-1:123456789012:model-package/chat-models/1", **overrides}
    dep_env.sm.clear_requests()
    with pytest.raises(SpecValidationError, match=field) as err:
        run_operator(deploy_operator(dep_env, **args), FakeTI(), MemoryStateStore())
    assert accepted in str(err.value)
    assert [r for r in dep_env.sm.requests() if r["service"] != "local"] == []


def test_a_model_package_that_does_not_exist_is_named_before_anything_is_created(dep_env: Env) -> None:
    missing = "arn:aws:sagemaker:us-east-1:123456789012:model-package/chat-models/9"
    with pytest.raises(ValueError, match="model_package_arn: there is no model package"):
        run_operator(deploy_operator(dep_env, model_package_arn=missing), FakeTI(), MemoryStateStore())
    assert calls(dep_env, "CreateModel") == [] and calls(dep_env, "CreateEndpoint") == []

"""Server process, control API, client helpers and pytest plugin of LocalSageMaker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
from botocore.exceptions import ClientError

from airflow_provider_smtrain.testing import LocalSageMaker, LocalSageMakerError
from airflow_provider_smtrain.testing.config import ensure_loopback
from airflow_provider_smtrain.testing.server.requests_log import identify_request


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "localhost"])
def test_loopback_hosts_are_accepted(host):
    assert ensure_loopback(host) in ("127.0.0.1", "127.0.0.2", "::1")


@pytest.mark.parametrize("host", ["0.0.0.0", "10.1.2.3", "::", "example.com", "192.168.0.1"])
def test_non_loopback_hosts_are_refused(host):
    with pytest.raises(ValueError, match="refusing to bind"):
        ensure_loopback(host)
    with pytest.raises(ValueError):
        LocalSageMaker(host=host)


def test_serve_cli_refuses_non_loopback_host(tmp_path):
    port_file = tmp_path / "port"
    proc = subprocess.run(
        [sys.executable, "-m", "airflow_provider_smtrain.testing", "serve", "--host", "0.0.0.0",
         "--port-file", str(port_file)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 2
    assert "not a loopback address" in proc.stderr
    assert not port_file.exists()


def test_importing_the_package_does_not_import_moto_or_boto3():
    code = (
        "import sys, airflow_provider_smtrain.testing as t; "
        "assert t.LocalSageMaker; "
        "heavy = [m for m in ('moto', 'boto3', 'botocore', 'werkzeug', 'airflow') if m in sys.modules]; "
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=True)
    assert out.stdout.strip() == "[]"


def test_health_port_and_endpoint(local_sagemaker_server):
    sm = local_sagemaker_server
    health = sm.health()
    assert health["status"] == "ok"
    assert health["pid"] != os.getpid()
    assert sm.endpoint_url == f"http://127.0.0.1:{sm.port}"
    assert sm.running


def test_configure_and_reset_restore_defaults(local_sagemaker):
    sm = local_sagemaker
    defaults = sm.health()["config"]
    assert sm.configure(training_seconds=7.5, stop_seconds=0.1)["training_seconds"] == 7.5
    sm.add_rule(name_glob="x-*")
    sm.set_faults(throttle_rate=0.5, seed=1)
    sm.fail_next("ListTrainingJobs", code="AccessDeniedException")
    sm.create_bucket("reset-me")
    sm.boto3_client("sagemaker").list_training_jobs  # noqa: B018 - client creation only
    assert sm.requests()
    sm.reset()
    assert sm.health()["config"] == defaults
    assert sm.rules() == []
    assert sm.requests() == []
    s3 = sm.boto3_client("s3")
    assert s3.list_buckets()["Buckets"] == []  # moto state cleared
    assert sm.boto3_client("sagemaker").list_training_jobs()["TrainingJobSummaries"] == []  # no fail_next left
    with pytest.raises(LocalSageMakerError, match="unknown setting"):
        sm._control("POST", "config", {"bogus": 1})
    with pytest.raises(LocalSageMakerError, match="404"):
        sm._control("GET", "nope")
    with pytest.raises(LocalSageMakerError, match="outcome"):
        sm.add_rule(outcome="Exploded")


def test_attach_controls_the_same_server(local_sagemaker):
    attached = LocalSageMaker.attach(local_sagemaker.endpoint_url, region="us-east-1")
    assert attached.endpoint_url == local_sagemaker.endpoint_url
    attached.configure(training_seconds=4.0)
    assert local_sagemaker.health()["config"]["training_seconds"] == 4.0
    attached.stop()  # no-op for attached servers
    assert local_sagemaker.health()["status"] == "ok"


def test_convenience_helpers(local_sagemaker):
    sm = local_sagemaker
    sm.create_bucket("helpers-bucket")
    sm.put_object("helpers-bucket", "a/b.txt", "hello")
    assert sm.get_object("helpers-bucket", "a/b.txt") == b"hello"
    arn = sm.create_role("SageMakerExecution")
    assert arn == "arn:aws:iam::123456789012:role/SageMakerExecution"
    role = sm.boto3_client("iam").get_role(RoleName="SageMakerExecution")["Role"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    env = sm.aws_env(access_key_id="AKIAENVKEY", secret_access_key="s3cr3t")
    assert env == {
        "AWS_ENDPOINT_URL": sm.endpoint_url,
        "AWS_ACCESS_KEY_ID": "AKIAENVKEY",
        "AWS_SECRET_ACCESS_KEY": "s3cr3t",
        "AWS_DEFAULT_REGION": "us-east-1",
    }


def test_simulate_principal_policy_parses_in_boto3(local_sagemaker):
    iam = local_sagemaker.boto3_client("iam")
    result = iam.simulate_principal_policy(
        PolicySourceArn="arn:aws:iam::123456789012:role/SageMakerRole",
        ActionNames=["s3:PutObject", "sagemaker:CreateTrainingJob"],
        ResourceArns=["arn:aws:s3:::bucket/*"],
    )
    assert result["IsTruncated"] is False
    assert [(r["EvalActionName"], r["EvalResourceName"], r["EvalDecision"]) for r in result["EvaluationResults"]] == [
        ("s3:PutObject", "arn:aws:s3:::bucket/*", "allowed"),
        ("sagemaker:CreateTrainingJob", "arn:aws:s3:::bucket/*", "allowed"),
    ]
    pages = list(
        iam.get_paginator("simulate_principal_policy").paginate(
            PolicySourceArn="arn:aws:iam::123456789012:role/SageMakerRole", ActionNames=["s3:GetObject"]
        )
    )
    assert [r["EvalDecision"] for p in pages for r in p["EvaluationResults"]] == ["allowed"]


def test_airflow_connection_uri_and_json_round_trip(local_sagemaker, monkeypatch):
    from airflow.models.connection import Connection
    from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook

    sm = local_sagemaker
    uri = sm.airflow_connection_uri(access_key_id="AKIAAIRFLOWCONN", secret_access_key="se/cr+et:@x")
    conn = Connection(conn_id="local_sm", uri=uri)
    assert conn.conn_type == "aws"
    assert conn.login == "AKIAAIRFLOWCONN"
    assert conn.password == "se/cr+et:@x"
    assert conn.extra_dejson == {"endpoint_url": sm.endpoint_url, "region_name": "us-east-1"}

    for conn_id, value in (
        ("local_sm_uri", uri),
        ("local_sm_json", sm.airflow_connection_json("AKIAAIRFLOWJSON", "json-secret")),
    ):
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", value)
        hook = AwsBaseHook(aws_conn_id=conn_id, client_type="sagemaker")
        assert hook.conn_config.endpoint_url == sm.endpoint_url
        assert hook.conn_config.region_name == "us-east-1"
        creds = hook.get_session().get_credentials()
        expected_key = "AKIAAIRFLOWCONN" if conn_id == "local_sm_uri" else "AKIAAIRFLOWJSON"
        assert creds.access_key == expected_key
        hook.get_conn().list_training_jobs()
        assert sm.requests(operation="ListTrainingJobs")[-1]["access_key_id"] == expected_key


def test_unknown_operation_is_logged_not_crashing(local_sagemaker):
    sagemaker = local_sagemaker.boto3_client("sagemaker", retries={"total_max_attempts": 1})
    with pytest.raises(ClientError) as err:
        sagemaker.describe_edge_packaging_job(EdgePackagingJobName="nope")
    assert err.value.response["Error"]["Code"] == "NotImplemented"
    assert "sagemaker:DescribeEdgePackagingJob" in err.value.response["Error"]["Message"]
    [record] = local_sagemaker.requests(operation="DescribeEdgePackagingJob")
    assert record["status_code"] == 501


def test_identify_request_variants():
    auth = (
        "AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20250101/eu-west-1/sagemaker/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=abc"
    )
    ident = identify_request(
        {"HTTP_AUTHORIZATION": auth, "HTTP_X_AMZ_TARGET": "SageMaker.CreateTrainingJob"}, None
    )
    assert (ident.service, ident.operation, ident.access_key_id, ident.region, ident.protocol) == (
        "sagemaker", "CreateTrainingJob", "AKIAEXAMPLE", "eu-west-1", "json",
    )
    iam_auth = auth.replace("eu-west-1/sagemaker", "us-east-1/iam")
    ident = identify_request({"HTTP_AUTHORIZATION": iam_auth}, b"Action=GetRole&Version=2010-05-08&RoleName=x")
    assert (ident.service, ident.operation, ident.protocol) == ("iam", "GetRole", "query")
    s3_auth = auth.replace("eu-west-1/sagemaker", "us-east-1/s3")
    for method, path, query, op in (
        ("PUT", "/bucket/key/a.txt", "", "PutObject"),
        ("GET", "/bucket/key/a.txt", "", "GetObject"),
        ("GET", "/bucket", "list-type=2&prefix=a", "ListObjectsV2"),
        ("GET", "/", "", "ListBuckets"),
        ("POST", "/bucket/big", "uploads", "CreateMultipartUpload"),
        ("PUT", "/bucket/big", "partNumber=1&uploadId=x", "UploadPart"),
    ):
        ident = identify_request(
            {"HTTP_AUTHORIZATION": s3_auth, "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query},
            None,
        )
        assert (ident.service, ident.operation) == ("s3", op)
    presigned = identify_request(
        {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": "/bucket/k",
            "QUERY_STRING": "X-Amz-Credential=AKIAPRESIGNED%2F20250101%2Fus-east-1%2Fs3%2Faws4_request",
        },
        None,
    )
    assert (presigned.access_key_id, presigned.operation) == ("AKIAPRESIGNED", "GetObject")


def test_pytest_plugin_fixtures_via_pytest_plugins(local_sagemaker_server, tmp_path):
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["airflow_provider_smtrain.testing.pytest_plugin"]\n')
    (tmp_path / "test_plugin_user.py").write_text(
        textwrap.dedent(
            """
            def test_fixtures(local_sagemaker, local_sagemaker_server):
                assert local_sagemaker is local_sagemaker_server
                assert local_sagemaker.requests() == []
                local_sagemaker.configure(training_seconds=9)

            def test_reset_between_tests(local_sagemaker):
                assert local_sagemaker.health()["config"]["training_seconds"] != 9

            def test_env_fixture(local_sagemaker_env):
                import os
                assert os.environ["AWS_ENDPOINT_URL"] == local_sagemaker_env.endpoint_url
            """
        )
    )
    env = {**os.environ, "LOCAL_SAGEMAKER_URL": local_sagemaker_server.endpoint_url}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=env,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "3 passed" in proc.stdout
    local_sagemaker_server.reset()


def test_control_api_jobs_view(local_sagemaker):
    sm = local_sagemaker
    sm.create_bucket("jobs-view")
    sm.boto3_client("sagemaker").create_training_job(
        TrainingJobName="viewed",
        AlgorithmSpecification={"TrainingImage": "img", "TrainingInputMode": "File"},
        RoleArn="arn:aws:iam::123456789012:role/r",
        OutputDataConfig={"S3OutputPath": "s3://jobs-view/out"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
        StoppingCondition={"MaxRuntimeInSeconds": 60},
    )
    jobs = sm.jobs()
    assert [j["name"] for j in jobs["training"]] == ["viewed"]
    assert json.dumps(jobs)

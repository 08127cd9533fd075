"""``run_scripts=True``: SourceCode entry scripts actually run on the LocalSageMaker server."""

from __future__ import annotations

import io
import json
import tarfile
import textwrap

import pytest

BUCKET = "local-sm-tests"  # created by the `sm` fixture (conftest.py)
ROLE_ARN = "arn:aws:iam::123456789012:role/SageMakerRole"

TRAIN_PY = textwrap.dedent(
    """
    import argparse, json, os, sys, time
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--mode", default="ok")
    args, _ = parser.parse_known_args()
    rows = open(os.path.join(os.environ["SM_CHANNEL_TRAIN"], "train.csv")).read().splitlines()
    print("hps", os.environ["SM_HPS"], "rows", len(rows))
    if args.mode == "crash":
        print("about to fail")
        raise SystemExit("ValueError: bad data in train.csv")
    if args.mode == "sleep":
        time.sleep(60)
    for epoch in range(args.epochs):
        print(f"epoch={epoch} loss={1.0 / (epoch + 1):.4f}")
    print("validation accuracy: 0.875")
    open(os.path.join(os.environ["SM_MODEL_DIR"], "model.txt"), "w").write(f"rows={len(rows)}")
    open(os.path.join(os.environ["SM_OUTPUT_DATA_DIR"], "report.json"), "w").write("{}")
    """
)


def submit_like_the_sdk(sm, sagemaker, name: str, **hyperparameters: str) -> None:
    """Lay out S3 and call CreateTrainingJob the way ModelTrainer(source_code=SourceCode(...)) does."""
    prefix = f"jobs/{name}/input"
    sm.put_object(BUCKET, "data/train/train.csv", "x,y\n1,2\n3,4\n5,6\n")
    sm.put_object(BUCKET, f"{prefix}/code/train.py", TRAIN_PY)
    sm.put_object(BUCKET, f"{prefix}/sm_drivers/sourcecode.json", json.dumps(
        {"source_dir": "/local/src", "entry_script": "train.py", "command": None, "requirements": None,
         "ignore_patterns": None}
    ))

    def channel(channel_name: str, uri: str) -> dict:
        return {
            "ChannelName": channel_name,
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": uri}},
            "InputMode": "File",
        }

    sagemaker.create_training_job(
        TrainingJobName=name,
        AlgorithmSpecification={
            "TrainingImage": "123456789012.dkr.ecr.us-east-1.amazonaws.com/train:latest",
            "TrainingInputMode": "File",
            "ContainerEntrypoint": ["/bin/bash"],
            "ContainerArguments": ["-c", "/opt/ml/input/data/sm_drivers/sm_train.sh"],
            "MetricDefinitions": [
                {"Name": "train:loss", "Regex": r"loss=([0-9.]+)"},
                {"Name": "validation:accuracy", "Regex": r"validation accuracy: ([0-9.]+)"},
            ],
        },
        RoleArn=ROLE_ARN,
        HyperParameters=hyperparameters,
        InputDataConfig=[
            channel("train", f"s3://{BUCKET}/data/train"),
            channel("code", f"s3://{BUCKET}/{prefix}/code"),
            channel("sm_drivers", f"s3://{BUCKET}/{prefix}/sm_drivers"),
        ],
        OutputDataConfig={"S3OutputPath": f"s3://{BUCKET}/output"},
        ResourceConfig={"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 10},
        StoppingCondition={"MaxRuntimeInSeconds": 3600},
    )


def terminal(sagemaker, wait_for, name: str, timeout: float = 20) -> dict:
    return wait_for(
        lambda: (d := sagemaker.describe_training_job(TrainingJobName=name))["TrainingJobStatus"]
        not in ("InProgress", "Stopping")
        and d,
        timeout=timeout,
    )


def log_messages(sm, name: str) -> list[str]:
    logs = sm.boto3_client("logs")
    group = "/aws/sagemaker/TrainingJobs"
    [stream] = logs.describe_log_streams(logGroupName=group, logStreamNamePrefix=name)["logStreams"]
    events = logs.get_log_events(logGroupName=group, logStreamName=stream["logStreamName"], startFromHead=True)
    return [e["message"] for e in events["events"]]


def test_script_runs_metrics_model_and_logs(sm, sagemaker, wait_for):
    sm.configure(run_scripts=True)
    submit_like_the_sdk(sm, sagemaker, "script-ok", epochs="3", mode='"ok"')
    done = terminal(sagemaker, wait_for, "script-ok")
    assert done["TrainingJobStatus"] == "Completed", done.get("FailureReason")
    assert {m["MetricName"]: m["Value"] for m in done["FinalMetricDataList"]} == {
        "train:loss": pytest.approx(0.3333),  # last value printed
        "validation:accuracy": 0.875,
    }
    assert [t["Status"] for t in done["SecondaryStatusTransitions"]] == [
        "Starting", "Downloading", "Training", "Uploading", "Completed",
    ]
    model = sm.get_object(BUCKET, "output/script-ok/output/model.tar.gz")
    with tarfile.open(fileobj=io.BytesIO(model), mode="r:gz") as tar:
        assert tar.extractfile("model.txt").read() == b"rows=4"  # type: ignore[union-attr]
    output = sm.get_object(BUCKET, "output/script-ok/output/output.tar.gz")
    with tarfile.open(fileobj=io.BytesIO(output), mode="r:gz") as tar:
        assert tar.getnames() == ["report.json"]
    messages = log_messages(sm, "script-ok")
    assert 'hps {"epochs": 3, "mode": "ok"} rows 4' in messages
    assert "epoch=2 loss=0.3333" in messages


def test_script_failure_sets_failure_reason_from_stderr(sm, sagemaker, wait_for):
    sm.configure(run_scripts=True)
    submit_like_the_sdk(sm, sagemaker, "script-crash", mode="crash")
    failed = terminal(sagemaker, wait_for, "script-crash")
    assert failed["TrainingJobStatus"] == "Failed"
    assert failed["FailureReason"].startswith("AlgorithmError: ExecuteUserScriptError:\nExitCode 1")
    assert "ValueError: bad data in train.csv" in failed["FailureReason"]
    assert "about to fail" in log_messages(sm, "script-crash")


def test_stop_kills_the_script(sm, sagemaker, wait_for):
    sm.configure(run_scripts=True, stop_seconds=0.2)
    submit_like_the_sdk(sm, sagemaker, "script-sleep", mode="sleep")
    wait_for(lambda: sagemaker.describe_training_job(TrainingJobName="script-sleep")["SecondaryStatus"] == "Training")
    sagemaker.stop_training_job(TrainingJobName="script-sleep")
    assert terminal(sagemaker, wait_for, "script-sleep", timeout=5)["TrainingJobStatus"] == "Stopped"


def test_model_trainer_source_code_end_to_end(sm, tmp_path, monkeypatch, wait_for):
    pytest.importorskip("sagemaker.train")
    import boto3
    from sagemaker.core.helper.session_helper import Session
    from sagemaker.core.training.configs import InputData, OutputDataConfig, SourceCode
    from sagemaker.train import ModelTrainer

    sm.configure(run_scripts=True)
    for name, value in sm.aws_env(access_key_id="AKIASDKCALLER").items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SAGEMAKER_VALIDATE_ROLE", "false")
    (tmp_path / "train.py").write_text(TRAIN_PY)
    sm.put_object(BUCKET, "data/train/train.csv", "x,y\n1,2\n")
    session = Session(
        boto_session=boto3.Session(region_name=sm.region),
        default_bucket=BUCKET,
        sagemaker_config={"SchemaVersion": "1.0", "SageMaker": {"PythonSDK": {"Modules": {"TelemetryOptOut": True}}}},
    )
    trainer = ModelTrainer(
        training_image="123456789012.dkr.ecr.us-east-1.amazonaws.com/train:latest",
        source_code=SourceCode(source_dir=str(tmp_path), entry_script="train.py"),
        role=ROLE_ARN,
        sagemaker_session=session,
        base_job_name="mt-e2e",
        output_data_config=OutputDataConfig(s3_output_path=f"s3://{BUCKET}/mt"),
        hyperparameters={"epochs": 2},
    )
    trainer.train(input_data_config=[InputData(channel_name="train", data_source=f"s3://{BUCKET}/data/train")],
                  wait=False, logs=False)
    name = trainer._latest_training_job.training_job_name
    sagemaker = sm.boto3_client("sagemaker")
    done = terminal(sagemaker, wait_for, name)
    assert done["TrainingJobStatus"] == "Completed", done.get("FailureReason")
    model = sm.get_object(BUCKET, f"mt/{name}/output/model.tar.gz")
    with tarfile.open(fileobj=io.BytesIO(model), mode="r:gz") as tar:
        assert tar.extractfile("model.txt").read() == b"rows=2"  # type: ignore[union-attr]
    [create] = sm.requests(operation="CreateTrainingJob")
    assert create["access_key_id"] == "AKIASDKCALLER"

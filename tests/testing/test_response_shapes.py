"""Every emulated operation's response matches botocore's output shape (see ``shapes.py``)."""

from __future__ import annotations

import botocore.session

from tests.testing import shapes
from tests.testing.test_tuning_jobs import tuning_args

#: Operations whose raw responses must be checked by the run of this module.
EMULATED = [
    ("sagemaker", "CreateTrainingJob"),
    ("sagemaker", "DescribeTrainingJob"),
    ("sagemaker", "ListTrainingJobs"),
    ("sagemaker", "StopTrainingJob"),
    ("sagemaker", "CreateHyperParameterTuningJob"),
    ("sagemaker", "DescribeHyperParameterTuningJob"),
    ("sagemaker", "ListTrainingJobsForHyperParameterTuningJob"),
    ("sagemaker", "StopHyperParameterTuningJob"),
    ("logs", "GetLogEvents"),
    ("logs", "FilterLogEvents"),
    ("logs", "DescribeLogStreams"),
]


def test_the_validator_catches_what_it_should():
    model = botocore.session.get_session().get_service_model("sagemaker")
    output = model.operation_model("DescribeTrainingJob").output_shape
    problems = shapes.violations(
        output,
        {
            "TrainingJobName": "j",
            "TrainingJobStatus": "Running",
            "SecondaryStatus": None,
            "Surprise": 1,
            "CreationTime": "yesterday",
            "TrainingTimeInSeconds": "12",
            "HyperParameters": {"lr": 0.1},
        },
    )
    text = "\n".join(problems)
    assert "$.Surprise: unknown member" in text
    assert "$.TrainingJobArn: required member of DescribeTrainingJobResponse missing" in text
    assert "$.TrainingJobStatus: 'Running' is not one of" in text
    assert "$.SecondaryStatus: null" in text
    assert "$.TrainingTimeInSeconds: expected an integer" in text
    assert "$.HyperParameters['lr']: expected a string" in text
    assert "CreationTime" not in text  # ISO strings are valid timestamps
    assert shapes.violations(None, {}) == []
    assert shapes.violations(None, {"x": 1}) != []


def test_every_emulated_operation_matches_its_botocore_shape(sm, sagemaker, job_args):
    shapes.CHECKED.clear()
    before = len(shapes.VIOLATIONS)
    logs = sm.boto3_client("logs")
    sm.clock.freeze()
    sagemaker.create_training_job(
        **job_args(
            "shaped",
            AlgorithmSpecification={
                "TrainingImage": "123456789012.dkr.ecr.us-east-1.amazonaws.com/train:latest",
                "TrainingInputMode": "File",
                "MetricDefinitions": [{"Name": "validation:accuracy", "Regex": "acc=(\\S+)"}],
            },
        )
    )
    sagemaker.create_training_job(**job_args("shaped-stopped"))
    sagemaker.create_hyper_parameter_tuning_job(**tuning_args("shaped-tuning", count=3, parallel=1))
    sagemaker.create_hyper_parameter_tuning_job(**tuning_args("shaped-tuning-stop", count=3, parallel=1))
    for step in (0.0, 0.3, 1.0):  # in progress, then every terminal state
        sm.clock.advance(step)
        if step == 0.3:
            sagemaker.stop_training_job(TrainingJobName="shaped-stopped")
            sagemaker.stop_hyper_parameter_tuning_job(HyperParameterTuningJobName="shaped-tuning-stop")
        for name in ("shaped", "shaped-stopped"):
            sagemaker.describe_training_job(TrainingJobName=name)
        for name in ("shaped-tuning", "shaped-tuning-stop"):
            sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
            sagemaker.list_training_jobs_for_hyper_parameter_tuning_job(HyperParameterTuningJobName=name)
        sagemaker.list_training_jobs(MaxResults=100)
        stream = logs.describe_log_streams(logGroupName="/aws/sagemaker/TrainingJobs")["logStreams"][0]
        logs.get_log_events(logGroupName="/aws/sagemaker/TrainingJobs", logStreamName=stream["logStreamName"])
        logs.filter_log_events(logGroupName="/aws/sagemaker/TrainingJobs")
    sm.force_job("training", "shaped", "Failed", failure_reason="AlgorithmError: boom")
    sagemaker.describe_training_job(TrainingJobName="shaped")
    sm.clock.advance(2.0)
    tuned = sagemaker.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="shaped-tuning")
    assert tuned["HyperParameterTuningJobStatus"] == "Completed" and tuned["BestTrainingJob"]

    assert shapes.VIOLATIONS[before:] == []
    services = {"sagemaker": "sagemaker", "logs": "logs"}
    missing = [op for op in EMULATED if (services[op[0]], op[1]) not in shapes.CHECKED]
    assert missing == []

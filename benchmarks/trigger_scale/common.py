"""Settings and helpers shared by the driver and the workers of the trigger-scale benchmark."""

from __future__ import annotations

import hashlib
import json
import math
import os
import resource
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
DEFAULT_RESULTS_DIR = REPO / "benchmarks" / "results"


@dataclass(frozen=True)
class Variant:
    """
    One trigger under test: which provider's trigger waits for which kind of job.

    :param name: command-line name (``ours-training``, ...).
    :param side: ``ours`` or ``amazon``.
    :param kind: ``training``, ``tuning`` or ``pipeline`` (the LocalSageMaker job kind).
    :param label: row label in the table.
    :param success_status: the payload ``status`` of the trigger's event for a job that ended ``Completed``.
    """

    name: str
    side: str
    kind: str
    label: str
    success_status: str


@dataclass(frozen=True)
class JobKindSpec:
    """
    What a job kind looks like to the benchmark.

    :param describe_operation: the API operation that reads one job's status.
    :param name_param: its job-name parameter.
    :param seconds_setting: the LocalSageMaker setting that sets how long a new job of this kind runs.
    :param max_name: longest job name SageMaker accepts (for pipeline executions: display name).
    """

    describe_operation: str
    name_param: str
    seconds_setting: str
    max_name: int


KINDS = {
    "training": JobKindSpec("DescribeTrainingJob", "TrainingJobName", "training_seconds", 63),
    "tuning": JobKindSpec(
        "DescribeHyperParameterTuningJob", "HyperParameterTuningJobName", "tuning_seconds", 32
    ),
    # an execution of a one-step pipeline: it is Executing as long as its step's training job runs
    "pipeline": JobKindSpec("DescribePipelineExecution", "PipelineExecutionArn", "training_seconds", 82),
}
VARIANTS = {
    v.name: v
    for v in (
        Variant("ours-training", "ours", "training", "ours: TrainingJobTrigger", "succeeded"),
        Variant("amazon-training", "amazon", "training", "amazon: SageMakerTrigger (Training)", "success"),
        Variant("ours-tuning", "ours", "tuning", "ours: TuningJobTrigger", "succeeded"),
        Variant("amazon-tuning", "amazon", "tuning", "amazon: SageMakerTrigger (Tuning)", "success"),
        Variant("ours-pipeline", "ours", "pipeline", "ours: PipelineExecutionTrigger", "succeeded"),
        Variant("amazon-pipeline", "amazon", "pipeline", "amazon: SageMakerPipelineTrigger", "success"),
    )
}
PROVIDERS = tuple(VARIANTS)
#: (ours, amazon) variant pairs compared as ratios, with a title.
PAIRS = (
    ("training", "ours-training", "amazon-training"),
    ("tuning", "ours-tuning", "amazon-tuning"),
    ("pipeline", "ours-pipeline", "amazon-pipeline"),
)
PROVIDER_LABELS = {name: v.label for name, v in VARIANTS.items()}

CONN_ID = "smtrain_bench"
#: Access key of the Airflow connection the triggers use (requests signed with it are the triggers').
TRIGGER_ACCESS_KEY = "AKIDBENCHTRIGGERS"
#: Access key that creates the jobs.
SETUP_ACCESS_KEY = "AKIDBENCHSETUP"
#: Ambient credentials; no request should be signed with them.
AMBIENT_ACCESS_KEY = "AKIDBENCHAMBIENT"

#: Period of the loop-lateness ticker.
TICK_SECONDS = 0.05
#: Airflow's default ``triggerer.blocked_main_thread_warning_threshold``... as the watchdog's log says.
AIRFLOW_BLOCK_WARNING_SECONDS = 0.2
#: Median server-side Describe answer time (ms) above which the server, not the trigger, sets the pace.
SERVER_SATURATED_MS = 50.0
#: Prefix of the pipelines whose executions the pipeline triggers wait for (one pipeline per execution).
PIPELINE = "trigger-scale-bench"
#: Jobs created between two updates of the server's ``training_seconds`` (keeps the end times together).
CREATE_CHUNK = 20
MIB = 1024 * 1024


def loopback_guard() -> None:
    """Make this process refuse to connect to, or resolve, anything but the loopback."""
    from airflow_provider_smtrain.testing.network import install_loopback_guard

    install_loopback_guard("trigger_scale")


def rss_bytes() -> int:
    """Current resident set size of this process, in bytes (``/proc/self/statm``)."""
    try:
        with open("/proc/self/statm", "rb") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:  # pragma: no cover - not Linux
        return 0


def peak_rss_bytes() -> int:
    """Peak resident set size of this process, in bytes (``VmHWM``, else ``getrusage``)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:  # pragma: no cover - not Linux
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def training_job_request(name: str) -> dict[str, Any]:
    """
    Minimal ``CreateTrainingJob`` parameters.

    :param name: the job name.
    """
    return {
        "TrainingJobName": name,
        "AlgorithmSpecification": {"TrainingImage": "bench:latest", "TrainingInputMode": "File"},
        "RoleArn": "arn:aws:iam::123456789012:role/bench",
        "OutputDataConfig": {"S3OutputPath": "s3://bench/out"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
        "StoppingCondition": {"MaxRuntimeInSeconds": 86400},
    }


def tuning_job_request(name: str) -> dict[str, Any]:
    """
    Minimal ``CreateHyperParameterTuningJob`` parameters: one child training job.

    :param name: the tuning job name (at most 32 characters).
    """
    definition = training_job_request(name)
    del definition["TrainingJobName"]
    definition["AlgorithmSpecification"]["MetricDefinitions"] = [{"Name": "loss", "Regex": "loss=(\\S+)"}]
    return {
        "HyperParameterTuningJobName": name,
        "HyperParameterTuningJobConfig": {
            "Strategy": "Random",
            "HyperParameterTuningJobObjective": {"Type": "Minimize", "MetricName": "loss"},
            "ResourceLimits": {"MaxNumberOfTrainingJobs": 1, "MaxParallelTrainingJobs": 1},
            "ParameterRanges": {
                "IntegerParameterRanges": [{"Name": "epochs", "MinValue": "1", "MaxValue": "3"}]
            },
        },
        "TrainingJobDefinition": definition,
    }


def pipeline_definition() -> str:
    """A pipeline of one Training step: an execution is ``Executing`` while the step's training job runs."""
    arguments = training_job_request("unused")
    del arguments["TrainingJobName"]  # SageMaker Pipelines names the step's job itself
    return json.dumps(
        {"Version": "2020-12-01", "Parameters": [], "Steps": [{"Name": "Hold", "Type": "Training", "Arguments": arguments}]}
    )


def pipeline_of_job(name: str) -> str:
    """
    The pipeline a benchmark pipeline execution runs in: one per execution (``<PIPELINE>-<job name>``).

    :param name: the execution's display name.
    """
    return f"{PIPELINE}-{name}"[:256]


def job_request(kind: str, name: str) -> tuple[str, dict[str, Any]]:
    """
    The boto3 method and parameters that create one job of ``kind`` (a pipeline execution: in a pipeline of
    its own, :func:`pipeline_of_job`, as the evaluator operators run one pipeline per task instance).

    :param kind: ``training``, ``tuning`` or ``pipeline``.
    :param name: the job name (for a pipeline execution, its display name).
    """
    if kind == "tuning":
        return "create_hyper_parameter_tuning_job", tuning_job_request(name)
    if kind == "pipeline":
        return "start_pipeline_execution", {
            "PipelineName": pipeline_of_job(name),
            "PipelineExecutionDisplayName": name,
            "ClientRequestToken": hashlib.sha256(name.encode()).hexdigest()[:32],  # 32 to 128 characters
        }
    return "create_training_job", training_job_request(name)


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """
    Nearest-rank percentile, or None for no values.

    :param values: the sample.
    :param fraction: 0..1.
    """
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]


@dataclass
class BenchConfig:
    """
    One benchmark run.

    :param ns: trigger counts.
    :param window: seconds of steady state wanted (see ``worker._lead``).
    :param poll: poll interval of both providers, seconds.
    :param providers: providers to run, in order, for each N.
    :param startup_timeout: seconds after launch the triggers get to start if the jobs end earlier.
    :param grace: seconds to wait for events after the jobs ended (default: max(3 polls, 10 s)).
    :param results_dir: where the markdown table and the JSON go.
    """

    ns: list[int]
    window: float
    poll: float
    providers: list[str]
    startup_timeout: float
    grace: float
    results_dir: Path

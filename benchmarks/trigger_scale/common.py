"""Settings and helpers shared by the driver and the workers of the trigger-scale benchmark."""

from __future__ import annotations

import math
import os
import resource
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
DEFAULT_RESULTS_DIR = REPO / "benchmarks" / "results"

PROVIDERS = ("ours", "amazon")
PROVIDER_LABELS = {
    "ours": "ours: TrainingJobTrigger",
    "amazon": "amazon: SageMakerTrigger",
}
#: The payload ``status`` each provider's trigger fires for a job that ended ``Completed``.
SUCCESS_STATUS = {"ours": "succeeded", "amazon": "success"}

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
#: Mean server-side DescribeTrainingJob time above which the server, not the trigger, sets the pace.
SERVER_SATURATED_MS = 50.0
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
    :param startup_allowance: seconds per trigger added to the window for start-up.
    :param providers: providers to run, in order, for each N.
    :param startup_timeout: seconds after launch the triggers get to start if the jobs end earlier.
    :param grace: seconds to wait for events after the jobs ended (default: max(3 polls, 10 s)).
    :param results_dir: where the markdown table and the JSON go.
    """

    ns: list[int]
    window: float
    poll: float
    startup_allowance: float
    providers: list[str]
    startup_timeout: float
    grace: float
    results_dir: Path

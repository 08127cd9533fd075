"""One fresh worker process of the submit-cost benchmark (started by ``benchmarks/submit_cost.py``).

Modes:

* ``ours`` / ``amazon``: import ``airflow.sdk`` and the operator's module (what a worker has done before
  ``execute()``), build the operator, then time ``execute()`` up to its return (the job is submitted and
  not waited for) twice in this process: cold (first) and warm (second, another job).
* ``import``: import ``airflow.sdk`` and the provider's operator module, then time
  ``import sagemaker.train.model_trainer`` alone (the import share of our cold submit).

Prints one JSON line. Refuses to connect anywhere but the loopback.
"""

from __future__ import annotations

import functools
import json
import os
import resource
import socket
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
CONN_ID = "smtrain_submit_bench"


def _loopback_only() -> None:
    real_connect = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else None
        if host is not None and host not in ("127.0.0.1", "::1", "localhost"):
            raise OSError(f"submit_cost worker: refusing to connect to {address!r}")
        return real_connect(self, address)

    socket.socket.connect = connect  # type: ignore[method-assign,assignment]


def _status(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _timed(call: Any) -> dict[str, Any]:
    """Run ``call()``; wall, CPU, RSS growth and peak RSS growth over the RSS before it."""
    modules = len(sys.modules)
    rss, wall, cpu, epoch = _status("VmRSS"), time.perf_counter(), _cpu(), time.time()
    result = call()
    return {
        "started_epoch": epoch,
        "wall_s": time.perf_counter() - wall,
        "cpu_s": _cpu() - cpu,
        "rss_delta_mib": (_status("VmRSS") - rss) / 2**20,
        "peak_rss_delta_mib": max(0, _status("VmHWM") - rss) / 2**20,
        "new_modules": len(sys.modules) - modules,
        "result": result,
    }


def _context() -> Any:
    sys.path.append(str(REPO))  # after the code under test: only for the tests' in-process runner
    from tests.operators.runner import FakeTI, MemoryStateStore, make_context

    return make_context(FakeTI(), MemoryStateStore())


def ours(settings: dict[str, Any], run: int) -> Any:
    """Build our operator as a DAG file would and return a ``execute`` closure."""
    from airflow_provider_smtrain.operators.model_trainer import ModelTrainerOperator

    operator = ModelTrainerOperator(
        task_id=f"submit_{run}",
        aws_conn_id=CONN_ID,
        deferrable=False,
        wait_for_completion=False,
        print_log=False,
        role=settings["role_arn"],
        training_image="123456789012.dkr.ecr.us-east-1.amazonaws.com/train:latest",
        output_path=f"s3://{settings['bucket']}/models",
        source_code={
            "source_dir": str(REPO / "example_dags" / "model_trainer_src"),
            "entry_script": "train.py",
        },
        input_data={"train": f"s3://{settings['bucket']}/data/train/"},
        hyperparameters={"epochs": 20},
        compute={"instance_type": "ml.m5.large", "instance_count": 1},
    )
    context = _context()
    context["ti"].run_id = f"{settings['run_id']}_{run}"

    def execute() -> str:
        return str(operator.execute(context)["job_name"])

    return execute


def amazon(settings: dict[str, Any], run: int) -> Any:
    """The amazon provider's ``SageMakerTrainingOperator`` with the same job, submit only."""
    from airflow.providers.amazon.aws.operators.sagemaker import SageMakerTrainingOperator

    name = f"amazon-{settings['run_id']}-{run}".replace("_", "-")[:63]
    operator = SageMakerTrainingOperator(
        task_id=f"submit_{run}",
        aws_conn_id=CONN_ID,
        wait_for_completion=False,
        check_if_job_exists=False,
        print_log=False,
        deferrable=False,
        config={
            "TrainingJobName": name,
            "AlgorithmSpecification": {
                "TrainingImage": "123456789012.dkr.ecr.us-east-1.amazonaws.com/train:latest",
                "TrainingInputMode": "File",
            },
            "RoleArn": settings["role_arn"],
            "HyperParameters": {"epochs": "20"},
            "InputDataConfig": [
                {
                    "ChannelName": "train",
                    "DataSource": {
                        "S3DataSource": {
                            "S3DataType": "S3Prefix",
                            "S3Uri": f"s3://{settings['bucket']}/data/train/",
                            "S3DataDistributionType": "FullyReplicated",
                        }
                    },
                }
            ],
            "OutputDataConfig": {"S3OutputPath": f"s3://{settings['bucket']}/models"},
            "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 30},
            "StoppingCondition": {"MaxRuntimeInSeconds": 86400},
        },
    )
    context = _context()

    def execute() -> str:
        operator.execute(context)
        return name

    return execute


def main() -> None:
    """``submit_cost_worker.py MODE SETTINGS_JSON``."""
    mode, settings = sys.argv[1], json.loads(sys.argv[2])
    _loopback_only()
    process_started = time.perf_counter()
    import airflow.sdk  # noqa: F401  (what every worker has imported before the task runs)

    if mode == "import":
        import airflow_provider_smtrain.operators.model_trainer  # noqa: F401

        measured = _timed(lambda: __import__("sagemaker.train.model_trainer") and None)
        print(json.dumps({"mode": mode, "import": measured}))
        return
    build = ours if mode == "ours" else amazon
    runs = []
    for run in (1, 2):
        execute = build(settings, run)
        profile = os.environ.get("SUBMIT_COST_PROFILE")
        if profile:  # debugging aid: a cProfile of each execute
            import cProfile

            profiler = cProfile.Profile()
            runs.append(_timed(functools.partial(profiler.runcall, execute)))
            profiler.dump_stats(f"{profile}.{run}")
        else:
            runs.append(_timed(execute))
    print(
        json.dumps(
            {
                "mode": mode,
                "pycache_prefix": os.environ.get("PYTHONPYCACHEPREFIX"),
                "process_s": time.perf_counter() - process_started,
                "cold": runs[0],
                "warm": runs[1],
            }
        )
    )


if __name__ == "__main__":
    main()

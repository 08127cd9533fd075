"""
The jobs a worker's triggers wait for, created by the driver before the worker starts.

The worker stands for a triggerer: it must not also hold a synchronous boto3 SageMaker client (its own
botocore loader and a second parsed copy of the service model and endpoints, ~17 MiB) that no triggerer
has. So the driver creates the jobs and hands the worker their names (for pipeline executions, their
ARNs) and the simulated instant they are all planned to end.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from benchmarks.trigger_scale.common import (
    CREATE_CHUNK,
    KINDS,
    SETUP_ACCESS_KEY,
    VARIANTS,
    job_request,
    pipeline_definition,
    pipeline_of_job,
    training_job_request,
)

#: Simulated seconds the jobs would run; the worker ends them earlier by moving the LocalSageMaker clock.
HOLD_SECONDS = 20_000.0


def job_names(provider: str, n: int) -> list[str]:
    """
    The N job names of one worker (short enough for the kind's name limit).

    :param provider: the variant (``ours-training``, ...).
    :param n: number of jobs.
    """
    variant = VARIANTS[provider]
    prefix = f"b{variant.side[0]}{variant.kind[:2]}{n}"
    names = [f"{prefix}-{i:05d}" for i in range(n)]
    assert all(len(name) <= KINDS[variant.kind].max_name for name in names), names[-1]
    return names


def create_jobs(sm: Any, provider: str, n: int) -> tuple[list[str], float]:
    """
    Create the N jobs of a worker, all planned to end at one simulated instant far ahead.

    Returns what the triggers wait on (job names; pipeline execution ARNs) and that instant.

    :param sm: the running LocalSageMaker.
    :param provider: the variant.
    :param n: number of jobs.
    """
    kind = VARIANTS[provider].kind
    setting = KINDS[kind].seconds_setting
    client = sm.boto3_client("sagemaker", access_key_id=SETUP_ACCESS_KEY, secret_access_key="bench")
    end_at: float = sm.clock.now() + HOLD_SECONDS
    handles = []
    for index, name in enumerate(job_names(provider, n)):
        if index % CREATE_CHUNK == 0:
            sm.configure(**{setting: end_at - sm.clock.now()})
        if kind == "pipeline":
            client.create_pipeline(
                PipelineName=pipeline_of_job(name),
                PipelineDefinition=pipeline_definition(),
                RoleArn=training_job_request("unused")["RoleArn"],
            )
        method, params = job_request(kind, name)
        response = getattr(client, method)(**params)
        handles.append(str(response["PipelineExecutionArn"]) if kind == "pipeline" else name)
    return handles, end_at


def write_jobs(path: Path, names: list[str], planned_end: float) -> None:
    """
    Hand the jobs to the worker.

    :param path: the file the worker reads (``--jobs-file``).
    :param names: what the triggers wait on.
    :param planned_end: simulated epoch seconds the jobs end at unless ended earlier.
    """
    path.write_text(json.dumps({"names": names, "planned_end": planned_end}))


def read_jobs(path: str) -> tuple[list[str], float]:
    """
    The jobs the driver created for this worker.

    :param path: the ``--jobs-file``.
    """
    data = json.loads(Path(path).read_text())
    return [str(name) for name in data["names"]], float(data["planned_end"])

"""
The jobs pipeline steps run: a Training step creates a training job, a Job step an AgentRFT job (server only).

SageMaker Pipelines names a step's training job ``pipelines-<execution id>-<step name>-<random>`` (the
step's own ``TrainingJobName`` is not used) and starts it when the step starts; the step then follows the
job. Jobs are created through the training and AgentRFT services, so their lifecycles, outcome rules,
``force_job`` and stops are the ones every other job has; their timelines start at the step's start time.
"""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any, cast

from airflow_provider_smtrain.testing.engine.simulator import Simulator
from airflow_provider_smtrain.testing.engine.timeline import plan_training, to_datetime
from airflow_provider_smtrain.testing.services.pipelines.model import ExecutionSim, StepSim

#: Step status of each job status.
STEP_STATUS = {
    "InProgress": "Executing",
    "Completed": "Succeeded",
    "Failed": "Failed",
    "Stopping": "Stopping",
    "Stopped": "Stopped",
}
_MAX_NAME = 63


def job_name(execution: ExecutionSim, step: str) -> str:
    """
    The name SageMaker Pipelines gives the job of a step (at most 63 characters).

    :param execution: The execution.
    :param step: Step name.
    """
    suffix = hashlib.sha256(f"{execution.arn}/{step}".encode()).hexdigest()[:10]
    head = f"pipelines-{execution.execution_id}-"
    room = _MAX_NAME - len(head) - len(suffix) - 1
    clean = "".join(c if c.isalnum() else "-" for c in step)[:room].strip("-") or "step"
    return f"{head}{clean}-{suffix}"


def start_job(
    simulator: Simulator, execution: ExecutionSim, step: StepSim, duration: float, failure_reason: str | None
) -> None:
    """
    Create the job of a step started at ``step.start``; it ends ``duration`` later (failed with
    ``failure_reason`` if given, or as the job's own outcome rules say).

    :param simulator: The simulator.
    :param execution: The execution.
    :param step: The step (its arguments evaluated).
    :param duration: Planned job duration.
    :param failure_reason: Fail the job with this reason.
    """
    step.job_name = job_name(execution, step.spec.name)
    if step.spec.step_type == "Training":
        _start_training(simulator, execution, step, duration, failure_reason)
    else:
        _start_agent_rft(simulator, execution, step, duration, failure_reason)


def _start_training(
    simulator: Simulator, execution: ExecutionSim, step: StepSim, duration: float, failure_reason: str | None
) -> None:
    from moto.sagemaker.models import sagemaker_backends

    args = step.arguments
    name = str(step.job_name)
    backend: Any = sagemaker_backends[execution.account_id][execution.region]
    job: Any = backend.create_training_job(
        training_job_name=name,
        hyper_parameters={k: v if isinstance(v, str) else json.dumps(v) for k, v in (args.get("HyperParameters") or {}).items()},
        algorithm_specification=copy.deepcopy(args.get("AlgorithmSpecification")),
        role_arn=args.get("RoleArn"),
        input_data_config=copy.deepcopy(args.get("InputDataConfig") or []),
        output_data_config=copy.deepcopy(args.get("OutputDataConfig") or {"S3OutputPath": ""}),
        resource_config=copy.deepcopy(args.get("ResourceConfig") or {}),
        vpc_config=args.get("VpcConfig"),
        stopping_condition=args.get("StoppingCondition"),
        tags=[],
        enable_network_isolation=False,
        enable_inter_container_traffic_encryption=False,
        enable_managed_spot_training=False,
        checkpoint_config=None,
        debug_hook_config=None,
        debug_rule_configurations=None,
        tensor_board_output_config=None,
        experiment_config=None,
    )
    if not args.get("AlgorithmSpecification"):  # a serverless evaluation job: SageMaker picks the algorithm
        job.algorithm_specification = None
    for member, attr in (
        ("ServerlessJobConfig", "serverless_job_config"),
        ("ModelPackageConfig", "model_package_config"),
        ("MlflowConfig", "mlflow_config"),
    ):
        if args.get(member):
            setattr(job, attr, copy.deepcopy(args[member]))
    step.job_kind, step.job_arn = "training", job.arn
    training: Any = simulator.service("training")
    sim = training.jobs[(execution.account_id, execution.region, name)]
    reason = failure_reason or sim.failure_reason
    sim.created = step.start
    sim.events = plan_training(step.start, step.start + duration, failed=reason is not None)
    sim.failure_reason = reason
    sim.finalized = False
    max_runtime = (job.stopping_condition or {}).get("MaxRuntimeInSeconds")
    sim.max_runtime_at = step.start + float(max_runtime) if max_runtime else None
    job.creation_time = job.last_modified_time = to_datetime(step.start)
    training.apply(sim, simulator.clock.now())


def _start_agent_rft(
    simulator: Simulator, execution: ExecutionSim, step: StepSim, duration: float, failure_reason: str | None
) -> None:
    args = step.arguments
    document = args.get("JobConfigDocument")
    params = {
        "JobName": step.job_name,
        "RoleArn": args.get("RoleArn"),
        "JobCategory": args.get("JobCategory") or "AgentRFTEvaluation",
        "JobConfigSchemaVersion": args.get("JobConfigSchemaVersion") or "1.0.0",
        "JobConfigDocument": document if isinstance(document, str) else json.dumps(document or {}),
        "Tags": args.get("Tags") or [],
    }
    service: Any = simulator.service("agent_rft")
    sim = service.create(execution.account_id, execution.region, params)
    reason = failure_reason or sim.failure_reason
    sim.created = step.start
    sim.events = plan_training(step.start, step.start + duration, failed=reason is not None)
    sim.failure_reason = reason
    sim.logged = 0
    step.job_kind, step.job_arn = "agent_rft", sim.arn
    service.apply(sim, simulator.clock.now())


def job_state(simulator: Simulator, execution: ExecutionSim, step: StepSim) -> tuple[str, float, str | None]:
    """
    ``(step status, time of the job's latest event, failure reason)`` of a job step, up to date.

    :param simulator: The simulator.
    :param execution: The execution.
    :param step: A step that started a job.
    """
    key = (execution.account_id, execution.region, str(step.job_name))
    service: Any = simulator.service(cast(str, step.job_kind))
    sim = service.touch(key)
    if sim is None:  # the job is gone (a reset): the step fails
        return "Failed", step.start, "The step's job no longer exists."
    now = simulator.clock.now()
    last = [e for e in sim.events if e.at <= now] or sim.events[:1]
    event = last[-1]
    return STEP_STATUS.get(event.status, "Executing"), event.at, sim.failure_reason


def stop_job(simulator: Simulator, execution: ExecutionSim, step: StepSim) -> None:
    """
    Stop a step's running job (``Stopping`` → ``Stopped``).

    :param simulator: The simulator.
    :param execution: The execution.
    :param step: A step whose job runs.
    """
    key = (execution.account_id, execution.region, str(step.job_name))
    try:
        if step.job_kind == "training":
            simulator.service("training").stop(key)  # type: ignore[attr-defined]
        else:
            service: Any = simulator.service("agent_rft")
            service.stop(service.jobs[key])
    except (LookupError, ValueError):
        pass  # already terminal

"""No cross-talk: concurrent evaluations of one type each run their own definition.

The SDK reuses one account-wide pipeline per evaluation type and ``UpdatePipeline``-s it before every
start, so two evaluations started together can run each other's definition. Here each task instance
generation has its own pipeline: four concurrent benchmark evaluations with different subtasks, ten
times over, and ``DescribePipelineDefinitionForExecution`` shows each execution ran its own definition.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from airflow_provider_smtrain.operators.evaluation import BenchMarkEvaluatorOperator
from tests.operators.conftest import Env
from tests.operators.evaluation_env import build, prepare
from tests.operators.runner import FakeTI, MemoryStateStore, run_operator

SUBTASKS = ("anatomy", "astronomy", "virology", "nutrition")
ROUNDS = 10


def start(env: Env, package: str, subtask: str, round_number: int) -> dict[str, Any]:
    operator = build(BenchMarkEvaluatorOperator, env, task_id=f"eval_{subtask}", model=package, benchmark="mmlu",
                     subtasks=[subtask], wait_for_completion=False)
    ti = FakeTI(task_id=f"eval_{subtask}", run_id=f"scheduled__{round_number}")
    result: dict[str, Any] = run_operator(operator, ti, MemoryStateStore())
    return result


def subtasks_run_by(client: Any, execution_arn: str) -> set[str]:
    """The subtasks the evaluation jobs of an execution's own definition were given."""
    definition = json.loads(client.describe_pipeline_definition_for_execution(
        PipelineExecutionArn=execution_arn)["PipelineDefinition"])
    found = set()
    for step in definition["Steps"]:
        hyperparameters = (step.get("Arguments") or {}).get("HyperParameters") or {}
        if "subtask" in hyperparameters:
            found.update(str(hyperparameters["subtask"]).split(","))
    return found


def test_concurrent_evaluations_of_one_type_each_run_their_own_definition(env: Env) -> None:
    package = prepare(env)
    env.sm.clock.freeze()
    client = env.sm.boto3_client("sagemaker")
    cross_talk = []
    for round_number in range(ROUNDS):
        with ThreadPoolExecutor(max_workers=len(SUBTASKS)) as pool:
            started = pool.map(start, [env] * len(SUBTASKS), [package] * len(SUBTASKS), SUBTASKS,
                               [round_number] * len(SUBTASKS))
            results = dict(zip(SUBTASKS, started, strict=True))
        for subtask, result in results.items():
            ran = subtasks_run_by(client, result["execution_arn"])
            if ran != {subtask}:
                cross_talk.append((round_number, subtask, sorted(ran)))
        assert len({r["pipeline_name"] for r in results.values()}) == len(SUBTASKS)

    assert cross_talk == []
    starts = env.sm.requests(operation="StartPipelineExecution")
    assert len(starts) == ROUNDS * len(SUBTASKS)
    assert env.sm.requests(operation="UpdatePipeline") == []

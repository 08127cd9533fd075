"""No cross-talk: concurrent evaluations of one type each run their own definition.

The SDK reuses one account-wide pipeline per evaluation type and ``UpdatePipeline``-s it before every
start, so two evaluations started together can run each other's definition. Here each task instance
generation has its own pipeline: four concurrent benchmark evaluations with different subtasks, ten
times over, and ``DescribePipelineDefinitionForExecution`` shows each execution ran its own definition.

In the suite it runs ``SMTRAIN_CROSS_TALK_ROUNDS`` rounds (default 2, ~40 s); the acceptance run (10 rounds,
figures in ``benchmarks/results/cross_talk.md``) is ``.venv/bin/python -m benchmarks.cross_talk --rounds 10``,
which runs :func:`run_rounds` below.

Each evaluation starts in its own forked process, as Airflow workers do: within one process the
credentials scope serialises SDK calls, which would hide a race between processes.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import time
from typing import Any

from airflow_provider_smtrain.operators.evaluation import BenchMarkEvaluatorOperator
from tests.operators.conftest import Env
from tests.operators.evaluation_env import build, prepare
from tests.operators.runner import FakeTI, MemoryStateStore, run_operator

SUBTASKS = ("anatomy", "astronomy", "virology", "nutrition")
ROUNDS = int(os.environ.get("SMTRAIN_CROSS_TALK_ROUNDS", "2"))


def start(env: Env, package: str, subtask: str, round_number: int) -> dict[str, Any]:
    operator = build(BenchMarkEvaluatorOperator, env, task_id=f"eval_{subtask}", model=package, benchmark="mmlu",
                     subtasks=[subtask], wait_for_completion=False)
    ti = FakeTI(task_id=f"eval_{subtask}", run_id=f"scheduled__{round_number}")
    result: dict[str, Any] = run_operator(operator, ti, MemoryStateStore())
    return result


def start_in_worker(env: Env, package: str, subtask: str, round_number: int, queue: Any) -> None:
    """A worker process: start one evaluation, report its execution ARN and pipeline."""
    try:
        result = start(env, package, subtask, round_number)
        queue.put((subtask, result["execution_arn"], result["pipeline_name"]))
    except BaseException as err:  # reported to the test, which fails on it
        queue.put((subtask, None, repr(err)))


def start_concurrently(env: Env, package: str, round_number: int) -> dict[str, tuple[str, str]]:
    """Start one evaluation per subtask, each in its own forked worker process, all at once."""
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    workers = [context.Process(target=start_in_worker, args=(env, package, subtask, round_number, queue))
               for subtask in SUBTASKS]
    for worker in workers:
        worker.start()
    reported = [queue.get(timeout=600) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    failed = [(subtask, detail) for subtask, arn, detail in reported if arn is None]
    assert failed == []
    return {subtask: (arn, pipeline) for subtask, arn, pipeline in reported}


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


def run_rounds(env: Env, package: str, rounds: int) -> dict[str, Any]:
    """
    ``rounds`` rounds of four concurrent benchmark evaluations with different subtasks; every execution's
    own definition read back (``DescribePipelineDefinitionForExecution``).

    Returns ``{"rounds", "executions": [{"round", "subtask", "execution_arn", "pipeline_name",
    "definition_subtasks", "own_definition"}], "cross_talk", "pipelines", "round_seconds"}``.

    :param env: the local SageMaker environment (:func:`tests.operators.conftest.make_env`), clock frozen.
    :param package: the evaluated model package (:func:`tests.operators.evaluation_env.prepare`).
    :param rounds: how many rounds.
    """
    client = env.sm.boto3_client("sagemaker")
    executions: list[dict[str, Any]] = []
    round_seconds = []
    for round_number in range(rounds):
        began = time.monotonic()
        results = start_concurrently(env, package, round_number)
        round_seconds.append(round(time.monotonic() - began, 2))
        for subtask, (arn, pipeline) in sorted(results.items()):
            ran = subtasks_run_by(client, arn)
            executions.append({"round": round_number, "subtask": subtask, "execution_arn": arn,
                               "pipeline_name": pipeline, "definition_subtasks": sorted(ran),
                               "own_definition": ran == {subtask}})
    return {
        "rounds": rounds,
        "executions": executions,
        "cross_talk": sum(not execution["own_definition"] for execution in executions),
        "pipelines": len({execution["pipeline_name"] for execution in executions}),
        "round_seconds": round_seconds,
    }


def warm_up(env: Env, package: str) -> None:
    """Import the SDK once, before the workers fork (one evaluation outside the rounds), and freeze the clock."""
    env.sm.clock.freeze()
    start(env, package, "anatomy", -1)
    env.sm.clear_requests()


def test_concurrent_evaluations_of_one_type_each_run_their_own_definition(env: Env) -> None:
    package = prepare(env)
    warm_up(env, package)
    report = run_rounds(env, package, ROUNDS)

    assert [(e["round"], e["subtask"], e["definition_subtasks"]) for e in report["executions"]
            if not e["own_definition"]] == []
    assert report["cross_talk"] == 0 and len(report["executions"]) == ROUNDS * len(SUBTASKS)
    assert report["pipelines"] == ROUNDS * len(SUBTASKS)  # one pipeline per task instance
    starts = env.sm.requests(operation="StartPipelineExecution")
    assert len(starts) == ROUNDS * len(SUBTASKS)
    assert env.sm.requests(operation="UpdatePipeline") == []

"""Start-up and steady-state costs of waiting triggers: polls never later than one interval, the first
client's botocore data parsed off the loop, only the event's fields kept per waiting trigger.

Against the LocalSageMaker; the poll spacing is read on a virtual clock that every call moves forward.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from airflow_provider_smtrain.jobs.clock import Clock, use_clock
from airflow_provider_smtrain.jobs.kinds import get_kind
from airflow_provider_smtrain.triggers import (
    PipelineExecutionTrigger,
    TrainingJobTrigger,
    TuningJobTrigger,
    pollstate,
)
from airflow_provider_smtrain.triggers import clients as clients_module
from airflow_provider_smtrain.triggers.clients import PooledClient, SageMakerClientPool
from airflow_provider_smtrain.triggers.coalesced import POLLERS
from airflow_provider_smtrain.triggers.pollstate import event_state, poll_delay
from tests.triggers.conftest import CONN_ID, REGION, TriggerSageMaker
from tests.triggers.test_coalesced_reads import run_all, training, until

#: Virtual seconds each SageMaker call takes (a slow List page).
CALL_SECONDS = 0.4
INTERVAL = 2.0


class SteppingClock(Clock):
    """Virtual time: a sleep moves it by what was asked, each SageMaker call by :data:`CALL_SECONDS`."""

    def __init__(self) -> None:
        self.t = 1_800_000_000.0

    def now(self) -> float:
        return self.t

    async def async_sleep(self, seconds: float) -> None:
        self.t += max(seconds, 0.0)
        await asyncio.sleep(0.002)


@pytest.fixture
def slow_calls(monkeypatch: pytest.MonkeyPatch) -> tuple[SteppingClock, list[tuple[str, float]]]:
    """A virtual clock in use, and ``(method, virtual start)`` of every call; the jitter at its longest."""
    clk = SteppingClock()
    starts: list[tuple[str, float]] = []
    real_call = PooledClient._call

    async def timed(self: PooledClient, method: str, *args: Any, **kwargs: Any) -> Any:
        starts.append((method, clk.t))
        clk.t += CALL_SECONDS
        return await real_call(self, method, *args, **kwargs)

    monkeypatch.setattr(PooledClient, "_call", timed)
    monkeypatch.setattr(pollstate.random, "uniform", lambda low, high: high)
    return clk, starts


def _spacing(starts: list[tuple[str, float]], method: str) -> list[float]:
    times = [t for m, t in starts if m == method]
    return [b - a for a, b in zip(times, times[1:], strict=False)]


def _run_until_polled(
    sm: TriggerSageMaker, clk: SteppingClock, starts: list[tuple[str, float]], name: str, method: str
) -> dict[str, Any]:
    async def during(tasks: list[asyncio.Task[Any]]) -> None:
        await until(lambda: len([m for m, _t in starts if m == method]) >= 5)
        await asyncio.to_thread(sm.set_training, name, "Completed", "Completed")

    with use_clock(clk):
        return run_all([training(name, poll_interval=INTERVAL)], during)[0]


def test_the_shared_poller_lists_at_most_one_interval_apart_start_to_start(
    sm: TriggerSageMaker, job_name: str, slow_calls: tuple[SteppingClock, list[tuple[str, float]]]
) -> None:
    clk, starts = slow_calls
    sm.create_training_job(job_name, "InProgress", "Training")
    assert _run_until_polled(sm, clk, starts, job_name, "list_training_jobs")["status"] == "succeeded"
    spacing = _spacing(starts, "list_training_jobs")
    assert len(spacing) >= 4
    # the longest jitter and a 0.4 s page: the next List starts exactly one interval after the last one
    assert max(spacing) == pytest.approx(INTERVAL)


def test_a_trigger_polling_alone_describes_at_most_one_interval_apart(
    sm: TriggerSageMaker,
    job_name: str,
    slow_calls: tuple[SteppingClock, list[tuple[str, float]]],
    describe_each_job: None,
) -> None:
    clk, starts = slow_calls
    sm.create_training_job(job_name, "InProgress", "Training")
    assert _run_until_polled(sm, clk, starts, job_name, "describe_training_job")["status"] == "succeeded"
    spacing = _spacing(starts, "describe_training_job")
    assert len(spacing) >= 4
    assert max(spacing) == pytest.approx(INTERVAL)


def test_poll_delay_jitter_only_shortens_and_takes_off_the_poll_time() -> None:
    import random

    rng = random.Random(7)
    delays = [poll_delay(10.0, rng=rng) for _ in range(2000)]
    assert 9.0 <= min(delays) and max(delays) <= 10.0 and max(delays) > 9.9
    assert all(6.0 <= poll_delay(10.0, 3.0, rng) <= 7.0 for _ in range(200))
    assert poll_delay(10.0, 12.0, rng) == 0.0


# ---------------------------------------------------------------------------------- what a watch keeps


def test_a_waiting_trigger_keeps_only_what_its_event_needs(sm: TriggerSageMaker, job_name: str) -> None:
    names = [f"{job_name}-{i}" for i in range(3)]
    for name in names:
        sm.create_training_job(name, "InProgress", "Training")
    kept: list[set[str]] = []

    async def during(tasks: list[asyncio.Task[Any]]) -> None:
        def watches() -> list[Any]:
            return [w for p in POLLERS.pollers().values() for j in p.jobs.values() for w in j.watches]

        for _ in range(500):
            if len([w for w in watches() if w.job]) == len(names):
                break
            await asyncio.sleep(0.01)
        kept.extend(set(w.job) for w in watches())
        for name in names:
            await asyncio.to_thread(sm.set_training, name, "Failed", "Failed", "AlgorithmError: boom")

    events = run_all([training(name) for name in names], during)
    assert kept == [{"TrainingJobStatus", "SecondaryStatus", "LastModifiedTime"}] * len(names)
    assert [e["failure_reason"] for e in events] == ["AlgorithmError: boom"] * 3


@pytest.mark.parametrize(
    ("trigger_cls", "kind", "describe"),
    [
        (TrainingJobTrigger, "training", "describe_training_job"),
        (TuningJobTrigger, "tuning", "describe_hyper_parameter_tuning_job"),
    ],
)
@pytest.mark.parametrize("status", ["InProgress", "Failed", "Stopped"])
def test_the_kept_fields_give_the_same_payload_as_the_whole_describe(
    sm: TriggerSageMaker, job_name: str, trigger_cls: Any, kind: str, describe: str, status: str
) -> None:
    name = job_name[:32]
    if kind == "training":
        sm.create_training_job(name, "InProgress", "Training")
        sm.set_training(name, status, status if status != "InProgress" else "Training", "AlgorithmError: x")
    else:
        sm.create_tuning_job(name)
        sm.set_tuning(name, status, "TuningJobError: y")
    job_kind = get_kind(kind)
    full = getattr(sm.client(), describe)(**job_kind.request_params(name))
    full.pop("ResponseMetadata", None)
    trigger = trigger_cls(job_name=name, aws_conn_id=CONN_ID, deadline=1.0)
    assert len(event_state(job_kind, full)) < len(full)
    for outcome in ("failed", "deadline", "stopped"):
        assert trigger._payload(outcome, job=event_state(job_kind, full)) == trigger._payload(outcome, job=full)


def test_a_failed_pipeline_execution_payload_is_the_same_from_the_kept_fields() -> None:
    kind = get_kind("pipeline_execution")
    arn = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/p/execution/abc123def456"
    full = {
        "PipelineArn": "arn:aws:sagemaker:us-east-1:123456789012:pipeline/p",
        "PipelineExecutionArn": arn,
        "PipelineExecutionStatus": "Failed",
        "FailureReason": "Step failure: One or multiple steps failed.",
        "PipelineExecutionDisplayName": "d",
        "PipelineVersionId": 1,
    }
    trigger = PipelineExecutionTrigger(job_name=arn, aws_conn_id=CONN_ID)
    trigger._failed_step = {"name": "EvaluateCustomModel", "reason": "AlgorithmError: z"}
    assert trigger._payload("failed", job=event_state(kind, full)) == trigger._payload("failed", job=full)


# ---------------------------------------------------------------------------------- first client


def test_the_first_client_finds_botocore_data_parsed_off_the_loop(
    sm: TriggerSageMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    import botocore.loaders
    from aiobotocore.session import AioSession
    from airflow.providers.amazon.aws.hooks import base_aws

    fresh = botocore.loaders.Loader()  # nothing parsed yet, whatever other tests did
    monkeypatch.setattr(base_aws, "_loader", fresh)
    seen: dict[str, Any] = {}
    real_create = AioSession._create_client
    real_warm = clients_module.warm_loader

    def warm(hook: Any) -> None:
        seen["warm_thread"] = threading.get_ident()
        real_warm(hook)

    async def create(self: AioSession, *args: Any, **kwargs: Any) -> Any:
        keys = list(fresh._cache)
        seen["create_thread"] = threading.get_ident()
        seen["model_cached"] = any(
            k[0] == "load_service_model" and "sagemaker" in k and "service-2" in k for k in keys
        )
        seen["endpoints_cached"] = any(k[:2] == ("load_data_with_path", "endpoints") for k in keys)
        return await real_create(self, *args, **kwargs)

    monkeypatch.setattr(clients_module, "warm_loader", warm)
    monkeypatch.setattr(AioSession, "_create_client", create)
    pool = SageMakerClientPool()

    async def main() -> int:
        async with pool.client(CONN_ID, REGION) as client:
            await client.list_training_jobs(MaxResults=1)
        return threading.get_ident()

    loop_thread = asyncio.run(main())
    assert seen["create_thread"] == loop_thread
    assert seen["warm_thread"] != loop_thread
    assert seen["model_cached"] and seen["endpoints_cached"], seen


def test_warm_loader_never_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    class Broken:
        @property
        def conn_config(self) -> Any:
            raise RuntimeError("no connection")

    clients_module.warm_loader(Broken())  # only a cache: create_client loads what is missing



OPEN_FIRST_CLIENT = """
import asyncio, json, sys, threading
import airflow_provider_smtrain.triggers
from airflow_provider_smtrain.triggers.clients import POOL

HOOKS = "airflow.providers.amazon.aws.hooks.base_aws"
assert HOOKS not in sys.modules
seen = {}

class Spy:
    def find_spec(self, name, path=None, target=None):
        if name == HOOKS:
            seen["import_thread"] = threading.get_ident()
        return None

sys.meta_path.insert(0, Spy())

async def main():
    async with POOL.client("spy", "us-east-1"):
        pass
    return threading.get_ident()

seen["loop_thread"] = asyncio.run(main())
print(json.dumps(seen))
"""


def test_the_first_client_imports_the_amazon_hook_module_off_the_loop(tmp_path: Any) -> None:
    import json
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "AIRFLOW_CONN_SPY": json.dumps(
            {"conn_type": "aws", "login": "AKIDSPY", "password": "spy-secret",
             "extra": {"region_name": "us-east-1", "endpoint_url": "http://127.0.0.1:9"}}
        ),
        "AIRFLOW_HOME": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-c", OPEN_FIRST_CLIENT], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["import_thread"] != seen["loop_thread"]

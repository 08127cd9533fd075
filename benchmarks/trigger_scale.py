"""
What N waiting SageMaker training-job triggers cost in one triggerer event loop: ours vs the amazon provider's.

For every N and every provider, one fresh Python process (a *worker*):

1. creates N training jobs on the project's LocalSageMaker (moto in server mode on 127.0.0.1), all
   planned to end at the same instant, one ``window`` after the triggers are launched;
2. builds the N triggers the way an operator defers (constructor, then ``serialize()``), and starts
   them the way Airflow's triggerer does (class looked up by classpath, rebuilt from the serialized
   kwargs, ``trigger.run()`` consumed by ``async for`` in one asyncio task per trigger, a greenback
   portal per task, ``cleanup()`` at the end, ``asyncio.sleep(0)`` between two creations);
3. measures peak RSS, RSS added per trigger, start-up time (launch until every trigger has read its
   job once), CPU time, requests per job per poll (from the server's request log), event-loop stalls
   (a 50 ms ticker measuring its own lateness) and how long after the jobs ended the last event came.

Both providers run with the same server, the same settings, the same Airflow connection and the same
poll interval (ours: ``poll_interval``; amazon: ``poke_interval`` with a ``max_attempts`` that never
runs out). Results: a markdown table on stdout and in ``benchmarks/results/trigger_scale.md``, raw
numbers in ``benchmarks/results/trigger_scale.json``.

Run::

    .venv/bin/python benchmarks/trigger_scale.py                 # N = 1, 100, 500; 30 s window; 5 s poll
    .venv/bin/python benchmarks/trigger_scale.py --n 2 --window 4 --poll 1 --results-dir /tmp/x

Nothing but 127.0.0.1 is contacted: the workers refuse any other address.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib
import json
import math
import os
import platform
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
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


# ====================================================================================== shared helpers


def _loopback_guard() -> None:
    """Make this process refuse to connect to, or resolve, anything but the loopback."""
    import ipaddress

    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def is_loopback(host: object) -> bool:
        if isinstance(host, bytes):
            host = host.decode()
        if not isinstance(host, str):
            return True  # unix sockets
        if host in ("localhost", ""):
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False

    def check(address: object) -> None:
        if isinstance(address, tuple) and not is_loopback(address[0]):
            raise OSError(f"trigger_scale: refusing to connect to {address!r} (loopback only)")

    def connect(self: socket.socket, address: Any) -> None:
        check(address)
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        check(address)
        return real_connect_ex(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host is not None and not is_loopback(host):
            raise OSError(f"trigger_scale: refusing to resolve {host!r} (loopback only)")
        return real_getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = connect  # type: ignore[method-assign,assignment]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign,assignment]
    socket.getaddrinfo = getaddrinfo


def _rss_bytes() -> int:
    """Current resident set size of this process, in bytes (``/proc/self/statm``)."""
    try:
        with open("/proc/self/statm", "rb") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:  # pragma: no cover - not Linux
        return 0


def _peak_rss_bytes() -> int:
    """Peak resident set size of this process, in bytes (``VmHWM``, else ``getrusage``)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:  # pragma: no cover - not Linux
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _training_job_request(name: str) -> dict[str, Any]:
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


def _percentile(values: Sequence[float], fraction: float) -> float | None:
    """
    Nearest-rank percentile, or None for no values.

    :param values: the sample.
    :param fraction: 0..1.
    """
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]


# ====================================================================================== worker


@dataclass
class WorkerConfig:
    """
    What one worker process measures.

    :param provider: ``ours`` or ``amazon``.
    :param n: number of jobs and triggers.
    :param window: seconds of steady state wanted: the jobs end ``window + startup_allowance * n + poll / 2``
        seconds after the triggers are launched.
    :param poll: seconds between two status reads of one trigger.
    :param startup_allowance: seconds per trigger added to the window for start-up (same for both providers).
    :param endpoint: LocalSageMaker URL (loopback).
    :param region: AWS region of the connection.
    :param startup_timeout: seconds after launch the triggers get to start, when that is after the jobs end.
    :param grace: seconds, after the jobs end (or the start-up timeout), to wait for the last event.
    :param out: where to write the JSON result.
    """

    provider: str
    n: int
    window: float
    poll: float
    startup_allowance: float
    endpoint: str
    region: str
    startup_timeout: float
    grace: float
    out: str


@dataclass
class Tick:
    """
    One wake-up of the lateness ticker.

    :param t: wall-clock time (epoch seconds) of the wake-up.
    :param late: seconds later than asked.
    :param cpu: process CPU time (user + system, all threads) at the wake-up.
    :param rss: resident set size in bytes at the wake-up.
    """

    t: float
    late: float
    cpu: float
    rss: int


@dataclass
class LoopRecord:
    """
    What happened in the worker's event loop.

    :param launch: epoch seconds the first trigger was created.
    :param launch_cpu: process CPU time at ``launch``.
    :param launched: epoch seconds the last trigger task was created.
    :param ticks: the ticker's samples.
    :param first_call: job name -> epoch seconds its first ``DescribeTrainingJob`` was issued.
    :param first_read: job name -> epoch seconds its first ``DescribeTrainingJob`` answered.
    :param events: job name -> (epoch seconds, payload) of the trigger's event.
    :param errors: job name -> exception text of a trigger task that raised.
    :param timed_out: trigger tasks still running at the deadline (then cancelled).
    :param gc_pauses: ``(epoch seconds, generation, seconds)`` of every garbage collection in the loop.
    """

    launch: float = 0.0
    launch_cpu: float = 0.0
    launched: float = 0.0
    ticks: list[Tick] = field(default_factory=list)
    first_call: dict[str, float] = field(default_factory=dict)
    first_read: dict[str, float] = field(default_factory=dict)
    events: dict[str, tuple[float, dict[str, Any]]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    timed_out: int = 0
    gc_pauses: list[tuple[float, int, float]] = field(default_factory=list)


def _operator_side_triggers(cfg: WorkerConfig, names: list[str]) -> list[tuple[str, dict[str, Any]]]:
    """
    Build each trigger as an operator would when deferring and return its ``serialize()`` output.

    :param cfg: the worker configuration.
    :param names: job names, one trigger each.
    """
    if cfg.provider == "ours":
        from airflow_provider_smtrain.triggers import TrainingJobTrigger

        return [
            TrainingJobTrigger(
                job_name=name, aws_conn_id=CONN_ID, region_name=cfg.region, poll_interval=cfg.poll
            ).serialize()
            for name in names
        ]
    from airflow.providers.amazon.aws.triggers.sagemaker import SageMakerTrigger

    # More attempts than the run could ever use: the amazon trigger must not give up first.
    max_attempts = int((_lead(cfg) + cfg.startup_timeout + cfg.grace) / cfg.poll) * 10 + 100
    poke: Any = int(cfg.poll) if float(cfg.poll).is_integer() else cfg.poll
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # poke_interval / max_attempts are deprecated aliases
        return [
            SageMakerTrigger(
                job_name=name,
                job_type="Training",
                poke_interval=poke,
                max_attempts=max_attempts,
                aws_conn_id=CONN_ID,
                region_name=cfg.region,
            ).serialize()
            for name in names
        ]


def _record_first_reads(first_call: dict[str, float], first_read: dict[str, float]) -> None:
    """
    Note when each job's first ``DescribeTrainingJob`` was issued and answered, whatever client made it.

    Wraps ``AioBaseClient._make_api_call`` (two dict lookups per call) so that start-up is measured
    the same way for both providers: a trigger has started once it has asked for its job's status.

    :param first_call: filled with job name -> epoch seconds the first call was made.
    :param first_read: filled with job name -> epoch seconds the first call returned.
    """
    from aiobotocore.client import AioBaseClient

    original = AioBaseClient._make_api_call

    async def _make_api_call(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        if operation_name != "DescribeTrainingJob":
            return await original(self, operation_name, api_params)
        name = api_params.get("TrainingJobName")
        if name is not None and name not in first_call:
            first_call[name] = time.time()
        result = await original(self, operation_name, api_params)
        if name is not None and name not in first_read:
            first_read[name] = time.time()
        return result

    AioBaseClient._make_api_call = _make_api_call  # type: ignore[method-assign]


async def _run_triggers(
    workloads: list[tuple[str, dict[str, Any]]],
    names: list[str],
    launch_at: float,
    deadline_of: Callable[[float], float],
) -> LoopRecord:
    """
    Start one task per trigger like the triggerer's ``create_triggers``/``run_trigger`` and wait for them.

    :param workloads: ``(classpath, kwargs)`` of each trigger.
    :param names: the job name of each trigger.
    :param launch_at: epoch seconds at which to start the first trigger (the ticker runs before).
    :param deadline_of: epoch seconds after which unfinished triggers are cancelled, given the launch time.
    """
    ensure_portal: Callable[[], Any] | None = None
    if os.environ.get("AIRFLOW_DISABLE_GREENBACK_PORTAL", "").lower() != "true":
        try:
            import greenback

            ensure_portal = greenback.ensure_portal
        except ImportError:  # pragma: no cover - greenback ships with Airflow 3
            pass

    record = LoopRecord()
    _record_first_reads(record.first_call, record.first_read)
    gc_started: list[float] = [0.0]

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            gc_started[0] = time.perf_counter()
        else:
            record.gc_pauses.append((time.time(), info["generation"], time.perf_counter() - gc_started[0]))

    gc.callbacks.append(on_gc)
    stop = asyncio.Event()

    async def ticker() -> None:
        process_time = time.process_time
        record.ticks.append(Tick(time.time(), 0.0, process_time(), _rss_bytes()))
        while not stop.is_set():
            started = time.monotonic()
            await asyncio.sleep(TICK_SECONDS)
            late = time.monotonic() - started - TICK_SECONDS
            record.ticks.append(Tick(time.time(), late, process_time(), _rss_bytes()))

    async def run_one(name: str, trigger: Any) -> None:
        if ensure_portal is not None:
            await ensure_portal()
        try:
            async for event in trigger.run():
                record.events[name] = (time.time(), dict(event.payload))
        finally:
            try:
                await trigger.cleanup()
            except Exception:
                pass

    classes: dict[str, type] = {}
    tick_task = asyncio.create_task(ticker(), name="lateness-ticker")
    while len(record.ticks) < 2 or time.time() < launch_at:  # the ticker runs before anything starts
        await asyncio.sleep(min(TICK_SECONDS, max(0.001, launch_at - time.time())))
    record.launch = time.time()
    record.launch_cpu = time.process_time()
    tasks: dict[asyncio.Task[None], str] = {}
    for trigger_id, ((classpath, kwargs), name) in enumerate(zip(workloads, names, strict=True)):
        await asyncio.sleep(0)
        cls = classes.get(classpath)
        if cls is None:
            module, _, attr = classpath.rpartition(".")
            cls = classes[classpath] = getattr(importlib.import_module(module), attr)
        await asyncio.sleep(0)
        trigger = cls(**kwargs)
        trigger.trigger_id = trigger_id
        trigger.triggerer_job_id = 1
        trigger.timeout_after = None
        tasks[asyncio.create_task(run_one(name, trigger), name=f"ID {trigger_id}")] = name
    record.launched = time.time()

    pending: set[asyncio.Task[None]] = set(tasks)
    while pending:
        remaining = deadline_of(record.launch) - time.time()
        if remaining <= 0:
            break
        done, pending = await asyncio.wait(pending, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if not task.cancelled() and task.exception() is not None:
                record.errors[tasks[task]] = repr(task.exception())
    record.timed_out = len(pending)
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.gather(*pending, return_exceptions=True)
    stop.set()
    await tick_task
    gc.callbacks.remove(on_gc)
    return record


def _interpolate(ticks: list[Tick], t: float, attr: str) -> float | None:
    """
    A ticker quantity (``cpu`` or ``rss``) at time ``t``, linearly interpolated; None outside the samples.

    :param ticks: the ticker's samples, in time order.
    :param t: epoch seconds.
    :param attr: ``cpu`` or ``rss``.
    """
    if not ticks or t < ticks[0].t or t > ticks[-1].t:
        return None
    for before, after in zip(ticks, ticks[1:], strict=False):
        if before.t <= t <= after.t:
            span = after.t - before.t
            a, b = float(getattr(before, attr)), float(getattr(after, attr))
            return a if span <= 0 else a + (b - a) * (t - before.t) / span
    return float(getattr(ticks[-1], attr))


def _stall_summary(
    ticks: list[Tick], start: float, end: float, launch: float, gc_pauses: list[tuple[float, int, float]]
) -> dict[str, Any]:
    """
    Loop lateness of the ticks that woke up in ``[start, end]``, with the worst five and the GC pauses in them.

    :param ticks: the ticker's samples.
    :param start: epoch seconds.
    :param end: epoch seconds.
    :param launch: epoch seconds of the launch (times in the summary are relative to it).
    :param gc_pauses: ``(epoch seconds, generation, seconds)`` of the collections.
    """
    inside = [tick for tick in ticks if start <= tick.t <= end]
    lates = [tick.late for tick in inside]
    if not lates:
        return {"ticks": 0, "worst_s": None, "p99_s": None, "blocked_over_0_2_s": None}
    worst = sorted(inside, key=lambda tick: tick.late, reverse=True)[:5]
    pauses = [(at, gen, took) for at, gen, took in gc_pauses if start <= at <= end]
    return {
        "ticks": len(lates),
        "worst_s": round(max(lates), 4),
        "p99_s": round(_percentile(lates, 0.99) or 0.0, 4),
        # time spent in ticks later than Airflow's warning threshold (a lower bound on blocked time)
        "blocked_over_0_2_s": round(sum(late for late in lates if late > AIRFLOW_BLOCK_WARNING_SECONDS), 3),
        "worst_ticks": [{"at_s": round(tick.t - launch, 2), "late_s": round(tick.late, 4)} for tick in worst],
        "gc_collections": len(pauses),
        "gc_worst_s": round(max((took for _a, _g, took in pauses), default=0.0), 4),
        "gc_worst": [
            {"at_s": round(at - launch, 2), "generation": gen, "took_s": round(took, 4)}
            for at, gen, took in sorted(pauses, key=lambda p: p[2], reverse=True)[:3]
        ],
    }


def _lead(cfg: WorkerConfig) -> float:
    """
    Seconds from launching the triggers until the jobs end.

    The window, plus a start-up allowance proportional to N (the same for both providers, so that
    a slow start does not eat the steady state), plus half a poll interval so that the end does
    not fall on the launch-aligned poll grid (which would make N=1 detection latency phase luck).

    :param cfg: the worker configuration.
    """
    return cfg.window + cfg.startup_allowance * cfg.n + cfg.poll / 2


def worker_main(cfg: WorkerConfig) -> None:
    """
    Run one provider at one N and write the measurements as JSON to ``cfg.out``.

    :param cfg: what to measure.
    """
    _loopback_guard()
    load_start = os.getloadavg()
    t_process = time.time()
    wall_start = time.monotonic()
    # Everything the triggers need is imported before the baseline, as in a warm triggerer.
    import airflow  # noqa: F401
    import airflow.providers.amazon.aws.triggers.sagemaker  # noqa: F401

    import airflow_provider_smtrain.triggers  # noqa: F401
    from airflow_provider_smtrain.testing import LocalSageMaker

    imported = time.monotonic() - wall_start
    sm = LocalSageMaker.attach(cfg.endpoint, region=cfg.region)
    prefix = f"bench-{cfg.provider}-{os.getpid()}"
    names = [f"{prefix}-{i:05d}" for i in range(cfg.n)]

    # Jobs end together at `end_at`; the triggers are launched `lead` seconds before that.
    lead = _lead(cfg)
    create_start = time.time()
    # boto3 set-up, then ~5 ms per job (more as the server holds more jobs), then the trigger objects
    estimate = 1.5 + cfg.n * (0.005 + cfg.n * 0.6e-5)
    end_at = create_start + estimate + lead
    client = sm.boto3_client("sagemaker", access_key_id=SETUP_ACCESS_KEY, secret_access_key="bench")
    for index, name in enumerate(names):
        if index % CREATE_CHUNK == 0:
            sm.configure(training_seconds=max(0.1, end_at - time.time()))
        client.create_training_job(**_training_job_request(name))
    created = time.time()
    del client

    workloads = _operator_side_triggers(cfg, names)
    import aiobotocore.client  # noqa: F401  (used by _record_first_reads)
    import greenback  # noqa: F401  (the triggerer's portal)

    gc.collect()
    rss_before = _rss_bytes()
    cpu_before = time.process_time()

    def deadline_of(launch: float) -> float:
        return max(end_at, launch + cfg.startup_timeout) + cfg.grace

    record = asyncio.run(_run_triggers(workloads, names, end_at - lead, deadline_of))
    cpu_after = time.process_time()

    # ------------------------------------------------------------------ server side
    wanted = set(names)
    planned = {
        job["name"]: float(job["planned_end"]) for job in sm.jobs()["training"] if job["name"] in wanted
    }
    describes = [
        r for r in sm.requests(operation="DescribeTrainingJob") if r["access_key_id"] == TRIGGER_ACCESS_KEY
    ]
    foreign = [
        r
        for r in sm.requests(service="sagemaker")
        if r["access_key_id"] not in (TRIGGER_ACCESS_KEY, SETUP_ACCESS_KEY)
    ]
    trigger_ops = Counter(
        r["operation"] for r in sm.requests(service="sagemaker") if r["access_key_id"] == TRIGGER_ACCESS_KEY
    )

    # ------------------------------------------------------------------ derived numbers
    ticks = record.ticks
    end_first = min(planned.values()) if planned else end_at
    end_last = max(planned.values()) if planned else end_at
    all_called = all(name in record.first_call for name in names)
    all_read = all(name in record.first_read for name in names)
    # start-up: until every trigger has asked for its job's status (the trigger's own cost)
    startup_s = (max(record.first_call.values()) - record.launch) if all_called else None
    # the steady state starts once every first answer is in (the first burst of polls is over)
    ready = max(record.first_read.values()) if all_read else None
    steady_start = ready
    steady_s = (end_first - steady_start) if steady_start is not None else None
    # Requests and CPU are counted over whole poll periods starting half a period after the first
    # burst: polls that stay in phase (the amazon trigger has no jitter) would otherwise be counted
    # once too often or too rarely depending on where the window edges fall.
    measure_start = (steady_start + cfg.poll / 2) if steady_start is not None else None
    periods = max(0, math.floor((end_first - measure_start) / cfg.poll)) if measure_start is not None else 0
    measure_end = (measure_start + periods * cfg.poll) if measure_start is not None else None
    steady_ok = periods >= 1

    cpu_launch = record.launch_cpu
    cpu_end = _interpolate(ticks, end_first, "cpu")
    window_cpu = (cpu_end - cpu_launch) if cpu_end is not None else None
    steady_cpu_per_60 = None
    cpu_ms_per_request = None
    req_per_job_per_poll = None
    server_ms: list[float] = []
    if steady_ok and measure_start is not None and measure_end is not None:
        cpu_from = _interpolate(ticks, measure_start, "cpu")
        cpu_to = _interpolate(ticks, measure_end, "cpu")
        if cpu_from is not None and cpu_to is not None:
            steady_cpu_per_60 = (cpu_to - cpu_from) / (measure_end - measure_start) * 60.0
        in_steady = [r for r in describes if measure_start <= r["time"] < measure_end]
        req_per_job_per_poll = len(in_steady) / (cfg.n * periods)
        if cpu_from is not None and cpu_to is not None and in_steady:
            cpu_ms_per_request = (cpu_to - cpu_from) / len(in_steady) * 1000.0
        server_ms = [float(r["duration_ms"]) for r in in_steady]
    window_requests = [r for r in describes if record.launch <= r["time"] < end_first]
    loaded = [tick.rss for tick in ticks if record.launch <= tick.t <= end_first]
    rss_loaded = max(loaded) if loaded else None

    event_times = {name: at for name, (at, _payload) in record.events.items()}
    latencies = [
        event_times[name] - planned[name] for name in names if name in event_times and name in planned
    ]
    statuses = Counter(str(payload.get("status")) for _at, payload in record.events.values())
    last_event = max(event_times.values()) if event_times else None

    result: dict[str, Any] = {
        "provider": cfg.provider,
        "label": PROVIDER_LABELS[cfg.provider],
        "n": cfg.n,
        "config": asdict(cfg),
        "python": platform.python_version(),
        "import_s": round(imported, 3),
        "create_jobs_s": round(created - create_start, 3),
        "window_s": round(end_first - record.launch, 3),
        "job_end_spread_s": round(end_last - end_first, 3),
        "launch_s": round(record.launched - record.launch, 3),
        "launch_late_s": round(record.launch - (end_at - lead), 3),
        "startup_s": round(startup_s, 3) if startup_s is not None else None,
        "startup_answered_s": round(ready - record.launch, 3) if ready is not None else None,
        "started_triggers": len(record.first_call),
        "answered_triggers": len(record.first_read),
        "steady_s": round(steady_s, 3) if steady_s is not None else None,
        "steady_periods": periods,
        "peak_rss_mib": round(_peak_rss_bytes() / MIB, 1),
        "rss_before_mib": round(rss_before / MIB, 1),
        "rss_loaded_mib": round(rss_loaded / MIB, 1) if rss_loaded is not None else None,
        "rss_delta_mib": round((rss_loaded - rss_before) / MIB, 2) if rss_loaded is not None else None,
        "rss_per_trigger_mib": round((rss_loaded - rss_before) / MIB / cfg.n, 4)
        if rss_loaded is not None
        else None,
        "cpu_window_s": round(window_cpu, 3) if window_cpu is not None else None,
        "cpu_steady_per_60s": round(steady_cpu_per_60, 3) if steady_cpu_per_60 is not None else None,
        "cpu_ms_per_request_steady": round(cpu_ms_per_request, 3) if cpu_ms_per_request is not None else None,
        "cpu_total_loop_s": round(cpu_after - cpu_before, 3),
        "requests_per_job_per_poll": round(req_per_job_per_poll, 3)
        if req_per_job_per_poll is not None
        else None,
        "requests_in_window": len(window_requests),
        "requests_total": len(describes),
        "trigger_operations": dict(trigger_ops),
        "foreign_requests": len(foreign),
        "server_describe_ms_mean": round(statistics.fmean(server_ms), 2) if server_ms else None,
        "server_describe_ms_p95": round(_percentile(server_ms, 0.95) or 0.0, 2) if server_ms else None,
        "stall_startup": _stall_summary(
            ticks,
            record.launch,
            min(measure_start, end_first) if measure_start is not None else end_first,
            record.launch,
            record.gc_pauses,
        ),
        # from half a poll after the first answers, like CPU and requests (a pause that began during
        # start-up must not count as a steady-state stall)
        "stall_steady": _stall_summary(ticks, measure_start, end_first, record.launch, record.gc_pauses)
        if measure_start is not None and measure_start < end_first
        else None,
        "stall_whole": _stall_summary(
            ticks, record.launch, last_event or time.time(), record.launch, record.gc_pauses
        ),
        "load_average_at_start": [round(x, 2) for x in load_start],
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "events": len(record.events),
        "event_statuses": dict(statuses),
        "all_succeeded": statuses.get(SUCCESS_STATUS[cfg.provider], 0) == cfg.n,
        "last_event_after_end_s": round(last_event - end_last, 3) if last_event is not None else None,
        "latency_p50_s": round(_percentile(latencies, 0.5) or 0.0, 3) if latencies else None,
        "latency_max_s": round(max(latencies), 3) if latencies else None,
        "timed_out": record.timed_out,
        "errors": dict(list(record.errors.items())[:5]),
        "error_count": len(record.errors),
        "process_s": round(time.time() - t_process, 3),
    }
    Path(cfg.out).write_text(json.dumps(result, indent=2))


# ====================================================================================== driver


@dataclass
class BenchConfig:
    """
    One benchmark run.

    :param ns: trigger counts.
    :param window: seconds of steady state wanted (see :func:`_lead`).
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


def _worker_env(sm: Any, airflow_home: str) -> dict[str, str]:
    """
    Environment of a worker: the connection, no ambient AWS configuration, a scratch AIRFLOW_HOME.

    :param sm: the running LocalSageMaker.
    :param airflow_home: scratch directory.
    """
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("AWS_") and not k.startswith("AIRFLOW_CONN_")
    }
    env.update(
        {
            f"AIRFLOW_CONN_{CONN_ID.upper()}": sm.airflow_connection_json(
                access_key_id=TRIGGER_ACCESS_KEY, secret_access_key="bench-secret"
            ),
            "AIRFLOW_HOME": airflow_home,
            "AWS_ACCESS_KEY_ID": AMBIENT_ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": "ambient-secret",
            "AWS_DEFAULT_REGION": sm.region,
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_EC2_METADATA_DISABLED": "true",
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
            "PYTHONWARNINGS": "ignore",
            "PYTHONUNBUFFERED": "1",
        }
    )
    for proxy in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        env.pop(proxy, None)
    return env


def _run_worker(bench: BenchConfig, sm: Any, provider: str, n: int, scratch: Path) -> dict[str, Any]:
    """
    Run one worker process and return its result (or a row describing its failure).

    :param bench: the benchmark configuration.
    :param sm: the running LocalSageMaker (reset before the worker starts).
    :param provider: ``ours`` or ``amazon``.
    :param n: number of triggers.
    :param scratch: directory for the worker's output, log and AIRFLOW_HOME.
    """
    sm.reset()
    run_dir = scratch / f"{provider}-{n}"
    run_dir.mkdir(parents=True, exist_ok=True)
    out = run_dir / "result.json"
    log_path = run_dir / "worker.log"
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        "--provider", provider,
        "--n", str(n),
        "--window", str(bench.window),
        "--poll", str(bench.poll),
        "--startup-allowance", str(bench.startup_allowance),
        "--endpoint", sm.endpoint_url,
        "--region", sm.region,
        "--startup-timeout", str(bench.startup_timeout),
        "--grace", str(bench.grace),
        "--out", str(out),
    ]  # fmt: skip
    budget = 120 + n * (0.05 + bench.startup_allowance) + bench.window + bench.startup_timeout + bench.grace
    started = time.monotonic()
    with open(log_path, "wb") as log_file:
        try:
            proc = subprocess.run(
                cmd,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=_worker_env(sm, str(run_dir / "airflow_home")),
                cwd=str(REPO),
                timeout=budget,
                check=False,
            )
            returncode: int | None = proc.returncode
        except subprocess.TimeoutExpired:
            returncode = None
    elapsed = time.monotonic() - started
    if returncode == 0 and out.exists():
        result: dict[str, Any] = json.loads(out.read_text())
        result["worker_wall_s"] = round(elapsed, 3)
        return result
    tail = log_path.read_bytes()[-3000:].decode("utf-8", "replace") if log_path.exists() else ""
    return {
        "provider": provider,
        "label": PROVIDER_LABELS[provider],
        "n": n,
        "failed": "worker timed out" if returncode is None else f"worker exited with {returncode}",
        "worker_wall_s": round(elapsed, 3),
        "log_tail": tail,
    }


# -------------------------------------------------------------------------------------- formatting


def _fmt(value: Any, digits: int = 2, unit: str = "") -> str:
    """
    A table cell: ``–`` for None, numbers rounded, thousands separated.

    :param value: the number (or None).
    :param digits: decimals.
    :param unit: suffix.
    """
    if value is None:
        return "–"
    if isinstance(value, int | float):
        return f"{value:,.{digits}f}{unit}"
    return str(value)


def _ratio(ours: Any, amazon: Any, digits: int = 2) -> str:
    """
    ``ours / amazon`` as a cell, ``–`` when either is missing or amazon is 0.

    :param ours: our value.
    :param amazon: the amazon provider's value.
    :param digits: decimals.
    """
    if not isinstance(ours, int | float) or not isinstance(amazon, int | float) or amazon == 0:
        return "–"
    return f"{ours / amazon:.{digits}f}×"


def _stall_pair(row: dict[str, Any]) -> tuple[float | None, float | None]:
    """
    Worst loop stall at start-up and in the steady state, seconds.

    :param row: a worker result.
    """
    startup = (row.get("stall_startup") or {}).get("worst_s")
    steady = (row.get("stall_steady") or {}).get("worst_s")
    return startup, steady


#: (column title, result key or function, digits, unit)
Column = tuple[str, Callable[[dict[str, Any]], Any], int, str]
COLUMNS: list[Column] = [
    ("peak RSS", lambda r: r.get("peak_rss_mib"), 0, " MiB"),
    ("RSS per trigger", lambda r: r.get("rss_per_trigger_mib"), 3, " MiB"),
    ("RSS per extra trigger (vs previous N)", lambda r: r.get("rss_marginal_per_trigger_mib"), 3, " MiB"),
    ("start-up (all triggers polled)", lambda r: r.get("startup_s"), 2, " s"),
    ("CPU in window", lambda r: r.get("cpu_window_s"), 2, " s"),
    ("CPU per 60 s steady", lambda r: r.get("cpu_steady_per_60s"), 2, " s"),
    ("CPU per request steady", lambda r: r.get("cpu_ms_per_request_steady"), 2, " ms"),
    ("requests / job / poll", lambda r: r.get("requests_per_job_per_poll"), 2, ""),
    ("worst stall start-up", lambda r: _ms(_stall_pair(r)[0]), 0, " ms"),
    ("worst stall steady", lambda r: _ms(_stall_pair(r)[1]), 0, " ms"),
    ("last event after jobs' end", lambda r: r.get("last_event_after_end_s"), 2, " s"),
]


def _ms(seconds: float | None) -> float | None:
    """
    Seconds to milliseconds, None stays None.

    :param seconds: a duration.
    """
    return None if seconds is None else seconds * 1000.0


def render_markdown(bench: BenchConfig, rows: list[dict[str, Any]], wall_s: float) -> str:
    """
    The results table (one row per provider and N, one ratio row per N) and notes.

    :param bench: the benchmark configuration.
    :param rows: worker results.
    :param wall_s: duration of the whole run.
    """
    header = ["trigger", "N", *(title for title, *_ in COLUMNS), "events"]
    lines = [
        "| " + " | ".join(header) + " |",
        "|---|---:|" + "---:|" * (len(COLUMNS) + 1),
    ]
    notes: list[str] = []
    for n in bench.ns:
        by_provider = {row["provider"]: row for row in rows if row["n"] == n}
        for provider in bench.providers:
            row = by_provider.get(provider)
            if row is None:
                continue
            if "failed" in row:
                cells = ["failed"] * len(COLUMNS) + ["–"]
                notes.append(f"{row['label']} N={n}: {row['failed']} (see the JSON for the log tail).")
            else:
                cells = [_fmt(get(row), digits, unit) for _t, get, digits, unit in COLUMNS]
                ok = "all ok" if row.get("all_succeeded") else json.dumps(row.get("event_statuses"))
                cells.append(f"{row['events']}/{n} {ok}")
                notes.extend(_row_notes(bench, row))
            lines.append(f"| {row['label']} | {n} | " + " | ".join(cells) + " |")
        ours, amazon = by_provider.get("ours"), by_provider.get("amazon")
        if ours and amazon and "failed" not in ours and "failed" not in amazon:
            cells = [_ratio(get(ours), get(amazon)) for _t, get, _d, _u in COLUMNS]
            lines.append(f"| **ours / amazon** | {n} | " + " | ".join(cells) + " | |")
    settings = (
        f"Jobs stay InProgress from the launch of the triggers for window {bench.window:g} s "
        f"+ {bench.startup_allowance:g} s × N start-up allowance + half a poll, then all end together; "
        f"poll {bench.poll:g} s, start-up timeout {bench.startup_timeout:g} s, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, {_versions()}; "
        f"whole run {wall_s:.0f} s."
    )
    loads = [row["load_average_at_start"][0] for row in rows if row.get("load_average_at_start")]
    if loads:
        settings += (
            f" 1-minute load average when the workers started: {min(loads):.2f}-{max(loads):.2f} "
            "(anything else running on the machine competes with the worker and the server)."
        )
    text = "\n".join(lines) + "\n\n" + settings + "\n"
    if notes:
        text += "\n" + "\n".join(f"- {note}" for note in notes) + "\n"
    return text


def _row_notes(bench: BenchConfig, row: dict[str, Any]) -> list[str]:
    """
    Findings worth a sentence under the table (timeouts, slow start-up, errors, stray requests).

    :param bench: the benchmark configuration.
    :param row: a worker result.
    """
    label, n = row["label"], row["n"]
    notes = []
    if row.get("timed_out"):
        notes.append(
            f"{label} N={n}: {row['timed_out']} trigger(s) had not fired {bench.startup_timeout:g} s after "
            f"launch (+{bench.grace:g} s grace) and were cancelled; {row['started_triggers']}/{n} had polled."
        )
    if row.get("startup_s") is None:
        notes.append(
            f"{label} N={n}: only {row.get('started_triggers')}/{n} triggers ever asked for their job's status."
        )
    elif not row.get("steady_periods"):
        notes.append(
            f"{label} N={n}: start-up ({row['startup_s']:.1f} s until every trigger had polled, "
            f"{row.get('startup_answered_s') or 0:.1f} s until every first answer was in) used up the "
            f"{row['window_s']:.0f} s the jobs ran after launch, so there is no steady state to measure."
        )
    server_ms = row.get("server_describe_ms_mean")
    if server_ms is not None and server_ms > SERVER_SATURATED_MS:
        notes.append(
            f"{label} N={n}: LocalSageMaker took {server_ms:.0f} ms on average to answer a DescribeTrainingJob "
            "in the steady state (server-side, waiting for its lock included): the server, not the trigger, "
            "limits the poll rate here."
        )
    if row.get("error_count"):
        notes.append(f"{label} N={n}: {row['error_count']} trigger task(s) raised, e.g. {row['errors']}.")
    if row.get("foreign_requests"):
        notes.append(
            f"{label} N={n}: {row['foreign_requests']} request(s) were not signed by the connection."
        )
    return notes


def _versions() -> str:
    """Versions of the packages under test."""
    from importlib.metadata import PackageNotFoundError, version

    parts = []
    for dist in (
        "apache-airflow",
        "apache-airflow-providers-amazon",
        "aiobotocore",
        "airflow-provider-smtrain",
    ):
        try:
            parts.append(f"{dist} {version(dist)}")
        except PackageNotFoundError:
            continue
    return ", ".join(parts)


def add_marginal_rss(rows: list[dict[str, Any]]) -> None:
    """
    Set ``rss_marginal_per_trigger_mib`` on each row: the RSS one more trigger costs, from the previous N.

    ``(delta(N) - delta(N_prev)) / (N - N_prev)`` where delta is the RSS the triggers added in the
    worker and N_prev the next smaller N run for the provider; this removes one-time costs (the first
    client, the service model) that dominate ``rss_per_trigger_mib`` at small N.

    :param rows: worker results (changed in place).
    """
    for provider in PROVIDERS:
        measured = sorted(
            (r for r in rows if r["provider"] == provider and r.get("rss_delta_mib") is not None),
            key=lambda r: r["n"],
        )
        for previous, row in zip(measured, measured[1:], strict=False):
            if row["n"] > previous["n"]:
                marginal = (row["rss_delta_mib"] - previous["rss_delta_mib"]) / (row["n"] - previous["n"])
                row["rss_marginal_per_trigger_mib"] = round(marginal, 4)


def run_benchmark(bench: BenchConfig) -> tuple[list[dict[str, Any]], str]:
    """
    Run every (N, provider) worker against one LocalSageMaker; write and return the results.

    :param bench: the benchmark configuration.
    """
    from airflow_provider_smtrain.testing import LocalSageMaker

    started = time.monotonic()
    rows: list[dict[str, Any]] = []
    scratch = Path(tempfile.mkdtemp(prefix="trigger-scale-"))
    try:
        with LocalSageMaker(training_seconds=bench.window, startup_timeout=30.0) as sm:
            # Warm the server (its first requests are slow), then start from a clean state per worker.
            client = sm.boto3_client("sagemaker", access_key_id=SETUP_ACCESS_KEY, secret_access_key="bench")
            client.create_training_job(**_training_job_request("bench-warm-up"))
            client.describe_training_job(TrainingJobName="bench-warm-up")
            for n in bench.ns:
                for provider in bench.providers:
                    print(
                        f"[trigger_scale] {PROVIDER_LABELS[provider]} N={n} ...", file=sys.stderr, flush=True
                    )
                    row = _run_worker(bench, sm, provider, n, scratch)
                    rows.append(row)
                    print(f"[trigger_scale]   {_summary_line(row)}", file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    wall_s = time.monotonic() - started
    add_marginal_rss(rows)
    markdown = render_markdown(bench, rows, wall_s)
    bench.results_dir.mkdir(parents=True, exist_ok=True)
    (bench.results_dir / "trigger_scale.md").write_text(
        "# Trigger scale: ours vs the amazon provider\n\n"
        "Generated by `.venv/bin/python benchmarks/trigger_scale.py "
        f"--n {' '.join(map(str, bench.ns))} --window {bench.window:g} --poll {bench.poll:g}` "
        f"on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.\n\n" + markdown
    )
    config = asdict(bench)
    config["results_dir"] = str(bench.results_dir)
    (bench.results_dir / "trigger_scale.json").write_text(
        json.dumps(
            {"config": config, "wall_s": round(wall_s, 1), "versions": _versions(), "runs": rows}, indent=2
        )
    )
    return rows, markdown


def _summary_line(row: dict[str, Any]) -> str:
    """
    One progress line for stderr.

    :param row: a worker result.
    """
    if "failed" in row:
        return f"FAILED: {row['failed']}"
    return (
        f"events {row['events']}/{row['n']}, peak {row['peak_rss_mib']} MiB, start-up {row['startup_s']} s, "
        f"req/job/poll {row['requests_per_job_per_poll']}, worker {row['worker_wall_s']} s"
    )


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """
    Command line.

    :param argv: arguments (default: ``sys.argv[1:]``).
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--n", type=int, nargs="+", default=[1, 100, 500], help="trigger counts")
    parser.add_argument("--window", type=float, default=30.0, help="seconds the jobs stay InProgress")
    parser.add_argument("--poll", type=float, default=5.0, help="poll interval of both providers, seconds")
    parser.add_argument(
        "--startup-allowance",
        type=float,
        default=0.06,
        help="seconds per trigger added to the window so that start-up does not eat the steady state",
    )
    parser.add_argument("--providers", nargs="+", choices=PROVIDERS, default=list(PROVIDERS))
    parser.add_argument(
        "--startup-timeout",
        type=float,
        default=60.0,
        help="seconds after launch the triggers get to start when that is later than the jobs' end",
    )
    parser.add_argument(
        "--grace", type=float, default=None, help="seconds to wait for events after the jobs end"
    )
    parser.add_argument("--results-dir", type=Path, default=DEFAULT_RESULTS_DIR)
    # worker-only
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--provider", choices=PROVIDERS, help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)
    parser.add_argument("--region", default="us-east-1", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.window <= 0 or args.poll <= 0 or args.startup_allowance < 0 or any(n < 1 for n in args.n):
        parser.error("--window and --poll must be > 0, --startup-allowance >= 0 and every --n >= 1")
    if args.grace is None:
        args.grace = max(3 * args.poll, 10.0)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """
    Entry point: the driver by default, a worker with ``--worker``.

    :param argv: arguments (default: ``sys.argv[1:]``).
    """
    args = _parse(argv)
    if args.worker:
        worker_main(
            WorkerConfig(
                provider=args.provider,
                n=args.n[0],
                window=args.window,
                poll=args.poll,
                startup_allowance=args.startup_allowance,
                endpoint=args.endpoint,
                region=args.region,
                startup_timeout=args.startup_timeout,
                grace=args.grace,
                out=args.out,
            )
        )
        return 0
    bench = BenchConfig(
        ns=list(args.n),
        window=args.window,
        poll=args.poll,
        startup_allowance=args.startup_allowance,
        providers=list(args.providers),
        startup_timeout=args.startup_timeout,
        grace=args.grace,
        results_dir=args.results_dir,
    )
    rows, markdown = run_benchmark(bench)
    print(markdown)
    return 0 if all("failed" not in row for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())

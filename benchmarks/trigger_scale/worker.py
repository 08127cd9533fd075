"""
One worker process: one provider at one N, measured, written as JSON.

Takes the N jobs the driver created (:mod:`.setup`), builds the triggers as an operator would, runs
them (:func:`~.loop.run_triggers`) and derives the numbers from the loop's record and the server's
request log. The process imports and holds only what a triggerer running the measured provider's
trigger does (plus the LocalSageMaker control client: a few HTTP calls, no boto3 client).
"""

from __future__ import annotations

import asyncio
import gc
import json
import math
import os
import platform
import time
import warnings
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from benchmarks.trigger_scale.common import (
    CONN_ID,
    KINDS,
    MIB,
    SETUP_ACCESS_KEY,
    TRIGGER_ACCESS_KEY,
    VARIANTS,
    loopback_guard,
    peak_rss_bytes,
    percentile,
    rss_bytes,
)
from benchmarks.trigger_scale.loop import EndPlan, run_triggers
from benchmarks.trigger_scale.measures import interpolate, latency_summary, stall_summary
from benchmarks.trigger_scale.setup import read_jobs


@dataclass
class WorkerConfig:
    """
    What one worker process measures.

    :param provider: the variant (``ours-training``, ``amazon-training``, ``ours-tuning``, ``amazon-tuning``).
    :param n: number of jobs and triggers.
    :param window: seconds of steady state measured (rounded to whole poll periods, at least one): the jobs
        end that long (plus half a poll before and a quarter after) after every trigger has read its job once.
    :param poll: seconds between two status reads of one trigger.
    :param endpoint: LocalSageMaker URL (loopback).
    :param region: AWS region of the connection.
    :param startup_timeout: seconds after launch the triggers get to read their jobs once; then the jobs end anyway.
    :param grace: seconds, after the jobs end, to wait for the last event.
    :param out: where to write the JSON result.
    :param jobs_file: the jobs the driver created (:func:`~.setup.write_jobs`).
    """

    provider: str
    n: int
    window: float
    poll: float
    endpoint: str
    region: str
    startup_timeout: float
    grace: float
    out: str
    jobs_file: str


def _operator_side_triggers(cfg: WorkerConfig, names: list[str]) -> list[tuple[str, dict[str, Any]]]:
    """
    Build each trigger as an operator would when deferring and return its ``serialize()`` output.

    :param cfg: the worker configuration.
    :param names: job names, one trigger each.
    """
    variant = VARIANTS[cfg.provider]
    if variant.side == "ours":
        from airflow_provider_smtrain.triggers import (
            PipelineExecutionTrigger,
            TrainingJobTrigger,
            TuningJobTrigger,
        )

        cls = {"tuning": TuningJobTrigger, "pipeline": PipelineExecutionTrigger}.get(
            variant.kind, TrainingJobTrigger
        )
        return [
            cls(
                job_name=name, aws_conn_id=CONN_ID, region_name=cfg.region, poll_interval=cfg.poll
            ).serialize()
            for name in names
        ]
    from airflow.providers.amazon.aws.triggers.sagemaker import SageMakerPipelineTrigger, SageMakerTrigger

    # More attempts than the run could ever use: the amazon trigger must not give up first.
    max_attempts = int((cfg.startup_timeout + cfg.window + cfg.grace) / cfg.poll) * 10 + 100
    poke: Any = int(cfg.poll) if float(cfg.poll).is_integer() else cfg.poll
    if variant.kind == "pipeline":
        return [
            SageMakerPipelineTrigger(
                waiter_type=SageMakerPipelineTrigger.Type.COMPLETE,
                pipeline_execution_arn=arn,
                waiter_delay=max(1, round(cfg.poll)),  # the trigger sleeps int(waiter_delay)
                waiter_max_attempts=max_attempts,
                aws_conn_id=CONN_ID,
                region_name=cfg.region,
            ).serialize()
            for arn in names
        ]
    job_type = "Tuning" if variant.kind == "tuning" else "Training"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # poke_interval / max_attempts are deprecated aliases
        return [
            SageMakerTrigger(
                job_name=name,
                job_type=job_type,
                poke_interval=poke,
                max_attempts=max_attempts,
                aws_conn_id=CONN_ID,
                region_name=cfg.region,
            ).serialize()
            for name in names
        ]


#: Simulated seconds the clock is moved past the planned end (covers the creation of one chunk of jobs).
END_MARGIN_SECONDS = 30.0


def _finite(value: float | None) -> float | None:
    """
    A latency in seconds, rounded; None when unknown (no event, or a trigger that never fired).

    :param value: seconds, ``inf`` or None.
    """
    return None if value is None or math.isinf(value) else round(value, 3)


def _periods(cfg: WorkerConfig) -> int:
    """
    Whole poll periods of steady state to measure.

    :param cfg: the worker configuration.
    """
    return max(1, round(cfg.window / cfg.poll))


def worker_main(cfg: WorkerConfig) -> None:
    """
    Run one trigger variant at one N and write the measurements as JSON to ``cfg.out``.

    :param cfg: what to measure.
    """
    loopback_guard()
    load_start = os.getloadavg()
    t_process = time.time()
    wall_start = time.monotonic()
    variant = VARIANTS[cfg.provider]
    kind = KINDS[variant.kind]
    # Everything the triggers need is imported before the baseline, as in a warm triggerer; only the measured
    # provider's triggers: a triggerer running only one provider's triggers never imports the other's.
    import airflow  # noqa: F401

    if variant.side == "ours":
        import airflow_provider_smtrain.triggers  # noqa: F401
    else:
        import airflow.providers.amazon.aws.triggers.sagemaker  # noqa: F401
    from airflow_provider_smtrain.testing import LocalSageMaker

    imported = time.monotonic() - wall_start
    sm = LocalSageMaker.attach(cfg.endpoint, region=cfg.region)
    # The jobs run (in simulated time) far longer than the benchmark; once every trigger has read its job
    # and the steady state was measured, the worker moves the LocalSageMaker clock past their common
    # end: they all end at that real instant, however long each variant took to start.
    names, planned_end = read_jobs(cfg.jobs_file)
    assert len(names) == cfg.n, (len(names), cfg.n)

    def end_jobs() -> None:
        sm.clock.advance(max(0.0, planned_end + END_MARGIN_SECONDS - sm.clock.now()))

    workloads = _operator_side_triggers(cfg, names)
    import aiobotocore.client  # noqa: F401  (patched by loop._record_first_reads)
    import greenback  # noqa: F401  (the triggerer's portal)

    gc.collect()
    rss_before = rss_bytes()
    cpu_before = time.process_time()
    plan = EndPlan(cfg.poll, _periods(cfg), cfg.startup_timeout, cfg.grace, end_jobs)
    record = asyncio.run(
        run_triggers(workloads, names, time.time() + 0.2, plan, (kind.describe_operation, kind.name_param))
    )
    cpu_after = time.process_time()
    peak_rss = peak_rss_bytes()  # before the request log is read below: that is the benchmark's, not the triggers'

    # ------------------------------------------------------------------ server side
    sagemaker_requests = sm.requests(service="sagemaker")
    # every SageMaker request signed by the triggers' connection, whatever the operation (Describe*, List*)
    trigger_requests = [r for r in sagemaker_requests if r["access_key_id"] == TRIGGER_ACCESS_KEY]
    foreign = [
        r for r in sagemaker_requests if r["access_key_id"] not in (TRIGGER_ACCESS_KEY, SETUP_ACCESS_KEY)
    ]
    trigger_ops = Counter(r["operation"] for r in trigger_requests)

    # ------------------------------------------------------------------ derived numbers
    ticks = record.ticks
    ended = record.jobs_ended if record.jobs_ended is not None else time.time()
    all_called = all(name in record.first_call for name in names)
    # start-up: until every trigger has asked for its job's status (the trigger's own cost)
    startup_s = (max(record.first_call.values()) - record.launch) if all_called else None
    # the steady state starts once every first answer is in (the first burst of polls is over).
    # Requests and CPU are counted over whole poll periods starting half a period after the first
    # burst: polls that stay in phase (the amazon trigger has no jitter) would otherwise be counted
    # once too often or too rarely depending on where the window edges fall.
    ready = record.ready
    measure_start, measure_end = plan.steady_span(ready) if ready is not None else (None, None)
    periods = plan.periods if ready is not None else 0
    steady_ok = periods >= 1

    cpu_ready = interpolate(ticks, ready, "cpu") if ready is not None else None
    startup_cpu = (cpu_ready - record.launch_cpu) if cpu_ready is not None else None
    steady_cpu_per_60 = None
    cpu_ms_per_request = None
    req_per_job_per_poll = None
    server_ms: list[float] = []
    server_ms_by_op: dict[str, list[float]] = {}
    if steady_ok and measure_start is not None and measure_end is not None:
        cpu_from = interpolate(ticks, measure_start, "cpu")
        cpu_to = interpolate(ticks, measure_end, "cpu")
        if cpu_from is not None and cpu_to is not None:
            steady_cpu_per_60 = (cpu_to - cpu_from) / (measure_end - measure_start) * 60.0
        in_steady = [r for r in trigger_requests if measure_start <= r["time"] < measure_end]
        req_per_job_per_poll = len(in_steady) / (cfg.n * periods)
        if cpu_from is not None and cpu_to is not None and in_steady:
            cpu_ms_per_request = (cpu_to - cpu_from) / len(in_steady) * 1000.0
        server_ms = [float(r["duration_ms"]) for r in in_steady]
        for r in in_steady:
            server_ms_by_op.setdefault(str(r["operation"]), []).append(float(r["duration_ms"]))
    window_requests = [r for r in trigger_requests if record.launch <= r["time"] < ended]
    loaded = [tick.rss for tick in ticks if record.launch <= tick.t <= ended]
    rss_loaded = max(loaded) if loaded else None

    event_times = {name: at for name, (at, _payload) in record.events.items()}
    latencies = [event_times[name] - ended for name in names if name in event_times]
    # a trigger that never fired counts as later than any event (its percentile is then unknown: None)
    ranked = sorted(latencies) + [math.inf] * (cfg.n - len(latencies))
    statuses = Counter(str(payload.get("status")) for _at, payload in record.events.values())
    last_event = max(event_times.values()) if event_times else None

    result: dict[str, Any] = {
        "provider": cfg.provider,
        "label": variant.label,
        "side": variant.side,
        "kind": variant.kind,
        "n": cfg.n,
        "config": asdict(cfg),
        "python": platform.python_version(),
        "import_s": round(imported, 3),
        "jobs_ended_after_launch_s": round(ended - record.launch, 3),
        "launch_s": round(record.launched - record.launch, 3),
        "startup_s": round(startup_s, 3) if startup_s is not None else None,
        "startup_answered_s": round(ready - record.launch, 3) if ready is not None else None,
        "started_triggers": len(record.first_call),
        "answered_triggers": len(record.first_read),
        "steady_span_s": [round(measure_start - record.launch, 3), round(measure_end - record.launch, 3)]
        if measure_start is not None and measure_end is not None
        else None,
        "steady_periods": periods,
        "peak_rss_mib": round(peak_rss / MIB, 1),
        "rss_before_mib": round(rss_before / MIB, 1),
        "rss_loaded_mib": round(rss_loaded / MIB, 1) if rss_loaded is not None else None,
        "rss_delta_mib": round((rss_loaded - rss_before) / MIB, 2) if rss_loaded is not None else None,
        "rss_per_trigger_mib": round((rss_loaded - rss_before) / MIB / cfg.n, 4)
        if rss_loaded is not None
        else None,
        "cpu_startup_s": round(startup_cpu, 3) if startup_cpu is not None else None,
        "cpu_steady_per_60s": round(steady_cpu_per_60, 3) if steady_cpu_per_60 is not None else None,
        "cpu_ms_per_request_steady": round(cpu_ms_per_request, 3) if cpu_ms_per_request is not None else None,
        "cpu_total_loop_s": round(cpu_after - cpu_before, 3),
        "requests_per_job_per_poll": round(req_per_job_per_poll, 3)
        if req_per_job_per_poll is not None
        else None,
        "requests_in_window": len(window_requests),
        "requests_total": len(trigger_requests),
        "trigger_operations": dict(trigger_ops),
        "foreign_requests": len(foreign),
        # server-side answer time (request arrival to response, the lock wait included) of the
        # triggers' requests in the steady state, and of all of them from launch to the last event
        "server_ms_steady": latency_summary(server_ms),
        "server_ms_steady_by_operation": {
            op: latency_summary(ms) for op, ms in sorted(server_ms_by_op.items())
        },
        "server_ms_all": latency_summary([float(r["duration_ms"]) for r in trigger_requests]),
        "stall_startup": stall_summary(
            ticks,
            record.launch,
            measure_start if measure_start is not None else ended,
            record.launch,
            record.gc_pauses,
        ),
        # from half a poll after the first answers, like CPU and requests (a pause that began during
        # start-up must not count as a steady-state stall)
        "stall_steady": stall_summary(ticks, measure_start, ended, record.launch, record.gc_pauses)
        if measure_start is not None
        else None,
        "stall_whole": stall_summary(
            ticks, record.launch, last_event or time.time(), record.launch, record.gc_pauses
        ),
        "load_average_at_start": [round(x, 2) for x in load_start],
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "events": len(record.events),
        "event_statuses": dict(statuses),
        "all_succeeded": statuses.get(variant.success_status, 0) == cfg.n,
        "last_event_after_end_s": round(last_event - ended, 3) if last_event is not None else None,
        "latency_p50_s": _finite(percentile(ranked, 0.5)),
        "latency_p99_s": _finite(percentile(ranked, 0.99)),
        "latency_max_s": _finite(max(ranked, default=None)),
        "missing_events": cfg.n - len(latencies),
        "timed_out": record.timed_out,
        "errors": dict(list(record.errors.items())[:5]),
        "error_count": len(record.errors),
        "process_s": round(time.time() - t_process, 3),
    }
    Path(cfg.out).write_text(json.dumps(result, indent=2))

"""The driver: one LocalSageMaker for the whole run, one fresh worker process per provider and N."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from benchmarks.trigger_scale.acceptance import acceptance_verdicts
from benchmarks.trigger_scale.common import (
    AMBIENT_ACCESS_KEY,
    CONN_ID,
    PROVIDER_LABELS,
    REPO,
    SETUP_ACCESS_KEY,
    TRIGGER_ACCESS_KEY,
    BenchConfig,
    training_job_request,
    tuning_job_request,
)
from benchmarks.trigger_scale.report import add_marginal_rss, render_markdown, versions
from benchmarks.trigger_scale.setup import create_jobs, write_jobs

#: The command line the workers are started with (as ``--worker``).
SCRIPT = REPO / "benchmarks" / "trigger_scale.py"


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
    sm.create_bucket("bench")  # where completed jobs store their model artifacts
    run_dir = scratch / f"{provider}-{n}"
    run_dir.mkdir(parents=True, exist_ok=True)
    created = time.monotonic()
    jobs_file = run_dir / "jobs.json"
    write_jobs(jobs_file, *create_jobs(sm, provider, n))
    create_s = time.monotonic() - created
    out = run_dir / "result.json"
    log_path = run_dir / "worker.log"
    cmd = [
        sys.executable,
        str(SCRIPT),
        "--worker",
        "--provider", provider,
        "--n", str(n),
        "--window", str(bench.window),
        "--poll", str(bench.poll),
        "--endpoint", sm.endpoint_url,
        "--region", sm.region,
        "--startup-timeout", str(bench.startup_timeout),
        "--grace", str(bench.grace),
        "--out", str(out),
        "--jobs-file", str(jobs_file),
    ]  # fmt: skip
    # imports, start-up, steady state, events, reading the request log
    budget = 120 + n * 0.02 + bench.startup_timeout + bench.window + bench.poll + bench.grace
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
        result["create_jobs_s"] = round(create_s, 3)
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
            client.create_training_job(**training_job_request("bench-warm-up"))
            client.describe_training_job(TrainingJobName="bench-warm-up")
            client.create_hyper_parameter_tuning_job(**tuning_job_request("bench-warm-up"))
            client.describe_hyper_parameter_tuning_job(HyperParameterTuningJobName="bench-warm-up")
            arns, _end = create_jobs(sm, "ours-pipeline", 1)
            client.describe_pipeline_execution(PipelineExecutionArn=arns[0])
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
            {
                "config": config,
                "wall_s": round(wall_s, 1),
                "versions": versions(),
                "acceptance": acceptance_verdicts(bench, rows),
                "runs": rows,
            },
            indent=2,
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

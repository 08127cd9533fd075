"""Submit cost: from ``execute()`` starting to the training job existing in SageMaker, ours vs the amazon provider.

One LocalSageMaker (``airflow_provider_smtrain.testing``) for the whole run. For each bytecode scenario and
each provider, ``--runs`` fresh worker processes (``submit_cost_worker.py``); each imports ``airflow.sdk``
and the operator module, then runs ``execute()`` twice (cold: the first in the process; warm: the second).
The job exists when the server has answered ``CreateTrainingJob`` (its request log: arrival + duration).

Bytecode scenarios (``PYTHONDONTWRITEBYTECODE=1`` in every worker, so a run never changes the next one):

* ``compiled``: every module the worker imports has a ``.pyc`` (what ``pip install``, or ``uv pip install
  --compile-bytecode`` as ``scripts/setup`` now does, leave), through a ``PYTHONPYCACHEPREFIX`` filled once;
* ``source``: an empty ``PYTHONPYCACHEPREFIX``: every module compiled from source (truly cold);
* ``installed``: the environment as it is (``.venv`` ``__pycache__`` directories, whatever they hold).

    .venv/bin/python benchmarks/submit_cost.py --label after           # 3 runs, all scenarios (~5 min)
    .venv/bin/python benchmarks/submit_cost.py --label before --code /tmp/base --runs 1

``--code`` is the provider checkout under test (default: this one); results of several labels accumulate in
``submit_cost.json`` and are rendered together in ``submit_cost.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
WORKER = REPO / "benchmarks" / "submit_cost_worker.py"
CONN_ID = "smtrain_submit_bench"
ACCESS_KEY = {"ours": "AKIDSUBMITOURS", "amazon": "AKIDSUBMITAMAZON", "import": "AKIDSUBMITIMPORT"}
SCENARIOS = ("compiled", "source", "installed")
PROVIDERS = ("ours", "amazon")


def _worker(mode: str, settings: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, str(WORKER), mode, json.dumps(settings)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=600,
    )
    if out.returncode != 0:
        raise RuntimeError(f"worker {mode} failed:\n{out.stdout[-3000:]}\n{out.stderr[-5000:]}")
    report: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return report


def _env(
    sm: Any, mode: str, code: Path, airflow_home: str, prefix: str | None, write: bool
) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "AIRFLOW_CONN_"))}
    env.update(
        {
            "PYTHONPATH": str(code),
            "AIRFLOW_HOME": airflow_home,
            f"AIRFLOW_CONN_{CONN_ID.upper()}": sm.airflow_connection_json(
                access_key_id=ACCESS_KEY[mode], secret_access_key="bench-secret"
            ),
            # no ambient credentials: the connection must sign everything
            "AWS_ACCESS_KEY_ID": "AKIDSUBMITAMBIENT",
            "AWS_SECRET_ACCESS_KEY": "ambient",
            "AWS_EC2_METADATA_DISABLED": "true",
        }
    )
    env.pop("PYTHONPYCACHEPREFIX", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if prefix is not None:
        env["PYTHONPYCACHEPREFIX"] = prefix
    if not write:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _job_exists_after(
    sm: Any, job_name: str, started_epoch: float, wall_s: float, access_key: str
) -> dict[str, Any]:
    """Seconds from ``execute()`` start to the server's answer to ``CreateTrainingJob``; requests in the submit."""
    created = [
        r for r in sm.requests(operation="CreateTrainingJob", name=job_name) if r.get("status_code") == 200
    ]
    if not created:
        raise RuntimeError(f"no CreateTrainingJob for {job_name}")
    answered = created[0]["time"] + created[0].get("duration_ms", 0.0) / 1000
    mine = [
        r
        for r in sm.requests()
        if r.get("access_key_id") == access_key and started_epoch <= r["time"] <= started_epoch + wall_s
    ]
    return {
        "to_job_exists_s": answered - started_epoch,
        "requests": len(mine),
        "operations": sorted({f"{r['service']}:{r['operation']}" for r in mine}),
    }


def run_scenario(
    sm: Any, scenario: str, runs: int, code: Path, scratch: Path, settings: dict[str, Any]
) -> dict:
    """``runs`` workers per provider (interleaved) and ``runs`` import-only workers, in one bytecode scenario."""
    airflow_home = str(scratch / "airflow_home")
    compiled = str(scratch / "pyc-compiled")
    rows: dict[str, list[dict[str, Any]]] = {mode: [] for mode in (*PROVIDERS, "import")}
    if scenario == "compiled":  # fill the prefix once with what the workers import
        for mode in (*PROVIDERS, "import"):
            _worker(
                mode,
                {**settings, "run_id": f"warmup-{mode}"},
                _env(sm, mode, code, airflow_home, compiled, True),
            )
    for run in range(runs):
        for mode in (*PROVIDERS, "import"):
            prefix = {
                "compiled": compiled,
                "source": str(scratch / f"pyc-empty-{mode}-{run}"),
                "installed": None,
            }
            sm.clear_requests()
            report = _worker(
                mode,
                {**settings, "run_id": f"{scenario}-{run}"},
                _env(sm, mode, code, airflow_home, prefix[scenario], False),
            )
            if mode != "import":
                for phase in ("cold", "warm"):
                    measured = report[phase]
                    measured.update(
                        _job_exists_after(
                            sm,
                            measured["result"],
                            measured["started_epoch"],
                            measured["wall_s"],
                            ACCESS_KEY[mode],
                        )
                    )
            rows[mode].append(report)
            print(
                f"[submit_cost] {scenario} {mode} run {run + 1}: {_short(report)}",
                file=sys.stderr,
                flush=True,
            )
    return rows


def _short(report: dict[str, Any]) -> str:
    if report["mode"] == "import":
        return f"import {report['import']['wall_s']:.2f} s"
    return " ".join(f"{phase} {report[phase]['to_job_exists_s']:.2f} s" for phase in ("cold", "warm"))


def summarize(rows: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Medians per provider and phase."""

    def med(values: list[float]) -> float:
        return round(statistics.median(values), 3)

    summary: dict[str, Any] = {}
    for mode in PROVIDERS:
        for phase in ("cold", "warm"):
            items = [report[phase] for report in rows[mode]]
            summary[f"{mode}/{phase}"] = {
                "to_job_exists_s": med([i["to_job_exists_s"] for i in items]),
                "execute_wall_s": med([i["wall_s"] for i in items]),
                "cpu_s": med([i["cpu_s"] for i in items]),
                "peak_rss_delta_mib": med([i["peak_rss_delta_mib"] for i in items]),
                "rss_delta_mib": med([i["rss_delta_mib"] for i in items]),
                "new_modules": med([i["new_modules"] for i in items]),
                "requests": med([i["requests"] for i in items]),
                "operations": items[-1]["operations"],
            }
    imports = [report["import"] for report in rows["import"]]
    summary["import sagemaker.train.model_trainer"] = {
        "wall_s": med([i["wall_s"] for i in imports]),
        "cpu_s": med([i["cpu_s"] for i in imports]),
        "rss_delta_mib": med([i["rss_delta_mib"] for i in imports]),
        "new_modules": med([i["new_modules"] for i in imports]),
    }
    return summary


def render(document: dict[str, Any]) -> str:
    """Markdown: one table per label and scenario."""
    lines = [
        "# Submit cost: `execute()` start → training job exists, ours vs amazon",
        "",
        "Generated by `benchmarks/submit_cost.py` against the local SageMaker. *cold* = first `execute()` in a "
        "fresh worker that has imported `airflow.sdk` and the operator's module; *warm* = a second `execute()` "
        "(another job) in the same process. Medians; *to job exists* = until the server answered "
        "`CreateTrainingJob`; *execute* = until `execute()` returned (it does not wait for the job). "
        "Peak RSS delta = `VmHWM` after − `VmRSS` before. See `benchmarks/README.md`.",
        "",
    ]
    lines += _summary(document)
    for label, entry in document["labels"].items():
        lines += [
            f"## {label}",
            "",
            f"{entry['note']} Code: `{entry['code_commit']}`, {entry['runs']} runs, "
            f"load average {', '.join(f'{x:.1f}' for x in entry['loadavg_end'])} at the end.",
            "",
        ]
        for scenario, summary in entry["scenarios"].items():
            share = summary["import sagemaker.train.model_trainer"]
            lines += [
                f"### {label}: `{scenario}` bytecode",
                "",
                "| provider | phase | to job exists | execute | CPU | peak RSS Δ | RSS Δ | modules loaded | requests |",
                "|---|---|---:|---:|---:|---:|---:|---:|---:|",
            ]
            for key, row in summary.items():
                if "/" not in key:
                    continue
                provider, phase = key.split("/")
                lines.append(
                    f"| {provider} | {phase} | {row['to_job_exists_s']:.2f} s | {row['execute_wall_s']:.2f} s | "
                    f"{row['cpu_s']:.2f} s | {row['peak_rss_delta_mib']:.0f} MiB | {row['rss_delta_mib']:.0f} MiB | "
                    f"{row['new_modules']:.0f} | {row['requests']:.0f} |"
                )
            for phase in ("cold", "warm"):
                ours, theirs = summary[f"ours/{phase}"], summary[f"amazon/{phase}"]
                lines.append(
                    f"| **ours / amazon** | {phase} | {ours['to_job_exists_s'] / theirs['to_job_exists_s']:.1f}× | "
                    f"{ours['execute_wall_s'] / theirs['execute_wall_s']:.1f}× | {ours['cpu_s'] / theirs['cpu_s']:.1f}× "
                    "| | | | |"
                )
            lines += [
                "",
                f"Import share: `import sagemaker.train.model_trainer` alone (after `airflow.sdk` and our operator "
                f"module) {share['wall_s']:.2f} s wall, {share['cpu_s']:.2f} s CPU, {share['rss_delta_mib']:.0f} MiB, "
                f"{share['new_modules']:.0f} modules.",
                "",
            ]
    return "\n".join(lines)


def _summary(document: dict[str, Any]) -> list[str]:
    """Before (the environment as installed) → after (byte-compiled at install), when both labels exist."""
    labels = document["labels"]
    if not {"before", "after"} <= set(labels):
        return []
    before, after = (
        labels["before"]["scenarios"].get("installed"),
        labels["after"]["scenarios"].get("compiled"),
    )
    if before is None or after is None:
        return []
    lines = [
        "## Summary: what a task pays, before → after",
        "",
        "Before = the code before this change in the environment `scripts/setup` built then (`installed`: no "
        "`.pyc` for the SageMaker SDK, so each task compiled it); after = this branch, byte-compiled at install "
        "(`compiled`). CPU time is the figure to compare: wall time on this shared 2-core machine mostly "
        "measures waiting for a CPU (load average 7-11 during these runs).",
        "",
        "| provider | phase | CPU before → after | to job exists before → after | peak RSS Δ before → after |",
        "|---|---|---:|---:|---:|",
    ]
    for key in ("ours/cold", "ours/warm", "amazon/cold", "amazon/warm"):
        b, a = before[key], after[key]
        provider, phase = key.split("/")
        lines.append(
            f"| {provider} | {phase} | {b['cpu_s']:.2f} s → {a['cpu_s']:.2f} s | "
            f"{b['to_job_exists_s']:.2f} s → {a['to_job_exists_s']:.2f} s | "
            f"{b['peak_rss_delta_mib']:.0f} → {a['peak_rss_delta_mib']:.0f} MiB |"
        )
    share_b = before["import sagemaker.train.model_trainer"]
    share_a = after["import sagemaker.train.model_trainer"]
    lines += [
        f"| import share | `sagemaker.train.model_trainer` | {share_b['cpu_s']:.2f} s → {share_a['cpu_s']:.2f} s | "
        f"{share_b['wall_s']:.2f} s → {share_a['wall_s']:.2f} s (import wall) | "
        f"{share_b['rss_delta_mib']:.0f} → {share_a['rss_delta_mib']:.0f} MiB |",
        "",
    ]
    return lines


def main(argv: list[str] | None = None) -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--label", default="after")
    parser.add_argument("--note", default="")
    parser.add_argument("--code", type=Path, default=REPO, help="provider checkout under test")
    parser.add_argument("--scenarios", nargs="+", default=list(SCENARIOS), choices=SCENARIOS)
    parser.add_argument("--results-dir", type=Path, default=REPO / "benchmarks" / "results")
    parser.add_argument("--render-only", action="store_true", help="rewrite the markdown from the JSON")
    args = parser.parse_args(argv)
    path = args.results_dir / "submit_cost.json"
    if args.render_only:
        (args.results_dir / "submit_cost.md").write_text(render(json.loads(path.read_text())) + "\n")
        return
    from airflow_provider_smtrain.testing import LocalSageMaker

    scratch = Path(tempfile.mkdtemp(prefix="smtrain-submit-cost-"))
    try:
        with LocalSageMaker(training_seconds=3600.0, startup_timeout=60.0) as sm:
            bucket = "smtrain-submit-bench"
            sm.create_bucket(bucket)
            sm.put_object(bucket, "data/train/train.csv", b"x,y\n0,1\n1,3\n2,5\n")
            settings = {"bucket": bucket, "role_arn": sm.create_role("SageMakerTrainingRole")}
            scenarios = {}
            for scenario in args.scenarios:
                scenarios[scenario] = summarize(
                    run_scenario(sm, scenario, args.runs, args.code, scratch, settings)
                )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    commit = subprocess.run(
        ["git", "-C", str(args.code), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip() or str(args.code)
    document = json.loads(path.read_text()) if path.exists() else {"labels": {}}
    document["labels"][args.label] = {
        "note": args.note,
        "code_commit": commit,
        "runs": args.runs,
        "generated": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "loadavg_end": os.getloadavg(),
        "scenarios": scenarios,
    }
    args.results_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n")
    (args.results_dir / "submit_cost.md").write_text(render(document) + "\n")
    print(render(document))


if __name__ == "__main__":
    main()

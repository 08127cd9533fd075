"""Parse-time cost: what importing the provider's DAG-facing classes adds over ``import airflow.sdk``.

Every measurement is one fresh interpreter: it imports ``airflow.sdk`` first (the baseline every DAG file
pays), then the target, and reports the target's wall time, CPU time, RSS growth and the modules it loaded.
Medians over ``--runs`` processes; one more process per target runs under ``python -X importtime`` for the
breakdown of the top offenders. The amazon provider's ``SageMakerTrainingOperator`` is measured the same way.

    .venv/bin/python benchmarks/import_cost.py                    # 7 runs per target (~2 min)
    .venv/bin/python benchmarks/import_cost.py --runs 3 --results-dir /tmp/x

Writes ``import_cost.md`` and ``import_cost.json`` in ``--results-dir`` (default ``benchmarks/results``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
BUDGET_MS = 50.0
WATCHED = ("boto3", "botocore", "aiobotocore", "s3transfer", "pydantic", "sagemaker", "pandas", "numpy")

# Runs in the child: baseline import, then the target statement, each timed in-process.
PROBE = r"""
import json, os, resource, sys, time
def rss_kib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
t0, c0 = time.perf_counter(), cpu()
import airflow.sdk
t1, c1, r1 = time.perf_counter(), cpu(), rss_kib()
before = set(sys.modules)
target = sys.argv[1]
if target.endswith(".py"):
    import importlib.util
    spec = importlib.util.spec_from_file_location("dag_under_test", target)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
elif target:
    exec(target, {})
t2, c2, r2 = time.perf_counter(), cpu(), rss_kib()
new = sorted(set(sys.modules) - before)
print(json.dumps({
    "sdk_s": t1 - t0, "sdk_cpu_s": c1 - c0, "sdk_rss_kib": r1,
    "wall_s": t2 - t1, "cpu_s": c2 - c1, "rss_kib": r2 - r1,
    "new_modules": len(new),
    "new_top_level": sorted({name.split(".")[0] for name in new if name.split(".")[0] not in sys.stdlib_module_names}),
    "loaded_watched": sorted({name.split(".")[0] for name in sys.modules} & set(json.loads(sys.argv[2]))),
}))
"""


def targets(code: Path) -> list[tuple[str, str, str]]:
    """
    (name, side, what the child imports): the provider's DAG-facing imports, the example DAGs, amazon's.

    :param code: the provider checkout under test (before the package exports existed, the submodules).
    """
    lazy = "_EXPORTS" in (code / "airflow_provider_smtrain" / "operators" / "__init__.py").read_text()
    operators = (
        "from airflow_provider_smtrain.operators import ModelTrainerOperator, HyperparameterTunerOperator"
        if lazy
        else "from airflow_provider_smtrain.operators.model_trainer import ModelTrainerOperator; "
        "from airflow_provider_smtrain.operators.tuner import HyperparameterTunerOperator"
    )
    sensors = (
        "from airflow_provider_smtrain.sensors import TrainingJobSensor, TuningJobSensor"
        if lazy
        else "from airflow_provider_smtrain.sensors.jobs import TrainingJobSensor, TuningJobSensor"
    )
    rows = [
        ("import airflow.sdk (baseline)", "baseline", ""),
        (
            "from airflow.sdk import DAG, task; DAG('x')",
            "reference",
            "from airflow.sdk import DAG, task; DAG('x')",
        ),
        (operators, "ours", operators),
        (sensors, "ours", sensors),
        (
            "from airflow_provider_smtrain.triggers import TrainingJobTrigger, TuningJobTrigger",
            "ours",
            "from airflow_provider_smtrain.triggers import TrainingJobTrigger, TuningJobTrigger",
        ),
    ]
    for dag in sorted((code / "example_dags").glob("*.py")):
        rows.append((f"example_dags/{dag.name}", "ours", str(dag)))
    rows.append(
        (
            "from airflow.providers.amazon.aws.operators.sagemaker import SageMakerTrainingOperator",
            "amazon",
            "from airflow.providers.amazon.aws.operators.sagemaker import SageMakerTrainingOperator",
        )
    )
    return rows


def child_env(airflow_home: str, code: Path) -> dict[str, str]:
    """The child's environment: the checkout under test first on the path, a throwaway AIRFLOW_HOME."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(code)
    env["AIRFLOW_HOME"] = airflow_home
    env.pop("PYTHONPROFILEIMPORTTIME", None)
    return env


def probe(target: str, env: dict[str, str], *, importtime: bool = False) -> tuple[dict[str, Any], str]:
    """One fresh interpreter: its JSON report and, with ``importtime``, its ``-X importtime`` lines."""
    flags = ["-X", "importtime"] if importtime else []
    out = subprocess.run(
        [sys.executable, *flags, "-c", PROBE, target, json.dumps(WATCHED)],
        capture_output=True,
        text=True,
        check=True,
        # `python -c` puts the working directory first on sys.path: it must be the code under test
        cwd=env["PYTHONPATH"],
        env=env,
    )
    return json.loads(out.stdout.strip().splitlines()[-1]), out.stderr


def package_of(module: str) -> str:
    """The package a module's import time is charged to: ``airflow.providers.<name>``, else its top level."""
    parts = module.split(".")
    if parts[:2] == ["airflow", "providers"] and len(parts) > 2:
        return ".".join(parts[:3])
    return parts[0]


def offenders(importtime_log: str, top: int = 8) -> list[dict[str, Any]]:
    """
    Import time spent after ``airflow.sdk`` finished, summed per package (self times: nothing counted twice).

    :param importtime_log: the stderr of ``python -X importtime``.
    :param top: how many packages to keep, most expensive first.
    """
    spent: dict[str, int] = {}
    started = False
    for line in importtime_log.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        fields = line.split(":", 1)[1].split("|")
        if not fields[0].strip().isdigit():
            continue
        name = fields[2].rstrip()
        if not started:
            started = name == " airflow.sdk"
            continue
        package = package_of(name.strip())
        spent[package] = spent.get(package, 0) + int(fields[0])
    ranked = sorted(spent.items(), key=lambda item: -item[1])[:top]
    return [{"package": package, "self_ms": us / 1000} for package, us in ranked]


def measure(runs: int, code: Path) -> dict[str, Any]:
    """Every target, ``runs`` times each (interleaved, so load changes hit all alike), plus one importtime run."""
    with tempfile.TemporaryDirectory(prefix="smtrain-import-cost-") as airflow_home:
        env = child_env(airflow_home, code)
        probe("", env)  # warm the OS page cache and the pyc files once
        rows = targets(code)
        samples: dict[str, list[dict[str, Any]]] = {name: [] for name, _, _ in rows}
        for _ in range(runs):
            for name, _, target in rows:
                samples[name].append(probe(target, env)[0])
        results = []
        for name, side, target in rows:
            runs_of = samples[name]
            _, log = probe(target, env, importtime=True)
            last = runs_of[-1]
            results.append(
                {
                    "name": name,
                    "side": side,
                    "sdk_ms": 1000 * statistics.median(r["sdk_s"] for r in runs_of),
                    "wall_ms": 1000 * statistics.median(r["wall_s"] for r in runs_of),
                    "wall_ms_runs": [round(1000 * r["wall_s"], 1) for r in runs_of],
                    "cpu_ms": 1000 * statistics.median(r["cpu_s"] for r in runs_of),
                    "rss_mib": statistics.median(r["rss_kib"] for r in runs_of) / 1024,
                    "new_modules": last["new_modules"],
                    "new_top_level": last["new_top_level"],
                    "loaded_watched": last["loaded_watched"],
                    "offenders": offenders(log),
                }
            )
    return {
        "runs": runs,
        "budget_ms": BUDGET_MS,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "loadavg_end": os.getloadavg(),
        "results": results,
    }


def render_all(document: dict[str, Any]) -> str:
    """Every label's report, newest label last."""
    parts = ["# Parse-time import cost", ""]
    for label, report in document["labels"].items():
        parts += [f"## {label}", "", report.get("note", ""), "", render(report)]
    return "\n".join(parts)


def render(report: dict[str, Any]) -> str:
    """The markdown table and the breakdown of the top offenders per target."""
    baseline = report["results"][0]
    lines = [
        f"Fresh interpreter per run, median of {report['runs']} runs; `import airflow.sdk` itself: "
        f"{baseline['sdk_ms']:.0f} ms median; then the target is timed in the same process. Budget: +{report['budget_ms']:.0f} ms over "
        f"`import airflow.sdk`. {report['cpus']} CPUs, load average at the end "
        f"{', '.join(f'{x:.2f}' for x in report['loadavg_end'])}. Generated by `benchmarks/import_cost.py`.",
        "",
        "| import (after `import airflow.sdk`) | side | wall | CPU | RSS | new modules | heavy packages loaded | "
        "within budget (CPU / wall) |",
        "|---|---|---:|---:|---:|---:|---|---|",
    ]
    for row in report["results"]:
        if row["side"] == "baseline":
            continue
        reference = next((r for r in report["results"] if r["side"] == "reference"), None)
        cost = dict(row)
        example = row["name"].startswith("example_dags/") and reference is not None
        if example:  # building the DAG is Airflow's cost: the verdict is on the difference
            cost = {key: row[key] - reference[key] for key in ("cpu_ms", "wall_ms")}  # type: ignore[index]
        ok = " / ".join(
            "yes" if cost[key] <= report["budget_ms"] else "**no**" for key in ("cpu_ms", "wall_ms")
        )
        if example:
            ok += f" (+{cost['cpu_ms']:.0f} / +{cost['wall_ms']:.0f} ms over the reference)"
        lines.append(
            f"| `{row['name']}` | {row['side']} | {row['wall_ms']:.1f} ms | {row['cpu_ms']:.1f} ms | "
            f"{row['rss_mib']:.1f} MiB | {row['new_modules']} | {', '.join(row['loaded_watched']) or '–'} | {ok} |"
        )
    lines += [
        "",
        "*CPU* is the process CPU time of the import; *wall* also counts waiting for a CPU, so it grows with the "
        "machine's load (see the load average above). Example DAG rows include what building a DAG costs "
        "Airflow itself (the *reference* row); their budget verdict is on the difference.",
        "",
        "*heavy packages loaded*: which of " + ", ".join(f"`{w}`" for w in WATCHED) + " are in `sys.modules` "
        "after the import (those `airflow.sdk` already loads included).",
        "",
        "### Top offenders (`python -X importtime`, after `airflow.sdk`: self time summed per package)",
        "",
    ]
    for row in report["results"]:
        if row["side"] == "baseline":
            continue
        lines.append(
            f"**`{row['name']}`**: "
            + (
                ", ".join(f"`{o['package']}` {o['self_ms']:.1f} ms" for o in row["offenders"])
                or "nothing new"
            )
        )
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Command line: ``--runs`` and ``--results-dir``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="fresh processes per target (median)")
    parser.add_argument("--results-dir", type=Path, default=REPO / "benchmarks" / "results")
    parser.add_argument("--label", default="after", help="results of several labels accumulate in the JSON")
    parser.add_argument("--note", default="")
    parser.add_argument("--code", type=Path, default=REPO, help="provider checkout under test")
    parser.add_argument("--render-only", action="store_true", help="rewrite the markdown from the JSON")
    args = parser.parse_args(argv)
    path = args.results_dir / "import_cost.json"
    if args.render_only:
        (args.results_dir / "import_cost.md").write_text(render_all(json.loads(path.read_text())) + "\n")
        return
    report = measure(args.runs, args.code)
    report["note"] = args.note
    report["generated"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    document = json.loads(path.read_text()) if path.exists() else {}
    document.setdefault("labels", {})[args.label] = report
    args.results_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n")
    (args.results_dir / "import_cost.md").write_text(render_all(document) + "\n")
    print(render(report))


if __name__ == "__main__":
    main()

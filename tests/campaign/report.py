"""Figures of a campaign run: per kind and mode, faults served by kind, findings; JSON and Markdown."""

from __future__ import annotations

import json
import os
import platform
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from airflow_provider_smtrain.triggers.coalesced import coalescing_enabled
from tests.campaign.campaign import Outcome

FINDINGS = (
    "duplicates",
    "wrong_results",
    "late_timeouts",
    "orphans",
    "wrongful_stops",
    "failed_tasks",
    "late_polls",
)
#: Request-log fault labels, as the figures name them.
LABELS = {"fail_next": "throttle burst (one-shot ThrottlingException)", "5xx": "5xx", "throttle": "throttle"}


LEGEND = [
    "## What each fault does",
    "",
    "- `worker death: <point>`: `WorkerDied` (nothing in the operator runs after it) before the SDK is called,"
    " right after the job was created, after the job was found, between two polls (blocking), in the worker"
    " that resumes after the trigger fired, or after the job ended; the next try is a fresh copy of the"
    " operator with the same `task_state_store`. `death`: the worker lost at a virtual instant while waiting.",
    "- `triggerer restart`: the trigger task is cancelled mid-wait, `cleanup()` is called, and a trigger rebuilt"
    " from `serialize()` starts. `triggerer_down`: the triggerer stays down past the deferral's timeout; the"
    " task resumes with `__fail__` (`TaskDeferralTimeout`).",
    '- `error_event`: `{"status": "error"}` is fed to `execute_complete` instead of the trigger\'s event.',
    "- `clear`: the user clears the running task: `on_kill` of the running operator or of the trigger (in every"
    " other scenario the old trigger's `on_kill` comes after the new try started), then"
    " `max_tries = try_number + retries`. `clear_after_success`: cleared after it succeeded (must run again).",
    "- `mark_failed`: `on_kill`, and the task instance is failed for good.",
    "- `max_wait`, `execution_timeout`: scenarios whose timeout (30-60 % of the job) must fail the task and stop"
    " its job; with `execution_timeout`, Airflow's own timer also raises `AirflowTaskTimeout` in the worker"
    " and calls `on_kill` (`timeout`: times that timer fired).",
    "- `two deployments at once`: a second task instance with the same dag_id/task_id/run_id, its own store and"
    " connection key, running in its own thread at the same time.",
    "- `network window: <kind>`: up to 5 virtual minutes of random faults on SageMaker, S3 and/or CloudWatch"
    " Logs: `reset` (connections dropped, before or after the request was carried out), `read_timeout`"
    " (the server stays silent past the client's read timeout), `throttle`, `5xx`.",
    "- `<service>: <fault>`: requests the server faulted, from its request log: `dropped_request` (not carried"
    " out), `lost_response` (carried out, response dropped), `5xx`, `throttle`, and one-shot"
    " `ThrottlingException` bursts. Drops in `timeout` mode (the server silent for 1.5 s, past the clients'"
    " 1 s read timeout: a real `ReadTimeoutError`) are counted with the drops.",
    "",
    "Transient by construction (these must succeed): worker deaths <= retries, network windows end 90 s before"
    " anything must be stopped, a submission meets at most a 10 % fault rate. Marked-failed and timed-out"
    " tasks must end failed with their job stopped; when a timeout has used up a try, a planned worker death"
    " can fall on the last try, and no code of the task runs after it: that job is counted apart.",
]


def figures(outcomes: list[Outcome], *, seed: int, real_seconds: float) -> dict[str, Any]:
    """
    The campaign's figures.

    :param outcomes: every scenario's outcome.
    :param seed: the campaign seed.
    :param real_seconds: wall-clock duration of the run.
    """
    kinds: dict[str, dict[str, Any]] = {}
    faults: Counter[str] = Counter()
    failing: list[dict[str, Any]] = []
    tries: list[dict[str, Any]] = []
    unstoppable: list[dict[str, Any]] = []
    for outcome in outcomes:
        sc, verdict = outcome.scenario, outcome.verdict
        row = kinds.setdefault(
            sc.kind,
            {
                "scenarios": 0,
                "modes": Counter(),
                "expected_failures": 0,
                "failed_tries": 0,
                "unstoppable": 0,
                "stuck": 0,
                "virtual_hours": 0.0,
                **{f: 0 for f in FINDINGS},
            },
        )
        row["scenarios"] += 1
        row["modes"][sc.mode] += 1
        row["expected_failures"] += verdict.expected_failures
        row["failed_tries"] += len(verdict.failed_tries)
        row["unstoppable"] += len(verdict.unstoppable)
        row["stuck"] += int(outcome.stuck is not None)
        row["virtual_hours"] += outcome.virtual_seconds / 3600
        for finding in FINDINGS:
            row[finding] += len(getattr(verdict, finding))
        for label, count in outcome.served.items():
            service, _, fault = label.partition(": ")
            if count and fault and service in ("sagemaker", "s3", "logs", "iam", "sts"):
                label = f"{service}: {LABELS.get(fault, fault)}"
            if count:
                faults[label] += count
        if verdict.unstoppable:
            unstoppable.append({"scenario": sc.name, "jobs": verdict.unstoppable, "plan": sc.describe()})
        if verdict.failed_tries:
            tries.append({"scenario": sc.name, "errors": verdict.failed_tries})
        if not verdict.clean:
            failing.append(
                {
                    "scenario": sc.name,
                    "seed": sc.seed,
                    "index": sc.index,
                    "kind": sc.kind,
                    **{f: getattr(verdict, f) for f in FINDINGS if getattr(verdict, f)},
                    "plan": sc.describe(),
                }
            )
    for row in kinds.values():
        row["modes"] = dict(row["modes"])
        row["virtual_hours"] = round(row["virtual_hours"], 1)
    totals = {f: sum(row[f] for row in kinds.values()) for f in FINDINGS}
    return {
        "seed": seed,
        "coalesce_status_reads": coalescing_enabled(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "real_seconds": round(real_seconds, 1),
        "machine": {
            "platform": platform.platform(),
            "python": sys.version.split()[0],
            "cpus": os.cpu_count(),
            "load_average": [round(x, 2) for x in os.getloadavg()],
        },
        "kinds": kinds,
        "totals": totals,
        "faults_served": dict(sorted(faults.items(), key=lambda kv: (-kv[1], kv[0]))),
        "failing_scenarios": failing,
        "failed_tries": tries,
        "unstoppable": unstoppable,
    }


#: The page title of each run's kinds (the default run, then each kind added later).
TITLES = {
    ("training", "tuning"): "Fault campaign (issue #5, deliver 2)",
    ("agent_rft",): "Fault campaign: MultiTurnRLTrainerOperator (AgentRFT jobs)",
    ("finetune",): "Fault campaign: fine-tuning trainers (SFT, DPO, RLAIF, RLVR; issue #6)",
    ("hub_content",): "Fault campaign: CreateDataSetOperator (AI Registry imports; issue #6)",
    ("evaluation",): "Fault campaign: evaluator operators (pipeline executions; issue #7)",
}
#: Kinds whose figures are written together, under ``fault_campaign.{json,md}``.
DEFAULT_KINDS = ("training", "tuning")
#: What the invariants mean for an AI Registry import (it cannot be stopped; its version is shared).
HUB_CONTENT_LEGEND = [
    "## hub_content: what the invariants mean for an import",
    "",
    "An AI Registry import cannot be stopped, and one version holds one content whichever task instance"
    " registered it (create-or-reuse). So: **duplicates** = two versions of the content that did not fail"
    " (a retry, a clear, a resume or a second deployment must all end on the same version); **wrong results**"
    " = a success that returns anything but an `Available` version of the content; **wrongful stops** = any"
    " `DeleteHubContent` / `DeleteHub` (mark-failed and timeouts fail the task and leave the import alone);"
    " **orphans**: none by definition (the operator's `stop_job_on_kill` is always False). Worker deaths"
    " `before_submit` / `after_create` fall around the import. A timeout fails its try and leaves the import"
    " running; a later try (retries left) reuses the same version and may succeed, so timed-out scenarios"
    " are not all among the expected failures.",
]

#: What the invariants mean for an evaluation (a pipeline execution in its generation's own pipeline).
EVALUATION_LEGEND = [
    "## evaluation: what the invariants mean for a pipeline execution",
    "",
    "Each scenario runs one evaluator operator (`BenchMarkEvaluatorOperator`, `LLMAsJudgeEvaluatorOperator`,"
    " `CustomScorerEvaluatorOperator`, `MultiTurnRLEvaluatorOperator`, drawn per scenario; field `evaluator`)."
    " A task-instance generation has its own pipeline (`CreatePipeline`, or `UpdatePipeline` when an earlier try"
    " of the generation created it) and one execution, started with the generation's `ClientRequestToken`."
    " An execution belongs to the task instance whose key signed the first successful `StartPipelineExecution`"
    " of its pipeline. **duplicates** = a second execution in one pipeline (a repeated start that created a new"
    " execution), two executions of one task instance running at once or succeeded in one clear epoch, or a"
    " pipeline or execution signed by no task instance; **orphans** = an execution still `Executing` after its"
    " task ended without a stop; **wrongful stops** = a `StopPipelineExecution` no kill, clear, timeout or final"
    " failure of its owner explains, or any `DeletePipeline`. Extra worker deaths: `after_pipeline` (between"
    " `CreatePipeline`/`UpdatePipeline` and `StartPipelineExecution`) and `start_lost` (the start carried out,"
    " its response lost with the worker); one-shot faults also hit `CreatePipeline`, `UpdatePipeline` and"
    " `ListPipelineExecutions` (how a later try finds its execution).",
]


def markdown(fig: dict[str, Any], command: str) -> str:
    """The figures as a Markdown page."""
    kinds = fig["kinds"]
    lines = [
        "# " + TITLES.get(tuple(kinds), "Fault campaign"),
        "",
        f"`{command}` on {fig['date']}: seed {fig['seed']}, {fig['real_seconds']:.0f} s real, "
        f"{fig['machine']['cpus']} CPUs, {fig['machine']['platform']}, Python {fig['machine']['python']}, "
        f"load average {fig['machine']['load_average']}. Status reads coalesced (`[smtrain]"
        f" coalesce_status_reads`): {'on' if fig.get('coalesce_status_reads') else 'off'}.",
        "",
        "| | " + " | ".join(kinds) + " |",
        "|---|" + "---|" * len(kinds),
    ]

    def row(title: str, value: Any) -> None:
        lines.append(f"| {title} | " + " | ".join(str(value(k)) for k in kinds.values()) + " |")

    row("scenarios", lambda k: k["scenarios"])
    row(
        "deferrable / blocking",
        lambda k: f"{k['modes'].get('deferrable', 0)} / {k['modes'].get('blocking', 0)}",
    )
    row("virtual hours simulated", lambda k: k["virtual_hours"])
    row("**duplicates**", lambda k: k["duplicates"])
    row("**wrong results** (not its own completed job)", lambda k: k["wrong_results"])
    row("**late timeouts** (a try waits past its deadline)", lambda k: k["late_timeouts"])
    row("**orphans**", lambda k: k["orphans"])
    row("**wrongful stops**", lambda k: k["wrongful_stops"])
    row("**failed tasks under transient faults**", lambda k: k["failed_tasks"])
    row("**late polls** (a shared poller silent > 2 poll intervals while its jobs run)", lambda k: k["late_polls"])
    row(
        "expected failures (marked failed or timed out; job stopped unless `stop_job_on_kill=False`)",
        lambda k: k["expected_failures"],
    )
    row(
        "jobs left running because the last try's worker died (no code runs after that; not transient)",
        lambda k: k["unstoppable"],
    )
    row("tries failed by an exception under transient faults (retried)", lambda k: k["failed_tries"])
    row("scenarios past their bound", lambda k: k["stuck"])
    lines += ["", "## Faults served", "", "| fault | count |", "|---|---|"]
    lines += [f"| {label} | {count} |" for label, count in fig["faults_served"].items()]
    lines += ["", *LEGEND]
    if "hub_content" in kinds:
        lines += ["", *HUB_CONTENT_LEGEND]
    if "evaluation" in kinds:
        lines += ["", *EVALUATION_LEGEND]
    if fig["failing_scenarios"]:
        lines += ["", "## Failing scenarios", ""]
        for item in fig["failing_scenarios"]:
            found = {k: v for k, v in item.items() if k in FINDINGS}
            lines.append(f"- `{item['scenario']}` (seed {item['seed']}, index {item['index']}): {found}")
    return "\n".join(lines) + "\n"


def stem(kinds: tuple[str, ...]) -> str:
    """
    The file name (without suffix) of a run's figures: ``fault_campaign`` for the default kinds, else
    ``fault_campaign_<kind>`` (one pair of files per kind, side by side in ``benchmarks/results/``).

    :param kinds: the kinds the figures cover.
    """
    return "fault_campaign" if tuple(kinds) == DEFAULT_KINDS else "fault_campaign_" + "_".join(kinds)


def write(fig: dict[str, Any], out_dir: Path, command: str) -> tuple[Path, Path]:
    """Write ``<stem>.json`` and ``<stem>.md`` into ``out_dir`` (see :func:`stem`)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    name = stem(tuple(fig["kinds"]))
    json_path, md_path = out_dir / f"{name}.json", out_dir / f"{name}.md"
    json_path.write_text(json.dumps({"command": command, **fig}, indent=2, default=str) + "\n")
    md_path.write_text(markdown(fig, command))
    return json_path, md_path

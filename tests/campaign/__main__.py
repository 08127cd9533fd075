"""``python -m tests.campaign --scenarios 200 --seed 1``: the long fault campaign, figures in benchmarks/results/."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import time
from pathlib import Path

from airflow_provider_smtrain.testing.client import LocalSageMaker
from tests.campaign.campaign import Outcome, run_campaign
from tests.campaign.plan import KINDS
from tests.campaign.report import DEFAULT_KINDS, FINDINGS, figures, write

REPO = Path(__file__).resolve().parents[2]
importlib.import_module("tests.conftest")  # loopback-only sockets; ambient credentials that must never sign


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.campaign", description=__doc__)
    parser.add_argument("--scenarios", type=int, default=200, help="scenarios per job kind (default 200)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--kinds",
        default="training,tuning",
        help="comma-separated kinds: training, tuning (figures together), agent_rft, finetune, hub_content, endpoint, evaluation "
        "(figures per kind, fault_campaign_<kind>.{json,md})",
    )
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results", help="results directory")
    parser.add_argument("--verbose", action="store_true", help="keep the operators' logs")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.kinds.split(",")) - set(KINDS))
    if unknown:
        parser.error(f"--kinds: unknown {unknown}; accepted: {', '.join(KINDS)}")
    if not args.verbose:
        logging.disable(logging.ERROR)
    command = f"python -m tests.campaign --scenarios {args.scenarios} --seed {args.seed}"
    if args.kinds != "training,tuning":
        command += f" --kinds {args.kinds}"
    started = time.monotonic()
    done = [0]

    def progress(outcome: Outcome) -> None:
        done[0] += 1
        verdict = outcome.verdict
        found = {f: len(getattr(verdict, f)) for f in FINDINGS if getattr(verdict, f)}
        print(
            f"[{done[0]:4d}] {outcome.scenario.name} {outcome.scenario.mode:10s} "
            f"{outcome.real_seconds:5.1f}s real {outcome.virtual_seconds / 60:6.1f} min virtual "
            f"{'ok' if verdict.clean else found}",
            flush=True,
        )

    with LocalSageMaker() as sm:
        outcomes = run_campaign(
            sm,
            scenarios=args.scenarios,
            seed=args.seed,
            kinds=tuple(args.kinds.split(",")),
            progress=progress,
        )
    kinds = tuple(args.kinds.split(","))
    groups = [kinds] if kinds == DEFAULT_KINDS else [(kind,) for kind in kinds]
    found = 0
    for group in groups:
        chosen = [o for o in outcomes if o.scenario.kind in group]
        real = time.monotonic() - started if len(groups) == 1 else sum(o.real_seconds for o in chosen)
        fig = figures(chosen, seed=args.seed, real_seconds=real)
        paths = write(fig, args.out, command)
        found += sum(fig["totals"].values())
        print(f"{','.join(group)} totals: {fig['totals']}; written: {', '.join(str(p) for p in paths)}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())

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
from tests.campaign.report import FINDINGS, figures, write

REPO = Path(__file__).resolve().parents[2]
importlib.import_module("tests.conftest")  # loopback-only sockets; ambient credentials that must never sign


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.campaign", description=__doc__)
    parser.add_argument("--scenarios", type=int, default=200, help="scenarios per job kind (default 200)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--kinds", default="training,tuning", help="comma-separated job kinds")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results", help="results directory")
    parser.add_argument("--verbose", action="store_true", help="keep the operators' logs")
    args = parser.parse_args(argv)
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
    fig = figures(outcomes, seed=args.seed, real_seconds=time.monotonic() - started)
    paths = write(fig, args.out, command)
    print(f"totals: {fig['totals']}; written: {', '.join(str(p) for p in paths)}")
    return 1 if any(fig["totals"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())

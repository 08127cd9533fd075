"""Command line of the trigger-scale benchmark: the driver by default, a worker with ``--worker``."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import benchmarks.trigger_scale as package
from benchmarks.trigger_scale.common import (
    DEFAULT_RESULTS_DIR,
    PROVIDERS,
    BenchConfig,
)
from benchmarks.trigger_scale.driver import run_benchmark
from benchmarks.trigger_scale.worker import WorkerConfig, worker_main


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """
    Command line.

    :param argv: arguments (default: ``sys.argv[1:]``).
    """
    parser = argparse.ArgumentParser(
        description=package.__doc__.split("\n\n")[0] if package.__doc__ else None
    )
    parser.add_argument("--n", type=int, nargs="+", default=[1, 100, 500, 1000, 2000], help="trigger counts")
    parser.add_argument(
        "--window",
        type=float,
        default=20.0,
        help="seconds of steady state measured (whole polls) once every trigger has read its job; then the jobs end",
    )
    parser.add_argument("--poll", type=float, default=5.0, help="poll interval of both providers, seconds")
    parser.add_argument("--providers", nargs="+", choices=PROVIDERS, default=list(PROVIDERS))
    parser.add_argument(
        "--startup-timeout",
        type=float,
        default=420.0,
        help="seconds after launch every trigger gets to read its job once; then the jobs end anyway",
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
    parser.add_argument("--jobs-file", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.window <= 0 or args.poll <= 0 or args.startup_timeout <= 0 or any(n < 1 for n in args.n):
        parser.error("--window, --poll and --startup-timeout must be > 0 and every --n >= 1")
    if args.grace is None:
        args.grace = max(12 * args.poll, 10.0)
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
                endpoint=args.endpoint,
                region=args.region,
                startup_timeout=args.startup_timeout,
                grace=args.grace,
                out=args.out,
                jobs_file=args.jobs_file,
            )
        )
        return 0
    bench = BenchConfig(
        ns=list(args.n),
        window=args.window,
        poll=args.poll,
        providers=list(args.providers),
        startup_timeout=args.startup_timeout,
        grace=args.grace,
        results_dir=args.results_dir,
    )
    rows, markdown = run_benchmark(bench)
    print(markdown)
    return 0 if all("failed" not in row for row in rows) else 1

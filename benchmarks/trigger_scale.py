"""
What N waiting SageMaker triggers (training jobs, tuning jobs, pipeline executions) cost in one triggerer event loop: ours vs the amazon provider's.

The command line of the benchmark; the code is in :mod:`benchmarks.trigger_scale` (see its docstring and
``benchmarks/README.md``). Run::

    .venv/bin/python benchmarks/trigger_scale.py --n 1 100 500 1000 2000   # the defaults: 20 s window; 5 s poll
    .venv/bin/python benchmarks/trigger_scale.py --n 2 --window 4 --poll 1 --results-dir /tmp/x

Nothing but 127.0.0.1 is contacted: the workers refuse any other address.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # run as a script: make the package ``benchmarks.trigger_scale`` importable

from benchmarks.trigger_scale.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())

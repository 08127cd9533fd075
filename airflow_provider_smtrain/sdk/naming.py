"""Make the SDK submit a job under the name the provider chose."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any


@contextlib.contextmanager
def fixed_unique_name(module: Any, name: str) -> Iterator[None]:
    """
    Make ``module._get_unique_name`` return ``name`` for the duration of the block.

    ``ModelTrainer`` derives its job name from a timestamp and offers no parameter to set it, but the
    provider needs a deterministic name so that a retry can find the job of an earlier try.

    :param module: the SDK module that calls ``_get_unique_name`` (e.g. ``sagemaker.train.model_trainer``).
    :param name: the job name to use.
    """
    original = module._get_unique_name

    def _fixed(base: str, max_length: int = 63) -> str:
        return name

    module._get_unique_name = _fixed
    try:
        yield
    finally:
        module._get_unique_name = original

"""Who owns a remote job: the identity a task instance persists before it submits anything.

Pure code (no AWS). The identity lives in Airflow's ``task_state_store`` under :data:`STATE_KEY`::

    {"job_name": "train-5f1c2a9e0b-1", "generation": 1, "kind": "training",
     "token": "<32 hex chars>", "max_tries": 2, "arn": "arn:aws:sagemaker:...:training-job/train-5f1c2a9e0b-1"}

* ``token`` is random, drawn once per task instance; it is hashed into every job name, so two Airflow
  deployments (or one whose metadata DB was reset) on one account never produce the same name, and
  a job found under a name provably belongs to this task instance.
* ``generation`` counts the jobs of the task instance: a new one starts only after the previous one
  ended without success, or after a user cleared the task.
* ``arn`` is the job's ARN once SageMaker has answered with it (kinds identified by ARN, such as
  pipeline executions, are found through it; their handle is a deterministic request token).
* ``max_tries`` is the task instance's ``max_tries`` when the identity was written. Airflow changes it
  only when a user clears the task (to ``try_number + retries``); retries, crashes and triggerer
  restarts leave it alone, and so does an edit of ``retries`` in the DAG file. A try that sees another
  ``max_tries`` follows a clear: the user asked to run again. (A task cleared *while it runs in a
  worker* is restarted as a retry, with ``max_tries`` unchanged: its ``on_kill`` stops the job, and
  the next try, finding it stopped, runs the next generation.)
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

#: ``task_state_store`` key holding the job identity of the task instance.
STATE_KEY = "smtrain_job"
#: How long the store keeps an identity after its last write, whatever ``[state_store]
#: default_retention_days`` says: longer than SageMaker's longest job (28 days) plus its retries.
IDENTITY_RETENTION = timedelta(days=60)


@dataclass(frozen=True)
class JobIdentity:
    """
    The persisted identity of a task instance's current job.

    :param job_name: the name of the current generation's job.
    :param generation: 1 for the first job of the task instance, then 2, 3, ...
    :param kind: the job kind name.
    :param token: random per task instance, hashed into the job names ("" without a store).
    :param max_tries: the task instance's ``max_tries`` when this was written, or None when unknown.
    :param arn: the job's ARN, once known.
    """

    job_name: str
    generation: int
    kind: str
    token: str
    max_tries: int | None = None
    arn: str | None = None

    def to_state(self) -> dict[str, Any]:
        """The JSON-native form written to ``task_state_store``."""
        return asdict(self)

    @classmethod
    def from_state(cls, value: Any) -> JobIdentity | None:
        """
        Read an identity written by :meth:`to_state` (or by an earlier release: no token, no epoch).

        :param value: what ``task_state_store.get(STATE_KEY)`` returned.
        """
        if not isinstance(value, dict) or "generation" not in value or not value.get("job_name"):
            return None
        max_tries = value.get("max_tries")
        return cls(
            job_name=str(value["job_name"]),
            generation=int(str(value["generation"])),
            kind=str(value.get("kind", "")),
            token=str(value.get("token") or ""),
            max_tries=int(max_tries) if max_tries is not None else None,
            arn=str(value["arn"]) if value.get("arn") else None,
        )


def new_token() -> str:
    """A fresh random token for a task instance's job names."""
    return secrets.token_hex(16)


def _int_attr(ti: Any, name: str) -> int | None:
    value = getattr(ti, name, None)
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def max_tries_of(ti: Any) -> int | None:
    """
    The task instance's ``max_tries``, or None when the TI does not say.

    :param ti: the running task instance.
    """
    value = _int_attr(ti, "max_tries")
    return value if value is not None and value >= 0 else None


def cleared_since(saved: JobIdentity, ti: Any) -> bool:
    """
    Whether a user cleared the task instance since ``saved`` was written.

    :param saved: the persisted identity.
    :param ti: the running task instance.
    """
    now = max_tries_of(ti)
    return saved.max_tries is not None and now is not None and now != saved.max_tries


def is_last_try(ti: Any, retries: int) -> bool:
    """
    Whether a failure now fails the task instance for good (no retry will come back for its job).

    Airflow retries while ``try_number <= max_tries``; ``max_tries`` grows on every clear, so
    ``try_number > retries`` would call the middle tries of a cleared task "last".

    :param ti: the running task instance, or None (then every try is the last).
    :param retries: the task's ``retries`` (used when the TI carries no ``max_tries``).
    """
    if ti is None:
        return True
    try_number = _int_attr(ti, "try_number") or 1
    max_tries = _int_attr(ti, "max_tries")
    if max_tries is None or max_tries < 0:
        max_tries = int(retries or 0)
    return try_number > max_tries

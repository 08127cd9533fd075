"""The provider's ``[smtrain]`` settings, read by operators and sensors alike."""

from __future__ import annotations


def default_deferrable() -> bool:
    """
    ``[smtrain] default_deferrable``: True unless the deployment sets it to False.

    Why not ``[operators] default_deferrable``: Airflow ships it as ``False`` and writes it into every
    generated ``airflow.cfg``, so ``conf.getboolean("operators", "default_deferrable", fallback=True)``
    never reaches its fallback and operators written that way block a worker slot in almost every
    deployment. This provider's job operators and sensors wait in the triggerer by default, so that a
    long job does not hold a worker slot; a deployment that wants them blocking sets
    ``AIRFLOW__SMTRAIN__DEFAULT_DEFERRABLE=False``.
    """
    from airflow.sdk.configuration import conf

    return conf.getboolean("smtrain", "default_deferrable", fallback=True)

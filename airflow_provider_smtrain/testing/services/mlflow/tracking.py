"""
The part of an MLflow app's tracking server the SDK reads, behind the app's presigned URL (server process only).

A presigned URL is ``<server>/_local/mlflow/<app id>/auth?authToken=...``; the SDK strips ``/auth`` and
calls ``GET <base>/api/2.0/mlflow/experiments/get-by-name`` and ``POST <base>/api/2.0/mlflow/runs/search``
(``mlflow_url_utils``) to deep-link an experiment or run. :func:`record_run` is what a training job with an
``MlflowConfig`` does when it starts: the experiment (created once per name) and a new run, whose ids
are the job's ``MlflowDetails``.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from airflow_provider_smtrain.testing.services.mlflow.apps import MlflowApp, MlflowApps

API = "api/2.0/mlflow/"


def _app_by_id(apps: MlflowApps, app_id: str) -> MlflowApp:
    for app in apps.apps.values():
        if app.app_id == app_id:
            return app
    raise LookupError(f"no MLflow app {app_id!r}")


def record_run(
    apps: MlflowApps, app_arn: str, experiment_name: str, run_name: str | None = None
) -> dict[str, str]:
    """
    Log a run in an app's experiment (created on first use); return ``{"MlflowExperimentId", "MlflowRunId"}``.

    :param apps: The MLflow app store.
    :param app_arn: ``MlflowConfig.MlflowResourceArn``.
    :param experiment_name: ``MlflowConfig.MlflowExperimentName``.
    :param run_name: ``MlflowConfig.MlflowRunName`` (default: the run id).
    :raises LookupError: No such app.
    """
    app = apps.apps.get(app_arn)
    if app is None:
        raise LookupError(f"MLflow app {app_arn} does not exist.")
    experiment = app.experiments.get(experiment_name)
    if experiment is None:
        digest = hashlib.sha256(f"{app.arn}/{experiment_name}".encode()).hexdigest()
        experiment = {"experiment_id": str(int(digest[:12], 16)), "name": experiment_name, "runs": []}
        app.experiments[experiment_name] = experiment
    run_id = uuid.uuid4().hex
    now_ms = int(apps.now() * 1000)
    experiment["runs"].append(
        {
            "info": {
                "run_id": run_id,
                "run_uuid": run_id,
                "run_name": run_name or run_id,
                "experiment_id": experiment["experiment_id"],
                "status": "RUNNING",
                "start_time": now_ms,
                "lifecycle_stage": "active",
                "artifact_uri": f"{app.artifact_store_uri.rstrip('/')}/{experiment['experiment_id']}/{run_id}/artifacts",
            },
            "data": {"tags": [{"key": "mlflow.runName", "value": run_name or run_id}]},
        }
    )
    return {"MlflowExperimentId": experiment["experiment_id"], "MlflowRunId": run_id}


def handle(
    apps: MlflowApps, method: str, path: str, payload: dict[str, Any], query: dict[str, str]
) -> tuple[int, Any]:
    """
    Answer ``/_local/mlflow/<app id>[/auth | /api/2.0/mlflow/...]``.

    :param apps: The MLflow app store.
    :param method: HTTP method.
    :param path: The path after ``mlflow/``.
    :param payload: JSON body.
    :param query: Query parameters.
    """
    app_id, _, rest = path.partition("/")
    app = _app_by_id(apps, app_id)
    if rest in ("", "auth") and method == "GET":
        summary = app.summary(apps.now())
        return 200, {key: summary[key] for key in ("Arn", "Name", "Status")}
    if rest == API + "experiments/get-by-name" and method == "GET":
        experiment = app.experiments.get(query.get("experiment_name", ""))
        if experiment is None:
            return 404, {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "Could not find experiment"}
        view = {k: v for k, v in experiment.items() if k != "runs"}
        return 200, {"experiment": dict(view, lifecycle_stage="active")}
    if rest == API + "runs/search" and method == "POST":
        ids = set(payload.get("experiment_ids") or [])
        runs = [r for e in app.experiments.values() if e["experiment_id"] in ids for r in e["runs"]]
        wanted = str(payload.get("filter") or "")
        if wanted.startswith("tags.mlflow.runName = "):
            name = wanted.split("=", 1)[1].strip().strip("\"'")
            runs = [r for r in runs if r["info"]["run_name"] == name]
        runs.sort(key=lambda r: r["info"]["start_time"], reverse=True)
        return 200, {"runs": runs[: int(payload.get("max_results") or 1000)]}
    raise LookupError(f"no MLflow endpoint {method} {rest!r}")


def record_job_run(mlflow_config: dict[str, Any], job_name: str) -> dict[str, str] | None:
    """
    The ``MlflowDetails`` of a new job with ``MlflowConfig``: a run in the app, when the app exists here.

    The experiment is ``MlflowExperimentName`` (default: the job name), the run ``MlflowRunName``
    (default: the job name). Call it with the simulator lock held.

    :param mlflow_config: The job's ``MlflowConfig``.
    :param job_name: The job's name.
    :returns: ``{"MlflowExperimentId", "MlflowRunId"}``, or ``None`` if the app is not one of this server's.
    """
    from airflow_provider_smtrain.testing.engine.simulator import active

    apps = active().services.get("mlflow_app")
    arn = str(mlflow_config.get("MlflowResourceArn") or "")
    if not isinstance(apps, MlflowApps) or arn not in apps.apps:
        return None
    experiment = str(mlflow_config.get("MlflowExperimentName") or job_name)
    return record_run(apps, arn, experiment, str(mlflow_config.get("MlflowRunName") or job_name))

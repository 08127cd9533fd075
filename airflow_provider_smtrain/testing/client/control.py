"""The control part of LocalSageMaker: settings, rules, faults, request log, jobs, clock (standard library only)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from airflow_provider_smtrain.testing.client.launcher import Launcher

#: Silence of a ``timeout`` drop by default (see :meth:`Control.fail_next`).
DEFAULT_DROP_SECONDS = 10.0


class ClockControl:
    """
    The server's simulation clock, as seen from a test.

    :param call: The control API caller of a :class:`Launcher`.
    """

    def __init__(self, call: Callable[..., Any]) -> None:
        self._call = call

    def state(self) -> dict[str, Any]:
        """``{"now": simulated unix time, "frozen": bool, "offset": seconds ahead of the wall clock}``."""
        result: dict[str, Any] = self._call("GET", "clock")
        return result

    def now(self) -> float:
        """The simulated unix time."""
        return float(self.state()["now"])

    def freeze(self) -> float:
        """Stop the clock; jobs stand still until :meth:`advance` or :meth:`resume`. Returns the time."""
        return float(self._call("POST", "clock", {"action": "freeze"})["now"])

    def advance(self, seconds: float) -> float:
        """
        Move the clock forward (frozen or running); returns the new simulated time.

        :param seconds: How far, ``>= 0``.
        """
        return float(self._call("POST", "clock", {"action": "advance", "seconds": seconds})["now"])

    def resume(self) -> float:
        """Let a frozen clock run again from where it stands. Returns the time."""
        return float(self._call("POST", "clock", {"action": "resume"})["now"])


class Control(Launcher):
    """The control API of :class:`~airflow_provider_smtrain.testing.client.LocalSageMaker`."""

    def configure(
        self,
        training_seconds: float | None = None,
        tuning_seconds: float | None = None,
        stop_seconds: float | None = None,
        run_scripts: bool | None = None,
        script_timeout_seconds: float | None = None,
        hub_import_seconds: float | None = None,
        mlflow_app_seconds: float | None = None,
        endpoint_seconds: float | None = None,
    ) -> dict[str, Any]:
        """
        Change server settings (``None`` = unchanged); returns the config. :meth:`reset` restores defaults.

        :param training_seconds: Duration of new training jobs.
        :param tuning_seconds: Duration of new tuning jobs.
        :param stop_seconds: Time a stopped job stays ``Stopping``.
        :param run_scripts: Run ``SourceCode`` entry scripts of new training jobs for real.
        :param script_timeout_seconds: Timeout of one script run.
        :param hub_import_seconds: Time a new hub content version stays ``Importing``.
        :param mlflow_app_seconds: Time a new MLflow app stays ``Creating``.
        :param endpoint_seconds: Time a new or updated endpoint stays ``Creating`` / ``Updating``.
        """
        payload = {
            "training_seconds": training_seconds,
            "tuning_seconds": tuning_seconds,
            "stop_seconds": stop_seconds,
            "run_scripts": run_scripts,
            "script_timeout_seconds": script_timeout_seconds,
            "hub_import_seconds": hub_import_seconds,
            "mlflow_app_seconds": mlflow_app_seconds,
            "endpoint_seconds": endpoint_seconds,
        }
        result: dict[str, Any] = self._control(
            "POST", "config", {k: v for k, v in payload.items() if v is not None}
        )
        return result

    def add_rule(
        self,
        kind: str = "training",
        name_glob: str = "*",
        outcome: str | None = "Failed",
        failure_reason: str | None = None,
        seconds: float | None = None,
        times: int | None = None,
        *,
        metrics: dict[str, float] | None = None,
        base_metrics: dict[str, float] | None = None,
        step: str | None = None,
    ) -> dict[str, Any]:
        """
        Make new jobs whose name matches ``name_glob`` end differently. First matching rule wins.

        Kind ``pipeline_execution`` matches the pipeline name or the execution display name; its outcome is
        ``Succeeded`` (or ``Completed``), ``Failed`` (the step ``step`` fails, default the last job step, with
        ``failure_reason``) or ``CompletedWithFailures``; ``seconds`` is each job step's duration, and
        ``metrics`` / ``base_metrics`` the values the evaluated and the base model get in the result files.

        :param kind: ``training`` (also matches tuning children), ``tuning``, ``agent_rft``, ``hub_content``,
            ``mlflow_app``, ``endpoint`` or ``pipeline_execution``.
        :param name_glob: ``fnmatch`` pattern on the job name.
        :param outcome: ``Failed``, ``Completed`` or ``None`` (only change the duration).
        :param failure_reason: FailureReason of failed jobs.
        :param seconds: Duration override.
        :param times: Apply to at most this many jobs.
        :param metrics: ``pipeline_execution``: metric name to value for the evaluated (custom) model.
        :param base_metrics: ``pipeline_execution``: metric name to value for the base model.
        :param step: ``pipeline_execution``: glob of the failing step's name.
        """
        payload: dict[str, Any] = {
            "kind": kind,
            "name_glob": name_glob,
            "outcome": outcome,
            "failure_reason": failure_reason,
            "seconds": seconds,
            "times": times,
        }
        extra = {"metrics": metrics, "base_metrics": base_metrics, "step": step}
        payload.update({k: v for k, v in extra.items() if v is not None})
        result: dict[str, Any] = self._control("POST", "rules", payload)
        return result

    def rules(self) -> list[dict[str, Any]]:
        """Return the outcome rules with their match counts."""
        result: list[dict[str, Any]] = self._control("GET", "rules")
        return result

    def clear_rules(self) -> None:
        """Remove every outcome rule."""
        self._control("DELETE", "rules")

    def set_faults(
        self,
        throttle_rate: float = 0.0,
        error_5xx_rate: float = 0.0,
        latency_ms: float = 0,
        operations: list[str] | None = None,
        seed: int | None = None,
        *,
        lost_response_rate: float = 0.0,
        dropped_request_rate: float = 0.0,
        drop_mode: str = "reset",
        drop_seconds: float = DEFAULT_DROP_SECONDS,
        services: list[str] | None = None,
    ) -> dict[str, Any]:
        """
        Inject random faults into API calls (replaces previous settings).

        :param throttle_rate: Probability of ``ThrottlingException`` (HTTP 400).
        :param error_5xx_rate: Probability of HTTP 500 ``InternalFailure`` / 503 ``ServiceUnavailable``.
        :param latency_ms: Latency added to each matching call.
        :param operations: Only these operations (default: every operation of ``services``).
        :param seed: Random seed, for reproducible fault sequences.
        :param lost_response_rate: Probability that a call is carried out and its response dropped.
        :param dropped_request_rate: Probability that a call is dropped without being carried out.
        :param drop_mode: ``reset`` (close the connection at once) or ``timeout`` (silence, then close).
        :param drop_seconds: Silence of a ``timeout`` drop.
        :param services: Signing services (``sagemaker``, ``s3``, ``logs``, ...); default SageMaker only.
            Throttling and 5xx apply to JSON/query calls; drops to any call.
        """
        result: dict[str, Any] = self._control(
            "POST",
            "faults",
            {
                "throttle_rate": throttle_rate,
                "error_5xx_rate": error_5xx_rate,
                "latency_ms": latency_ms,
                "operations": list(operations) if operations is not None else None,
                "seed": seed,
                "lost_response_rate": lost_response_rate,
                "dropped_request_rate": dropped_request_rate,
                "drop_mode": drop_mode,
                "drop_seconds": drop_seconds,
                "services": list(services) if services is not None else None,
            },
        )
        return result

    def clear_faults(self) -> None:
        """Remove random faults and pending :meth:`fail_next` errors."""
        self._control("DELETE", "faults")

    def fail_next(
        self,
        operation: str,
        code: str = "AccessDeniedException",
        status: int = 400,
        count: int = 1,
        message: str = "",
        *,
        kind: str = "error",
        mode: str = "reset",
        seconds: float = DEFAULT_DROP_SECONDS,
    ) -> dict[str, Any]:
        """
        Fail the next ``count`` calls of ``operation`` (any service).

        ``kind="error"`` answers with an AWS error (JSON/query protocols) and the call has no effect.
        ``kind="lost_response"`` carries the call out (the job is created, stopped, ...) and then drops
        the response; ``kind="dropped_request"`` drops it without carrying it out. Drops reset the
        connection at once (``mode="reset"``) or stay silent for ``seconds`` and then close it
        (``mode="timeout"``), so the client sees a connection error or its read timeout.

        :param operation: Operation name, e.g. ``DescribeTrainingJob`` or ``PutObject``.
        :param code: Error code (``kind="error"``).
        :param status: HTTP status (``kind="error"``).
        :param count: Number of calls to fail.
        :param message: Error message (``kind="error"``).
        :param kind: ``error``, ``lost_response`` or ``dropped_request``.
        :param mode: ``reset`` or ``timeout`` (drops).
        :param seconds: Silence of a ``timeout`` drop.
        """
        result: dict[str, Any] = self._control(
            "POST",
            "fail_next",
            {
                "operation": operation,
                "code": code,
                "status": status,
                "count": count,
                "message": message,
                "kind": kind,
                "mode": mode,
                "seconds": seconds,
            },
        )
        return result

    def requests(
        self, operation: str | None = None, service: str | None = None, name: str | None = None
    ) -> list[dict[str, Any]]:
        """
        Request log, oldest first; each entry has ``service``, ``operation``, ``access_key_id``,
        ``status_code``, ``fault`` (None, ``throttle``, ``5xx``, ``fail_next``, ``lost_response`` or
        ``dropped_request``), ``time`` and more.

        :param operation: Only this operation (e.g. ``CreateTrainingJob``).
        :param service: Only this signing service (e.g. ``sagemaker``, ``s3``, ``iam``, ``logs``).
        :param name: Only requests about this job (its ``...JobName`` parameter; ``name`` in each entry).
        """
        result: list[dict[str, Any]] = self._control(
            "GET", "requests", query={"operation": operation, "service": service, "name": name}
        )
        return result

    def clear_requests(self) -> None:
        """Empty the request log."""
        self._control("DELETE", "requests")

    def jobs(self) -> dict[str, Any]:
        """Simulated jobs by kind (training, tuning, agent_rft), brought up to the simulated time (debugging aid)."""
        result: dict[str, Any] = self._control("GET", "jobs")
        return result

    def force_job(
        self,
        kind: str,
        name: str,
        status: str,
        failure_reason: str | None = None,
        secondary_status: str | None = None,
        region: str | None = None,
    ) -> dict[str, Any]:
        """
        Put a job into a state now; it stays there (no MaxRuntime either) until forced again or stopped.

        :param kind: ``training``, ``tuning``, ``agent_rft``, ``hub_content``, ``mlflow_app`` or
            ``pipeline_execution`` (``name`` = execution ARN, id or display name; statuses ``Executing``,
            ``Stopping``, ``Stopped``, ``Failed``, ``Succeeded``, ``CompletedWithFailures``).
        :param name: Job name.
        :param status: ``InProgress``, ``Completed``, ``Failed``, ``Stopping`` or ``Stopped``.
        :param failure_reason: FailureReason of a ``Failed`` job (a default one otherwise).
        :param secondary_status: SecondaryStatus of a training job (default derived from ``status``:
            ``Training`` for ``InProgress``, else the status itself).
        :param region: Region of the job (default :attr:`region`).
        """
        payload = {
            "kind": kind,
            "name": name,
            "status": status,
            "failure_reason": failure_reason,
            "secondary_status": secondary_status,
            "region": region or self.region,
        }
        result: dict[str, Any] = self._control("POST", "jobs/force", payload)
        return result

    def register_model_package(
        self,
        group: str,
        *,
        training_job_name: str,
        training_job_arn: str,
        model_data_s3_uri: str,
        base_model: str,
        base_model_version: str | None = None,
        recipe_name: str | None = None,
        image: str | None = None,
        region: str | None = None,
    ) -> str:
        """
        Create the next version in a model package group as a completed fine-tuning job does; return its ARN.

        :param group: Model package group name or ARN (must exist).
        :param training_job_name: The job that produced the model.
        :param training_job_arn: Its ARN.
        :param model_data_s3_uri: S3 prefix of the weights.
        :param base_model: Hub content name of the base model (read back by the SDK for continued fine-tuning).
        :param base_model_version: Its version (default: the public hub's).
        :param recipe_name: Recipe name.
        :param image: Inference image (default: the base model's hosting image).
        :param region: Region (default :attr:`region`).
        """
        payload = {
            "group": group,
            "training_job_name": training_job_name,
            "training_job_arn": training_job_arn,
            "model_data_s3_uri": model_data_s3_uri,
            "base_model": base_model,
            "base_model_version": base_model_version,
            "recipe_name": recipe_name,
            "image": image,
            "region": region or self.region,
        }
        result: dict[str, Any] = self._control("POST", "model_packages/register", payload)
        return str(result["ModelPackageArn"])

    def record_mlflow_run(
        self, app_arn: str, experiment_name: str, run_name: str | None = None
    ) -> dict[str, str]:
        """
        Log a run in an MLflow app, as a training job with an ``MlflowConfig`` does; returns its ``MlflowDetails``.

        :param app_arn: The app's ARN.
        :param experiment_name: Experiment (created on first use).
        :param run_name: Run name.
        """
        payload = {"app_arn": app_arn, "experiment_name": experiment_name, "run_name": run_name}
        result: dict[str, str] = self._control("POST", "mlflow_runs", payload)
        return result

    @property
    def clock(self) -> ClockControl:
        """The simulation clock: ``sm.clock.freeze()``, ``.advance(seconds)``, ``.resume()``, ``.now()``."""
        return ClockControl(self._control)

    def stats(self) -> dict[str, Any]:
        """Work counters of the server: ``{"ticks": {"training": n, "tuning": m}}`` since the last reset."""
        result: dict[str, Any] = self._control("GET", "stats")
        return result

    def reset(self) -> None:
        """Clear all moto state, jobs, rules, faults and the request log; restore the clock and the startup config."""
        self._control("POST", "reset")

    def shutdown(self) -> None:
        """Ask the server to exit (works for attached servers too)."""
        self._control("POST", "shutdown")

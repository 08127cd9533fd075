"""Deferrable sensors for SageMaker jobs started elsewhere (another DAG, a notebook, a pipeline)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.providers.amazon.aws.sensors.base_aws import AwsBaseSensor
from airflow.providers.amazon.aws.utils.mixins import aws_template_fields
from airflow.sdk.bases.sensor import PokeReturnValue
from airflow.sdk.exceptions import AirflowSensorTimeout

from airflow_provider_smtrain.config import default_deferrable
from airflow_provider_smtrain.exceptions import SageMakerJobFailed
from airflow_provider_smtrain.hooks.sagemaker_train import SageMakerTrainHook
from airflow_provider_smtrain.jobs.catalog import job_result
from airflow_provider_smtrain.jobs.kinds import (
    AGENT_RFT,
    TRAINING,
    TUNING,
    JobKind,
    Outcome,
    failure_message,
    outcome_of,
)
from airflow_provider_smtrain.operators.events import check_event

if TYPE_CHECKING:
    from airflow.sdk import Context


class SageMakerJobSensor(AwsBaseSensor[SageMakerTrainHook]):
    """
    Wait for a SageMaker job that this task did not start; return its result when it completes.

    The sensor never stops the job it watches. A failed or stopped job fails the sensor with the
    job's failure reason.

    :param job_name: the name of the job to wait for.
    :param deferrable: wait in the triggerer; default ``[smtrain] default_deferrable`` (True).
    :param poke_interval: seconds between status reads.
    :param aws_conn_id: the Airflow ``aws`` connection.
    :param region_name: AWS region; overrides the connection's region.
    :param verify: whether to verify SSL certificates, or a CA bundle path.
    :param botocore_config: botocore client configuration as a dict.
    """

    aws_hook_class = SageMakerTrainHook
    job_kind: ClassVar[JobKind]
    template_fields: Sequence[str] = aws_template_fields("job_name")

    def __init__(
        self,
        *,
        job_name: str,
        deferrable: bool | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("poke_interval", 30)
        super().__init__(**kwargs)
        self.job_name = job_name
        self.deferrable = default_deferrable() if deferrable is None else deferrable

    @property
    def _region(self) -> str:
        return self.hook.require_region()

    def _judge(self, describe: dict[str, Any]) -> dict[str, Any] | None:
        outcome = outcome_of(self.job_kind, describe.get(self.job_kind.status_key))
        if outcome is Outcome.RUNNING:
            return None
        if outcome is Outcome.SUCCEEDED:
            return job_result(self.job_kind, describe, self._region)
        status = describe.get(self.job_kind.status_key)
        raise SageMakerJobFailed(
            failure_message(self.job_kind, self.job_name, status, self.job_kind.failure_reason(describe))
        )

    def poke(self, context: Context) -> bool | PokeReturnValue:
        """Read the job's status once."""
        result = self._judge(self.hook.describe_job(self.job_kind, self.job_name))
        return False if result is None else PokeReturnValue(is_done=True, xcom_value=result)

    def execute(self, context: Context) -> Any:
        """Check once, then defer to the triggerer (or poke in the worker when not deferrable)."""
        if not self.deferrable:
            return super().execute(context)
        result = self._judge(self.hook.describe_job(self.job_kind, self.job_name))
        if result is not None:
            return result
        from airflow_provider_smtrain.triggers import trigger_for_task

        deadline = time.time() + float(self.timeout) if self.timeout else None
        self.defer(
            trigger=trigger_for_task(
                self,
                self.job_kind,
                job_name=self.job_name,
                region_name=self._region,
                poll_interval=float(self.poke_interval),
                deadline=deadline,
                stop_on_deadline=False,
                stop_on_kill=False,
            ),
            method_name="execute_complete",
            timeout=None if deadline is None else timedelta(seconds=float(self.timeout) + 300),
        )

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any]:
        """
        Resume after the trigger fired; return the job's result.

        :param context: the task context.
        :param event: the trigger event payload.
        """
        if isinstance(event, dict) and event.get("status") == "deadline":
            raise AirflowSensorTimeout(
                f"{self.job_kind.label.capitalize()} {self.job_name} did not finish within the sensor's "
                f"timeout ({self.timeout}s)"
            )
        check_event(event, self.job_kind)
        result = self._judge(self.hook.describe_job(self.job_kind, self.job_name))
        if result is None:
            raise SageMakerJobFailed(f"{self.job_kind.label} {self.job_name} is still running after the trigger fired")
        return result


class TrainingJobSensor(SageMakerJobSensor):
    """
    Wait for a SageMaker training job started elsewhere; return the training result (``docs/outputs.md``).

    :param job_name: the training job name.
    """

    job_kind = TRAINING


class TuningJobSensor(SageMakerJobSensor):
    """
    Wait for a SageMaker hyperparameter tuning job started elsewhere; return the tuning result.

    :param job_name: the tuning job name.
    """

    job_kind = TUNING


class AgentRFTJobSensor(SageMakerJobSensor):
    """
    Wait for a SageMaker AgentRFT job (``MultiTurnRLTrainer``) started elsewhere; return the AgentRFT result.

    :param job_name: the AgentRFT job name.
    """

    job_kind = AGENT_RFT

"""The sync hook: Airflow AWS connection → boto3 session → one shared SageMaker SDK ``Session``."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook
from botocore.exceptions import ClientError

from airflow_provider_smtrain.hooks.connection import RequireConnectionMixin
from airflow_provider_smtrain.hooks.credentials import sdk_credentials_scope
from airflow_provider_smtrain.jobs.kinds import JobKind
from airflow_provider_smtrain.jobs.retry import is_not_found, is_not_running

if TYPE_CHECKING:
    import boto3

#: SageMaker SDK config that turns its telemetry off for everything that reads the session's config.
_SDK_CONFIG: dict[str, Any] = {
    "SchemaVersion": "1.0",
    "SageMaker": {"PythonSDK": {"Modules": {"TelemetryOptOut": True}}},
}


class SageMakerTrainHook(RequireConnectionMixin, AwsBaseHook):
    """
    Interact with SageMaker through the SageMaker Python SDK v3 and boto3, with the connection's credentials.

    Everything one task does shares one boto3 session and one SDK ``Session`` built from the Airflow
    ``aws`` connection (region, role, verify, botocore config, assume-role and endpoint all come from
    the amazon provider's :class:`~airflow.providers.amazon.aws.hooks.base_aws.AwsBaseHook`). SDK code
    must run inside :meth:`sdk_scope`, which pins every client the SDK creates to that session.

    A named connection that does not exist raises
    :class:`~airflow.sdk.exceptions.AirflowNotFoundException` before any AWS call (the amazon hook
    would fall back to the process's ambient credentials); ``aws_conn_id=None`` asks for the default
    credential chain.

    :param default_bucket: S3 bucket the SDK stages code and drivers in (no STS/ListBuckets lookups).
    :param kwargs: passed to :class:`~airflow.providers.amazon.aws.hooks.base_aws.AwsBaseHook`
        (``aws_conn_id``, ``region_name``, ``verify``, ``config``).
    """

    hook_name = "Amazon SageMaker Train (SDK v3)"

    def __init__(self, *, default_bucket: str | None = None, **kwargs: Any) -> None:
        kwargs["client_type"] = "sagemaker"
        super().__init__(**kwargs)
        self.default_bucket = default_bucket

    @cached_property
    def boto_session(self) -> boto3.session.Session:
        """The one boto3 session of this hook (built from the Airflow connection, cached)."""
        return self.get_session(region_name=self.region_name)

    def require_region(self) -> str:
        """The hook's region (operator argument, else the connection's); a clear error when there is none."""
        region = self.region_name or self.boto_session.region_name
        if not region:
            raise ValueError(
                "region_name: no AWS region; pass region_name= to the task or set region_name in the "
                "extra of the Airflow connection"
            )
        return str(region)

    def _service_endpoints(self) -> dict[str, str]:
        service_config = self.conn_config.extra_config.get("service_config") or {}
        return {
            service: cfg["endpoint_url"]
            for service, cfg in service_config.items()
            if isinstance(cfg, dict) and cfg.get("endpoint_url")
        }

    @contextlib.contextmanager
    def credentials_scope(self) -> Iterator[None]:
        """Pin every AWS client created inside the block to this hook's session (re-entrant)."""
        with sdk_credentials_scope(
            self.boto_session,
            endpoint_url=self.conn_config.endpoint_url,
            service_endpoints=self._service_endpoints(),
            verify=self.verify,
        ):
            yield

    @cached_property
    def _sdk_session(self) -> Any:
        from sagemaker.core.helper.session_helper import Session

        return Session(
            boto_session=self.boto_session,
            default_bucket=self.default_bucket,
            sagemaker_config=_SDK_CONFIG,
        )

    @contextlib.contextmanager
    def sdk_scope(self) -> Iterator[Any]:
        """
        Yield the shared SageMaker SDK ``Session`` with every SDK client pinned to the connection.

        The SDK is imported here, lazily: never at DAG parse time.
        """
        with self.credentials_scope():
            yield self._sdk_session

    # -- plain boto3 operations shared by operators and sensors ------------------------------------

    def describe_job(self, kind: JobKind, job_name: str) -> dict[str, Any]:
        """
        Describe one job with the hook's client.

        :param kind: the job kind.
        :param job_name: the job name.
        """
        return getattr(self.sagemaker_client, kind.describe_method)(**kind.request_params(job_name))

    def find_job(self, kind: JobKind, job_name: str) -> dict[str, Any] | None:
        """
        Describe one job, or return ``None`` when SageMaker has no job of that name.

        :param kind: the job kind.
        :param job_name: the job name.
        """
        try:
            return self.describe_job(kind, job_name)
        except ClientError as err:
            if is_not_found(err):
                return None
            raise

    def stop_job(self, kind: JobKind, job_name: str) -> bool:
        """
        Ask SageMaker to stop a job; return whether a stop was requested.

        A job that already finished is not an error.

        :param kind: the job kind.
        :param job_name: the job name.
        """
        try:
            getattr(self.sagemaker_client, kind.stop_method)(**kind.stop_params(job_name))
        except ClientError as err:
            if is_not_running(err):
                self.log.info("%s %s was not running; nothing to stop", kind.label, job_name)
                return False
            raise
        self.log.info("Requested stop of %s %s", kind.label, job_name)
        return True

    def evaluation_result(
        self,
        execution_arn: str,
        evaluation_type: str,
        *,
        model: str | None = None,
        benchmark: str | None = None,
        s3_output_path: str | None = None,
    ) -> dict[str, Any]:
        """
        The documented result of an evaluation (``docs/outputs.md``, Evaluation result), read with this hook.

        Describes the pipeline execution, lists its steps, describes the training jobs that wrote the
        results and, when the execution succeeded, reads the result files from S3: every request is signed
        by the connection.

        :param execution_arn: the pipeline execution ARN.
        :param evaluation_type: ``benchmark``, ``custom_scorer``, ``llm_as_judge`` or ``multi_turn_rl``.
        :param model: the evaluated model, as the task named it.
        :param benchmark: the benchmark (``mmlu``...), for benchmark evaluations.
        :param s3_output_path: the evaluation's output path; default: the step jobs' output path.
        """
        from airflow_provider_smtrain.hooks.evaluation_files import (
            describe_result_jobs,
            list_execution_steps,
            read_result_files,
        )
        from airflow_provider_smtrain.jobs.evaluation_results import check_evaluation_type, evaluation_result

        check_evaluation_type(evaluation_type)
        client = self.sagemaker_client
        describe = client.describe_pipeline_execution(PipelineExecutionArn=execution_arn)
        steps = list_execution_steps(client, execution_arn)
        jobs = describe_result_jobs(client, steps, evaluation_type)
        output_path = s3_output_path or next(
            (j["OutputDataConfig"]["S3OutputPath"] for j in jobs.values() if j.get("OutputDataConfig")), None
        )
        files: dict[str, bytes] = {}
        if output_path and describe.get("PipelineExecutionStatus") in {"Succeeded", "CompletedWithFailures"}:
            files = read_result_files(self.client("s3"), steps, output_path, evaluation_type)
        return evaluation_result(
            describe,
            steps,
            files,
            self.require_region(),
            evaluation_type,
            model=model,
            benchmark=benchmark,
            s3_output_path=output_path,
            job_describes=jobs,
        )

    def client(self, service: str) -> Any:
        """
        A boto3 client of the hook's session, with the connection's endpoint, config and verify.

        :param service: the boto3 service name.
        """
        return self.boto_session.client(
            service,
            endpoint_url=self.conn_config.get_service_endpoint_url(service),
            config=self._get_config(),
            verify=self.verify,
        )

    @cached_property
    def sagemaker_client(self) -> Any:
        """The SageMaker client of the hook's session (cached)."""
        return self.client("sagemaker")

    @cached_property
    def logs_client(self) -> Any:
        """The CloudWatch Logs client of the hook's session (cached)."""
        return self.client("logs")

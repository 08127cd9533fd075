"""``ModelTrainerOperator``: run one SageMaker training job through the SDK's ``ModelTrainer``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow_provider_smtrain.jobs.console import TRAINING_LOG_GROUP
from airflow_provider_smtrain.jobs.kinds import TRAINING, log_console_url
from airflow_provider_smtrain.jobs.outputs import training_result
from airflow_provider_smtrain.links.sagemaker import TrainingJobLink, TrainingLogsLink
from airflow_provider_smtrain.operators.base import SageMakerJobOperator
from airflow_provider_smtrain.operators.trainer_args import (
    TRAINER_FIELDS,
    given_arguments,
    mask_environment,
    s3_bucket,
    with_resolved_source_dir,
)

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_smtrain.hooks.logs import TrainingLogTailer
    from airflow_provider_smtrain.specs import ModelTrainerSpec

#: ``task_state_store`` key of the CloudWatch log position reached (``{"job_name", "streams"}``).
LOG_POSITION_KEY = "smtrain_log_position"


class ModelTrainerOperator(SageMakerJobOperator):
    """
    Train a model with the SageMaker Python SDK v3 ``ModelTrainer``: one training job per task instance.

    Every argument below is templated and JSON-native (dicts, lists, strings, numbers); SDK config
    objects (``Compute``, ``SourceCode``, ``InputData``, ...) are accepted too. The arguments are
    validated before anything is created; see ``docs/specs.md`` for every field.

    .. seealso::
        ``docs/operators.md`` and the example DAG ``example_dags/example_model_trainer.py``.

    :param role: IAM role ARN the training job runs as.
    :param output_path: S3 URI where the model artifacts go.
    :param training_image: training container image URI (or give ``algorithm_name``).
    :param algorithm_name: SageMaker algorithm name or ARN (instead of ``training_image``).
    :param compute: instance type, count, volume size, spot, keep-alive.
    :param source_code: ``source_dir`` (local dir, relative to the DAG file, or S3), ``entry_script``
        or ``command``, ``requirements``, ``ignore_patterns``.
    :param input_data: channels: ``{"train": "s3://..."}`` or a list of ``{channel_name, data_source}``.
    :param hyperparameters: hyperparameters passed to the training code.
    :param environment: environment variables of the training container (never logged).
    :param stopping_condition: ``max_runtime_in_seconds``, ``max_wait_time_in_seconds``, ...
    :param checkpoint: ``s3_uri`` and ``local_path`` for checkpoints.
    :param networking: VPC ``subnets`` and ``security_group_ids``, isolation flags.
    :param distributed: ``{"type": "torchrun", ...}`` or ``{"type": "mpi", ...}``.
    :param tags: tags of the training job.
    :param base_job_name: SDK base job name (S3 prefixes; also the job name prefix by default).
    :param metric_definitions: ``[{"name": ..., "regex": ...}]`` metrics scraped from the logs.
    :param training_input_mode: ``File``, ``Pipe`` or ``FastFile``.
    :param tensorboard_output_path: S3 URI for TensorBoard output.
    :param print_log: stream the job's CloudWatch logs into the task log.
    """

    job_kind = TRAINING
    job_link = TrainingJobLink
    operator_extra_links = (TrainingJobLink(), TrainingLogsLink())
    template_fields: Sequence[str] = (*SageMakerJobOperator.template_fields, *TRAINER_FIELDS)
    template_fields_renderers = {field: "json" for field in TRAINER_FIELDS}

    def __init__(
        self,
        *,
        role: str,
        output_path: str,
        training_image: str | None = None,
        algorithm_name: str | None = None,
        compute: Any = None,
        source_code: Any = None,
        input_data: Any = None,
        hyperparameters: Any = None,
        environment: Any = None,
        stopping_condition: Any = None,
        checkpoint: Any = None,
        networking: Any = None,
        distributed: Any = None,
        tags: Any = None,
        base_job_name: str | None = None,
        metric_definitions: Any = None,
        training_input_mode: str | None = None,
        tensorboard_output_path: str | None = None,
        print_log: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.role = role
        self.output_path = output_path
        self.training_image = training_image
        self.algorithm_name = algorithm_name
        self.compute = compute
        self.source_code = source_code
        self.input_data = input_data
        self.hyperparameters = hyperparameters
        self.environment = environment
        self.stopping_condition = stopping_condition
        self.checkpoint = checkpoint
        self.networking = networking
        self.distributed = distributed
        self.tags = tags
        self.base_job_name = base_job_name
        self.metric_definitions = metric_definitions
        self.training_input_mode = training_input_mode
        self.tensorboard_output_path = tensorboard_output_path
        self.print_log = print_log
        self._tailer: TrainingLogTailer | None = None

    def trainer_arguments(self) -> dict[str, Any]:
        """The rendered trainer arguments, with a relative ``source_dir`` resolved against the DAG file."""
        return with_resolved_source_dir(given_arguments(self, TRAINER_FIELDS), self.dag_folder())

    def build_spec(self) -> ModelTrainerSpec:
        """Validate the rendered arguments into a :class:`ModelTrainerSpec`."""
        from airflow_provider_smtrain.specs import ModelTrainerSpec, parse_spec

        spec = parse_spec(ModelTrainerSpec, self.trainer_arguments(), owner=type(self).__name__)
        mask_environment(spec.environment)
        return spec

    def name_prefix(self, spec: ModelTrainerSpec) -> str:
        """Job names start with ``job_name_prefix``, else ``base_job_name``, else the task id."""
        return self.job_name_prefix or spec.base_job_name or self.task_id

    def staging_bucket(self, spec: ModelTrainerSpec) -> str | None:
        """The SDK stages code in the output path's bucket."""
        return s3_bucket(spec.output_path)

    def submit_job(self, spec: ModelTrainerSpec, name: str, context: Context) -> None:
        """Start the training job with ``ModelTrainer.train(wait=False)`` under the fixed name."""
        from airflow_provider_smtrain.sdk.model_trainer import start_training_job

        with self.hook.sdk_scope() as session:
            start_training_job(session, spec, name)

    def job_result(self, describe: dict[str, Any]) -> dict[str, Any]:
        """See ``docs/outputs.md`` (training result)."""
        return training_result(describe, self.region)

    def on_job_found(self, describe: dict[str, Any], context: Context) -> None:
        """Persist the logs link and say where the logs are."""
        assert self._job_name is not None
        self.persist_job_link(TrainingLogsLink, context)
        self.log.info(
            "Training job %s logs: CloudWatch group %s, streams %s/*, %s",
            self._job_name,
            TRAINING_LOG_GROUP,
            self._job_name,
            log_console_url(self._job_name, self.region),
        )

    @staticmethod
    def _log_position_store() -> Any:
        """The ``task_state_store`` of the running task, if any (log positions survive deferrals in it)."""
        try:
            from airflow.sdk import get_current_context

            return get_current_context().get("task_state_store")
        except Exception:  # no current context (e.g. called outside a task run)
            return None

    def _print_new_log_lines(self) -> None:
        """
        Copy new CloudWatch lines into the task log; best effort: logs never fail a task.

        Every event of every stream is copied. The position reached is saved in ``task_state_store``
        (key :data:`LOG_POSITION_KEY`), so the fresh operator that resumes after a deferral, or a
        retry re-attaching to the job, continues after the last line printed instead of repeating.
        """
        if not self.print_log or self._job_name is None:
            return
        store = self._log_position_store()
        if self._tailer is None or self._tailer.job_name != self._job_name:
            from airflow_provider_smtrain.hooks.logs import TrainingLogTailer

            saved = store.get(LOG_POSITION_KEY) if store is not None else None
            position = None
            if isinstance(saved, dict) and saved.get("job_name") == self._job_name:
                position = saved.get("streams")
            self._tailer = TrainingLogTailer(self.hook.logs_client, self._job_name, position=position)
        printed = 0
        try:
            for stream, line in self._tailer.new_lines():
                self.log.info("[%s] %s", stream.rsplit("/", 1)[-1], line)
                printed += 1
        except Exception as err:
            self.log.warning("Stopped copying the training job's CloudWatch logs: %s", err)
            self.print_log = False
        finally:
            if printed and store is not None:
                try:
                    store.set(
                        LOG_POSITION_KEY, {"job_name": self._job_name, "streams": self._tailer.position()}
                    )
                except Exception as err:
                    self.log.warning("Could not save the CloudWatch log position: %s", err)

    def on_poll(self, describe: dict[str, Any]) -> None:
        """Blocking mode: stream new CloudWatch log lines into the task log."""
        self._print_new_log_lines()

    def after_wait(self, describe: dict[str, Any]) -> None:
        """Deferrable mode: copy the job's CloudWatch logs into the task log once it ended."""
        self._print_new_log_lines()

    def _finish(self, outcome: Any, describe: dict[str, Any]) -> dict[str, Any]:
        if not self.deferrable:
            self._print_new_log_lines()
        return super()._finish(outcome, describe)

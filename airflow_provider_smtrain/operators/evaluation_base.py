"""The lifecycle of an evaluation: one pipeline execution per task instance generation, found by its own pipeline.

:class:`~airflow_provider_smtrain.operators.base.SageMakerJobOperator` names jobs after the task instance;
a pipeline execution gets its ARN from SageMaker. This adapter keeps the rest of the lifecycle (deferral,
trigger, resume, deadline, stop on kill/clear/timeout, result) and replaces only how the execution is found:

* generation *g* of a task instance has a **display name** (``job_name`` of the task instance digest
  and *g*), its **own pipeline** (the SDK's prefix followed by the display name, so no other task's
  ``UpdatePipeline`` can touch it) and a **request token** (:func:`~airflow_provider_smtrain.jobs.naming.request_token`);
* the identity (display name, generation) is persisted in ``task_state_store`` **before** anything is
  created; once SageMaker answered, the execution ARN replaces the display name as the handle;
* a later try finds the execution of its generation by the stored ARN, or by listing the executions
  of its generation's pipeline (a crash or a lost ``StartPipelineExecution`` response): running →
  re-attach; succeeded → result; failed/stopped → next generation;
* the start itself passes the generation's token, so a retried ``StartPipelineExecution`` returns the
  execution SageMaker already started instead of a second one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.sdk.exceptions import AirflowException

from airflow_provider_smtrain.jobs.clock import clock
from airflow_provider_smtrain.jobs.identity import JobIdentity, cleared_since, max_tries_of, new_token
from airflow_provider_smtrain.jobs.kinds import PIPELINE_EXECUTION, Outcome, outcome_of
from airflow_provider_smtrain.jobs.naming import job_name, request_token
from airflow_provider_smtrain.jobs.retry import call_with_retries, is_not_found, is_retriable
from airflow_provider_smtrain.links.evaluation import PipelineExecutionLink
from airflow_provider_smtrain.links.finetune import MlflowLink
from airflow_provider_smtrain.operators.attach import (
    MAX_GENERATIONS,
    RECONCILE_INTERVAL,
    RECONCILE_LOOKS,
    found,
    remember,
    run_again_after_clear,
    saved_identity,
    ti_key,
)
from airflow_provider_smtrain.operators.base import SageMakerJobOperator
from airflow_provider_smtrain.operators.trainer_args import given_arguments, s3_bucket
from airflow_provider_smtrain.operators.waiting import describe_job, find_job, wait_out_stopping

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_smtrain.sdk.evaluation_pipeline import StartPlan
    from airflow_provider_smtrain.specs.evaluation import _EvaluatorSpec

#: Arguments every evaluator takes, in SDK order (all templated).
COMMON_FIELDS: tuple[str, ...] = (
    "model",
    "role",
    "s3_output_path",
    "evaluate_base_model",
    "mlflow_resource_arn",
    "mlflow_experiment_name",
    "mlflow_run_name",
    "networking",
    "kms_key_id",
    "model_package_group",
    "tags",
)


class EvaluatorOperator(SageMakerJobOperator):
    """
    Base of the evaluator operators: the SDK evaluator named by the spec, on a pipeline execution.

    Takes the arguments every evaluator takes; a subclass sets :attr:`spec_name` and adds its own
    arguments (exactly its spec's other fields). Every argument is templated (rendered as JSON) and
    validated into the spec before anything is created (``docs/specs.md``).

    :param model: the model to evaluate: a hub model id, a model package ARN, an S3 checkpoint URI, or the
        output of an earlier trainer task (``sft.output``: its fine-tuned model package).
    :param role: IAM role ARN the pipeline and its jobs run as.
    :param s3_output_path: S3 URI the evaluation writes its results under.
    :param evaluate_base_model: also evaluate the base model, side by side (its metrics are ``base``).
    :param mlflow_resource_arn: MLflow app ARN, or ``"default"`` for the account's app; unset: no MLflow
        (and no MLflow app is ever created).
    :param mlflow_experiment_name: MLflow experiment name.
    :param mlflow_run_name: MLflow run name.
    :param networking: ``{"subnets": [...], "security_group_ids": [...]}``.
    :param kms_key_id: KMS key that encrypts the output.
    :param model_package_group: model package group (name or ARN) of the evaluated model.
    :param tags: tags of the evaluation's pipeline.
    """

    job_kind = PIPELINE_EXECUTION
    job_link = PipelineExecutionLink
    operator_extra_links = (PipelineExecutionLink(), MlflowLink())
    #: The name of the spec class in :mod:`airflow_provider_smtrain.specs`.
    spec_name: ClassVar[str]
    template_fields: Sequence[str] = (*SageMakerJobOperator.template_fields, *COMMON_FIELDS)
    template_fields_renderers: ClassVar[dict[str, str]] = dict.fromkeys(COMMON_FIELDS, "json")
    ui_color = "#e8daef"

    def __init__(
        self,
        *,
        model: Any,
        role: str,
        s3_output_path: str,
        evaluate_base_model: bool | str | None = None,
        mlflow_resource_arn: str | None = None,
        mlflow_experiment_name: str | None = None,
        mlflow_run_name: str | None = None,
        networking: Any = None,
        kms_key_id: str | None = None,
        model_package_group: str | None = None,
        tags: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.model = model
        self.role = role
        self.s3_output_path = s3_output_path
        self.evaluate_base_model = evaluate_base_model
        self.mlflow_resource_arn = mlflow_resource_arn
        self.mlflow_experiment_name = mlflow_experiment_name
        self.mlflow_run_name = mlflow_run_name
        self.networking = networking
        self.kms_key_id = kms_key_id
        self.model_package_group = model_package_group
        self.tags = tags

    def build_spec(self) -> _EvaluatorSpec:
        """Validate the rendered arguments into the operator's spec."""
        from airflow_provider_smtrain import specs

        spec_class = getattr(specs, self.spec_name)
        spec: _EvaluatorSpec = specs.parse_spec(
            spec_class, given_arguments(self, tuple(spec_class.model_fields)), owner=type(self).__name__
        )
        return spec

    def staging_bucket(self, spec: _EvaluatorSpec) -> str | None:
        """The SDK's default bucket: the output path's."""
        return s3_bucket(spec.s3_output_path)

    # -- naming -------------------------------------------------------------------------------------

    def plan_for(self, spec: _EvaluatorSpec, key: str, generation: int) -> StartPlan:
        """
        Display name, pipeline and token of one generation.

        :param spec: the validated spec.
        :param key: the task instance digest.
        :param generation: the generation.
        """
        from airflow_provider_smtrain.sdk.evaluation_pipeline import StartPlan, pipeline_name_for

        display = job_name(PIPELINE_EXECUTION, self.name_prefix(spec), key, generation)
        return StartPlan(pipeline_name_for(spec.evaluation_type, display), display, request_token(key, generation))

    def execution_in(self, pipeline_name: str) -> str | None:
        """
        The ARN of the execution in a generation's pipeline (None when the pipeline or the execution does not exist).

        :param pipeline_name: the generation's pipeline.
        """
        from botocore.exceptions import ClientError

        def _list() -> str | None:
            try:
                response = self.hook.sagemaker_client.list_pipeline_executions(
                    PipelineName=pipeline_name, SortBy="CreationTime", SortOrder="Ascending", MaxResults=10
                )
            except ClientError as err:
                if is_not_found(err) or "does not exist" in str(err):
                    return None
                raise
            summaries = response.get("PipelineExecutionSummaries") or []
            return str(summaries[0]["PipelineExecutionArn"]) if summaries else None

        return call_with_retries(_list, what=f"Listing the executions of pipeline {pipeline_name}", log=self.log)

    # -- lifecycle ----------------------------------------------------------------------------------

    def submit_job(self, spec: _EvaluatorSpec, name: str, context: Context) -> None:
        """Not used: evaluations start through :meth:`_start` (the ARN comes from SageMaker)."""
        raise NotImplementedError("evaluations start through EvaluatorOperator._start")

    def execute(self, context: Context) -> dict[str, Any]:
        """Run, re-attach to, or return the result of this task instance's evaluation."""
        spec = self._spec  # validation first: nothing is created for bad input
        self.hook.require_region()
        try:
            describe = self._find_or_start(spec, context)
            self._persist_links(context)
            result = self.job_result(describe) if not self.wait_for_completion else self._wait_and_finish(describe, context)
            self._persist_mlflow_link(context, result)
            return result
        except Exception as err:
            from airflow_provider_smtrain.exceptions import SageMakerJobFailed, TriggerEventError
            from airflow_provider_smtrain.specs import SpecValidationError

            if not isinstance(err, SageMakerJobFailed | TriggerEventError | SpecValidationError):
                self._stop_if_last_try(context)
            raise

    def _find_or_start(self, spec: _EvaluatorSpec, context: Context) -> dict[str, Any]:
        store = context.get("task_state_store")
        saved = saved_identity(context)
        token = saved.token if saved else (new_token() if store is not None else "")
        key = ti_key(self, context, token)
        max_tries = max_tries_of(context.get("ti"))
        generation = saved.generation if saved else 1

        def identity(handle: str, gen: int, arn: str | None) -> JobIdentity:
            return JobIdentity(handle, gen, PIPELINE_EXECUTION.name, token, max_tries, arn)

        if saved is not None and not saved.arn:  # persisted, but no answer recorded: look in its pipeline
            arn = self.execution_in(self.plan_for(spec, key, saved.generation).pipeline_name)
            if arn is not None:
                saved = identity(arn, saved.generation, arn)
                remember(self, store, saved)
        if saved is not None and saved.arn and cleared_since(saved, context.get("ti")):
            generation, running = run_again_after_clear(self, saved)
            if running is not None:  # stop_job_on_kill=False: the cleared task adopts its running execution
                remember(self, store, identity(saved.arn, generation, saved.arn))
                return found(self, running, context, Outcome.RUNNING)
        elif saved is not None or store is None:  # a fresh token (first try) names nothing that exists yet
            for _ in range(MAX_GENERATIONS):
                arn = saved.arn if saved and saved.generation == generation and saved.arn else None
                arn = arn or self.execution_in(self.plan_for(spec, key, generation).pipeline_name)
                describe = find_job(self, arn) if arn else None
                if describe is None:
                    break
                describe = wait_out_stopping(self, arn, describe)  # type: ignore[arg-type]
                outcome = outcome_of(PIPELINE_EXECUTION, describe.get(PIPELINE_EXECUTION.status_key))
                if outcome in (Outcome.RUNNING, Outcome.SUCCEEDED):
                    remember(self, store, identity(str(arn), generation, arn))
                    return found(self, describe, context, outcome)
                self.log.info("Pipeline execution %s ended %s (%s); starting generation %d", arn,
                              describe.get(PIPELINE_EXECUTION.status_key),
                              PIPELINE_EXECUTION.failure_reason(describe) or "no reason given", generation + 1)
                generation += 1
            else:
                raise AirflowException(f"{MAX_GENERATIONS} failed generations of pipeline executions; giving up")
        plan = self.plan_for(spec, key, generation)
        remember(self, store, identity(plan.display_name, generation, None))  # before anything is created
        arn = self._start(spec, plan)
        remember(self, store, identity(arn, generation, arn))
        return found(self, describe_job(self, arn), context, None)

    def _start(self, spec: _EvaluatorSpec, plan: StartPlan) -> str:
        """Start the generation's execution; a start that broke on the wire is reconciled with SageMaker."""
        from airflow_provider_smtrain.sdk.evaluation import start_evaluation
        from airflow_provider_smtrain.specs import SpecValidationError

        self.log.info("Starting evaluation %s in pipeline %s", plan.display_name, plan.pipeline_name)
        self.hook.default_bucket = self.default_bucket or self.staging_bucket(spec)
        try:
            with self.hook.sdk_scope() as session:
                return start_evaluation(type(self).__name__, session, self.hook.sagemaker_client, spec, plan, self.region)
        except SpecValidationError:
            self._rejected = True  # bad input found by a lookup: nothing was started
            raise
        except Exception as err:
            arn = self.execution_in(plan.pipeline_name)
            for _ in range(RECONCILE_LOOKS if arn is None and is_retriable(err) else 0):
                clock().sleep(RECONCILE_INTERVAL)
                arn = self.execution_in(plan.pipeline_name)
                if arn is not None:
                    break
            if arn is None:
                self._rejected = True  # nothing runs: nothing to stop
                raise
            self.log.warning("Starting %s reported %s, but SageMaker has its execution %s: attaching to it",
                             plan.display_name, type(err).__name__, arn)
            return arn

    def _stop_if_last_try(self, context: Context) -> None:
        """Nothing to stop when nothing was started; a handle that is not an ARN yet has nothing to stop either."""
        if getattr(self, "_rejected", False):
            return
        if self._job_name and not self._job_name.startswith("arn:"):
            return
        super()._stop_if_last_try(context)

    def job_result(self, describe: dict[str, Any]) -> dict[str, Any]:
        """The evaluation result (``docs/evaluation.md``): steps, metrics read from S3, MLflow, links."""
        spec = self._spec
        arn = str(describe.get(PIPELINE_EXECUTION.arn_key or ""))
        with self.hook.credentials_scope():
            return self.hook.evaluation_result(
                arn, spec.evaluation_type, model=spec.model, benchmark=getattr(spec, "benchmark", None),
                s3_output_path=spec.s3_output_path,
            )

    def execute_complete(
        self, context: Context, event: dict[str, Any] | None = None, deadline: float | None = None
    ) -> dict[str, Any]:
        """
        Resume after the trigger fired; link the MLflow app.

        :param context: the task context.
        :param event: the trigger event payload.
        :param deadline: the deadline the task deferred with.
        """
        result = super().execute_complete(context, event=event, deadline=deadline)
        self._persist_mlflow_link(context, result)
        return result

    def _finish(self, outcome: Outcome, describe: dict[str, Any]) -> dict[str, Any]:
        """A failed execution fails the task naming its failing step and the step's reason."""
        if outcome is Outcome.FAILED:
            from airflow_provider_smtrain.exceptions import SageMakerJobFailed
            from airflow_provider_smtrain.jobs.kinds import failure_message
            from airflow_provider_smtrain.triggers.pipelines import failed_step

            try:
                steps = self.hook.sagemaker_client.list_pipeline_execution_steps(
                    PipelineExecutionArn=describe[PIPELINE_EXECUTION.name_param], SortOrder="Ascending"
                ).get("PipelineExecutionSteps") or []
            except Exception:
                steps = []
            step = failed_step(steps)
            reason = PIPELINE_EXECUTION.failure_reason(describe)
            if step is not None:
                reason = f"{reason + ' (' if reason else ''}step {step['name']} failed: {step['reason'] or 'no reason given'}{')' if reason else ''}"
            raise SageMakerJobFailed(failure_message(
                PIPELINE_EXECUTION, self._job_name, describe.get(PIPELINE_EXECUTION.status_key), reason))
        return super()._finish(outcome, describe)

    def _persist_mlflow_link(self, context: Context, result: dict[str, Any]) -> None:
        arn = (result.get("mlflow") or {}).get("resource_arn") or self._spec.mlflow_resource_arn
        if arn and str(arn).startswith("arn:"):
            MlflowLink.persist(context=context, operator=self, region_name=self.region,
                               aws_partition=self.hook.sagemaker_client.meta.partition, arn=arn)


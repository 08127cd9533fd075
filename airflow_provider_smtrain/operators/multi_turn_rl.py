"""``MultiTurnRLTrainerOperator``: one multi-turn RL (Agent RFT) job per task instance, through the SDK."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_smtrain.jobs.kinds import AGENT_RFT
from airflow_provider_smtrain.jobs.mtrl_outputs import multi_turn_rl_result
from airflow_provider_smtrain.links.finetune import MlflowLink, ModelPackageLink
from airflow_provider_smtrain.links.sagemaker import AgentRFTJobLink, AgentRFTLogsLink
from airflow_provider_smtrain.operators.finetune_base import FineTuneJobOperator, template_fields_for

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_smtrain.specs import MultiTurnRLTrainerSpec

#: The operator's arguments, all templated, in the SDK's order: exactly the spec's fields.
MTRL_FIELDS: tuple[str, ...] = (
    "model",
    "agent_env",
    "role",
    "training_dataset",
    "validation_dataset",
    "s3_output_path",
    "output_model_package_group",
    "intermediate_checkpoint_model_package_group",
    "bedrock_agentcore_qualifier",
    "mlflow_app_arn",
    "mlflow_experiment_name",
    "mlflow_run_name",
    "networking",
    "kms_key_arn",
    "accept_eula",
    "tags",
    "hyperparameters",
    "base_job_name",
)


class MultiTurnRLTrainerOperator(FineTuneJobOperator):
    """
    Fine-tune a model with multi-turn reinforcement learning against an agent environment (Agent RFT).

    Runs the SageMaker Python SDK v3 ``MultiTurnRLTrainer``, which starts a SageMaker ``CreateJob``
    job of category ``AgentRFT``: one job per task instance, deferrable by default, re-attached on
    retry, stopped on kill, clear and timeout. Every argument is templated and JSON-native, and
    validated before anything is created (``docs/specs.md``, ``MultiTurnRLTrainerSpec``); the checks
    that need a lookup (the model's regions, the recipe's hyperparameter specs) run before the job is
    submitted. The result is documented in ``docs/outputs.md`` (MultiTurnRL result).

    What the SDK does on AWS when the job is submitted (only then, inside the connection's credentials
    scope; a retry that re-attaches constructs nothing): it reads the model's hub entry and recipe,
    makes sure ``s3_output_path`` exists (creating the bucket and an empty prefix marker if missing),
    describes the model package groups you name, and **get-or-creates** the groups you leave unset
    (``<model>-mtrl-mpg``, ``<model>-mtrl-checkpoint-mpg``): name both groups to create none. A bare
    agent runtime id is resolved with ``GetAgentRuntime`` through the connection. No MLflow app is
    looked up or created unless ``mlflow_app_arn`` is set.

    .. seealso::
        ``docs/finetune.md`` (multi-turn RL section).

    :param model: hub model id, model package ARN, or an earlier trainer task's result.
    :param agent_env: Bedrock AgentCore runtime ARN or id, Lambda ARN, or ``{"lambda_arn": ...}``.
    :param role: IAM role ARN the job runs as.
    :param training_dataset: S3 URI, AI Registry dataset ARN or name, or a dataset task's result.
    :param validation_dataset: same forms as ``training_dataset``.
    :param s3_output_path: S3 URI for the job's output.
    :param output_model_package_group: model package group (name or ARN) of the fine-tuned model.
    :param intermediate_checkpoint_model_package_group: model package group (name or ARN) of the
        intermediate checkpoints.
    :param bedrock_agentcore_qualifier: AgentCore endpoint qualifier (default ``DEFAULT``).
    :param mlflow_app_arn: MLflow app ARN, or ``"default"`` for the SDK's default app (may create one).
    :param mlflow_experiment_name: MLflow experiment name.
    :param mlflow_run_name: MLflow run name.
    :param networking: ``{"subnets": [...], "security_group_ids": [...]}``.
    :param kms_key_arn: KMS key that encrypts the output.
    :param accept_eula: accept the base model's EULA (gated models).
    :param tags: tags of the job.
    :param hyperparameters: overrides of the model's MTRL recipe.
    :param base_job_name: job name prefix (default: the task id).
    """

    job_kind = AGENT_RFT
    # FineTuneJobOperator's links are a training job's; an AgentRFT job has its own.
    job_link = AgentRFTJobLink  # type: ignore[assignment]
    operator_extra_links = (AgentRFTJobLink(), AgentRFTLogsLink(), ModelPackageLink(), MlflowLink())  # type: ignore[assignment]
    spec_name: ClassVar[str] = "MultiTurnRLTrainerSpec"
    template_fields: Sequence[str] = template_fields_for(MTRL_FIELDS)
    template_fields_renderers = {
        field: "json" for field in ("agent_env", "model", "networking", "tags", "hyperparameters")
    }

    def __init__(
        self,
        *,
        model: Any,
        agent_env: Any,
        role: str,
        training_dataset: Any,
        validation_dataset: Any = None,
        s3_output_path: str | None = None,
        output_model_package_group: str | None = None,
        intermediate_checkpoint_model_package_group: str | None = None,
        bedrock_agentcore_qualifier: str | None = None,
        mlflow_app_arn: str | None = None,
        mlflow_experiment_name: str | None = None,
        mlflow_run_name: str | None = None,
        networking: Any = None,
        kms_key_arn: str | None = None,
        accept_eula: Any = None,
        tags: Any = None,
        hyperparameters: Any = None,
        base_job_name: str | None = None,
        **kwargs: Any,
    ) -> None:
        values = dict(locals())
        super().__init__(**kwargs)
        for name in MTRL_FIELDS:
            setattr(self, name, values[name])

    def build_spec(self) -> MultiTurnRLTrainerSpec:  # type: ignore[override]
        """Validate the rendered arguments into a :class:`MultiTurnRLTrainerSpec`."""
        spec: MultiTurnRLTrainerSpec = super().build_spec()  # type: ignore[assignment]
        return spec

    def name_prefix(self, spec: MultiTurnRLTrainerSpec) -> str:  # type: ignore[override]
        """Job names start with ``job_name_prefix``, else ``base_job_name``, else the task id."""
        return self.job_name_prefix or spec.base_job_name or self.task_id

    def execute(self, context: Context) -> dict[str, Any]:
        """Validate the arguments, then run, re-attach to, or return the result of this task instance's job."""
        _ = self._spec  # bad arguments first: nothing is read or created for them
        with self.hook.credentials_scope():
            # Importing the SDK's trainer modules needs a region (its AI Registry module builds clients
            # at import): import them where the connection's region is exported, before the checks use them.
            import sagemaker.train.multi_turn_rl_trainer  # noqa: F401
        return super().execute(context)

    def submit_job(self, spec: MultiTurnRLTrainerSpec, name: str, context: Context) -> None:  # type: ignore[override]
        """Build the ``MultiTurnRLTrainer`` and start the job with ``train(wait=False)`` under ``name``."""
        from airflow_provider_smtrain.sdk.multi_turn_rl import start_agent_rft_job
        from airflow_provider_smtrain.specs import SpecValidationError

        try:
            with self.hook.sdk_scope() as session:
                start_agent_rft_job(session, spec, name)
        except SpecValidationError:
            self._rejected = True  # bad input found by a lookup: no job was created, nothing to stop
            raise

    def job_result(self, describe: dict[str, Any]) -> dict[str, Any]:
        """See ``docs/outputs.md`` (MultiTurnRL result)."""
        spec = self._spec
        return multi_turn_rl_result(
            describe, self.region, base_model_id=None if spec.is_model_package else spec.model
        )

    def on_job_found(self, describe: dict[str, Any], context: Context) -> None:
        """Persist the logs link of the job (``/aws/sagemaker/Job/AgentRFT``)."""
        self.persist_job_link(AgentRFTLogsLink, context)

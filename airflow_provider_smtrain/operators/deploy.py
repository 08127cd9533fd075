"""Deploy a model to a real-time endpoint: create it, or update it with a new config; wait until InService.

:class:`DeployModelOperator` uses the provider's hook (boto3, signed by the Airflow connection), not the
SDK's ``ModelBuilder``: a deployment is three plain API calls, and the operator must own their names.

Identity. The model and the endpoint config this task instance creates share one deterministic name:
``jobs.naming.job_name`` of the endpoint name, a digest of the task instance (with its random token
from ``task_state_store``) and of what is deployed, and a generation. The identity is written to
``task_state_store`` **before** anything is created. Every try then reads the endpoint:

* absent → ``CreateModel`` + ``CreateEndpointConfig`` (each skipped if it exists) + ``CreateEndpoint``;
* serving, or deploying (``PendingDeploymentSummary``), this task instance's config → re-attach: no call
  creates anything, so a retry while the endpoint is ``Updating`` adds no second config;
* this task instance's deployment ``Failed`` → the next generation is deployed;
* ``InService`` or ``Failed`` with another config → model and config as above + ``UpdateEndpoint``;
* ``Creating``/``Updating`` someone else's config → the task fails (retry later); nothing is created.

A create or update whose response was lost is reconciled by reading the endpoint again. A deployment
cannot be stopped: ``stop_job_on_kill`` is always False; a deadline fails the task and leaves it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_smtrain.exceptions import SageMakerJobFailed
from airflow_provider_smtrain.jobs.endpoint_outputs import endpoint_result
from airflow_provider_smtrain.jobs.kinds import ENDPOINT, Outcome, outcome_of
from airflow_provider_smtrain.links.sagemaker import EndpointLink
from airflow_provider_smtrain.operators.base import SageMakerJobOperator

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_smtrain.specs import DeployModelSpec

#: The operator's spec fields (constructor arguments, all templated).
DEPLOY_FIELDS: tuple[str, ...] = (
    "endpoint_name",
    "role",
    "model_package_arn",
    "model_data_url",
    "image",
    "instance_type",
    "initial_instance_count",
    "variant_name",
    "environment",
)


class DeployModelOperator(SageMakerJobOperator):
    """
    Deploy a model package version or model data to a real-time endpoint (create-or-update).

    An absent endpoint is created; an existing one is updated to a new endpoint config. Waits,
    deferrably by default, until the endpoint is ``InService`` serving this deployment and fails with
    SageMaker's reason when it is ``Failed``. Returns the endpoint result with the deployment keys
    (``docs/deploy.md``). Uses boto3 through the connection, not the SDK's ``ModelBuilder``.

    :param endpoint_name: the endpoint: letters, digits and hyphens, at most 63 characters.
    :param role: IAM role ARN SageMaker hosts the model with.
    :param model_package_arn: a model package version ARN, or the whole result of a fine-tuning task
        (its ``model_package_arn`` is used).
    :param model_data_url: S3 URI of model data (``model.tar.gz`` or a prefix), or a training result
        (its ``model_artifacts``); needs ``image``.
    :param image: inference container image; required with ``model_data_url``.
    :param instance_type: instance type, default ``ml.g5.2xlarge``.
    :param initial_instance_count: instances, 1 to 100 (default 1).
    :param variant_name: the production variant's name (default ``AllTraffic``).
    :param environment: container environment variables.
    """

    job_kind = ENDPOINT
    job_link = EndpointLink
    operator_extra_links = (EndpointLink(),)
    template_fields: Sequence[str] = (*SageMakerJobOperator.template_fields, *DEPLOY_FIELDS)
    template_fields_renderers: ClassVar[dict[str, str]] = {"environment": "json", "model_package_arn": "json"}
    ui_color = "#e8daef"

    def __init__(
        self,
        *,
        endpoint_name: str,
        role: str,
        model_package_arn: Any = None,
        model_data_url: Any = None,
        image: str | None = None,
        instance_type: str = "ml.g5.2xlarge",
        initial_instance_count: int = 1,
        variant_name: str = "AllTraffic",
        environment: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.pop("stop_job_on_kill", None)
        super().__init__(stop_job_on_kill=False, **kwargs)  # a deployment cannot be stopped
        self.endpoint_name = endpoint_name
        self.role = role
        self.model_package_arn = model_package_arn
        self.model_data_url = model_data_url
        self.image = image
        self.instance_type = instance_type
        self.initial_instance_count = initial_instance_count
        self.variant_name = variant_name
        self.environment = environment
        self._deployed: str | None = None

    def build_spec(self) -> DeployModelSpec:
        """Validate the rendered arguments into a :class:`DeployModelSpec`."""
        from airflow_provider_smtrain.specs import DeployModelSpec, parse_spec

        given = {name: getattr(self, name) for name in DEPLOY_FIELDS}
        return parse_spec(DeployModelSpec, given, owner=type(self).__name__)

    # -- names --------------------------------------------------------------------------------------

    def deployment_name(self, spec: DeployModelSpec, context: Context, token: str, generation: int) -> str:
        """
        The name of the model and endpoint config of one generation of this task instance's deployment.

        :param spec: the validated spec (what is deployed is part of the digest).
        :param context: the task context.
        :param token: the task instance's random token.
        :param generation: 1, then 2 after a failed deployment, ...
        """
        from airflow_provider_smtrain.jobs.naming import job_name
        from airflow_provider_smtrain.operators.attach import ti_key

        what = json.dumps(spec.model_dump(mode="json"), sort_keys=True)
        digest = hashlib.sha256(f"{ti_key(self, context, token)}|{what}".encode()).hexdigest()[:16]
        return job_name(ENDPOINT, self.job_name_prefix or spec.endpoint_name, digest, generation)

    # -- lifecycle ----------------------------------------------------------------------------------

    def execute(self, context: Context) -> dict[str, Any]:
        """Create or update the endpoint (or re-attach to this task instance's deployment), then wait."""
        from airflow_provider_smtrain.operators.deploy_steps import deploy

        spec = self._spec  # validation first: nothing is created for bad input
        self.hook.require_region()
        describe = deploy(self, spec, context)
        self._persist_links(context)
        if not self.wait_for_completion:
            return self.job_result(describe)
        return self._wait_and_finish(describe, context)

    def execute_complete(
        self, context: Context, event: dict[str, Any] | None = None, deadline: float | None = None
    ) -> dict[str, Any]:
        """
        Resume after the trigger fired; re-derive which config this task instance deployed.

        :param context: the task context.
        :param event: the trigger event payload.
        :param deadline: the deadline the task deferred with.
        """
        from airflow_provider_smtrain.operators.attach import saved_identity

        saved = saved_identity(context)
        if saved is not None:
            self._deployed = self.deployment_name(self._spec, context, saved.token, saved.generation)
        return super().execute_complete(context, event, deadline)

    def _finish(self, outcome: Outcome, describe: dict[str, Any]) -> dict[str, Any]:
        serving = describe.get("EndpointConfigName")
        if outcome is Outcome.SUCCEEDED and self._deployed and serving != self._deployed:
            raise SageMakerJobFailed(
                f"SageMaker endpoint {self._job_name} is InService but serves endpoint config {serving}, not "
                f"{self._deployed} that this task deployed (the update was rolled back or replaced)"
            )
        return super()._finish(outcome, describe)

    def job_result(self, describe: dict[str, Any]) -> dict[str, Any]:
        """See ``docs/deploy.md``: the endpoint result and what this task deployed."""
        spec = self._spec
        return {
            **endpoint_result(describe, self.region),
            "deployed_endpoint_config_name": self._deployed,
            "model_name": self._deployed,
            "model_package_arn": spec.model_package_arn,
            "model_data_url": spec.model_data_url,
            "image": spec.image,
            "instance_type": spec.instance_type,
            "initial_instance_count": spec.initial_instance_count,
            "variant_name": spec.variant_name,
        }

    def is_ours(self, describe: dict[str, Any]) -> bool:
        """
        Whether the endpoint serves, or is deploying, this task instance's current config.

        :param describe: a DescribeEndpoint response.
        """
        pending = (describe.get("PendingDeploymentSummary") or {}).get("EndpointConfigName")
        return self._deployed is not None and self._deployed in (describe.get("EndpointConfigName"), pending)

    @staticmethod
    def running(describe: dict[str, Any]) -> bool:
        """
        Whether the endpoint is on its way somewhere (creating, updating, rolling back).

        :param describe: a DescribeEndpoint response.
        """
        return outcome_of(ENDPOINT, describe.get(ENDPOINT.status_key)) is Outcome.RUNNING

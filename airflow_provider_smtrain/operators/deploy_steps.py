"""The steps of :class:`~airflow_provider_smtrain.operators.deploy.DeployModelOperator`: find, create, update.

See the module docstring of :mod:`airflow_provider_smtrain.operators.deploy` for the decision table.
Every call goes through the operator's hook (the Airflow connection signs it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.sdk.exceptions import AirflowException

from airflow_provider_smtrain.jobs.identity import JobIdentity, max_tries_of, new_token
from airflow_provider_smtrain.jobs.kinds import ENDPOINT
from airflow_provider_smtrain.jobs.retry import call_with_retries, is_not_found
from airflow_provider_smtrain.operators.attach import found, remember, saved_identity
from airflow_provider_smtrain.operators.waiting import describe_job, find_job

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_smtrain.operators.deploy import DeployModelOperator
    from airflow_provider_smtrain.specs import DeployModelSpec

#: How many failed generations of one task instance's deployment are tried before giving up.
MAX_DEPLOY_GENERATIONS = 100


def deploy(op: DeployModelOperator, spec: DeployModelSpec, context: Context) -> dict[str, Any]:
    """
    Re-attach to this task instance's deployment, or deploy the next generation; return the endpoint's describe.

    :param op: the operator.
    :param spec: the validated spec.
    :param context: the task context.
    """
    store = context.get("task_state_store")
    saved = saved_identity(context)
    token = saved.token if saved else (new_token() if store is not None else "")
    generation = saved.generation if saved and saved.job_name == spec.endpoint_name else 1
    max_tries = max_tries_of(context.get("ti"))
    with op.hook.credentials_scope():
        for _ in range(MAX_DEPLOY_GENERATIONS):
            op._deployed = op.deployment_name(spec, context, token, generation)
            # persisted before anything is created: a crash from here on is found by the next try
            remember(op, store, JobIdentity(spec.endpoint_name, generation, ENDPOINT.name, token, max_tries))
            describe = find_job(op, spec.endpoint_name)
            if describe is None or not op.is_ours(describe):
                return found(op, _deploy_new(op, spec, describe), context, None)
            if describe.get(ENDPOINT.status_key) not in ENDPOINT.failed:
                op.log.info("Endpoint %s is %s with this task instance's config %s: re-attaching, nothing created",
                            spec.endpoint_name, describe.get(ENDPOINT.status_key), op._deployed)
                return found(op, describe, context, None)
            op.log.info("This task instance's deployment %s of endpoint %s ended %s (%s); deploying generation %d",
                        op._deployed, spec.endpoint_name, describe.get(ENDPOINT.status_key),
                        ENDPOINT.failure_reason(describe) or "no reason given", generation + 1)
            generation += 1
    raise AirflowException(f"{MAX_DEPLOY_GENERATIONS} failed deployments of endpoint {spec.endpoint_name}; giving up")


def _deploy_new(op: DeployModelOperator, spec: DeployModelSpec, describe: dict[str, Any] | None) -> dict[str, Any]:
    """Model, config, then CreateEndpoint or UpdateEndpoint; a call that broke is reconciled by reading again."""
    assert op._deployed is not None
    if describe is not None and op.running(describe):
        raise AirflowException(
            f"Endpoint {spec.endpoint_name} is {describe.get(ENDPOINT.status_key)} deploying endpoint config "
            f"{(describe.get('PendingDeploymentSummary') or {}).get('EndpointConfigName')}, which this task did "
            "not start; nothing was created (retry once that deployment has ended)"
        )
    client = op.hook.sagemaker_client
    if spec.model_package_arn:
        _check_model_package(op, spec.model_package_arn)
    _create_unless_exists(op, "model", client.describe_model, {"ModelName": op._deployed}, client.create_model, {
        "ModelName": op._deployed, "ExecutionRoleArn": spec.role, "PrimaryContainer": spec.model_container(),
    })
    variant = {"VariantName": spec.variant_name, "ModelName": op._deployed, "InstanceType": spec.instance_type,
               "InitialInstanceCount": spec.initial_instance_count, "InitialVariantWeight": 1.0}
    _create_unless_exists(
        op, "endpoint config", client.describe_endpoint_config, {"EndpointConfigName": op._deployed},
        client.create_endpoint_config, {"EndpointConfigName": op._deployed, "ProductionVariants": [variant]},
    )
    request = {"EndpointName": spec.endpoint_name, "EndpointConfigName": op._deployed}
    call = client.create_endpoint if describe is None else client.update_endpoint
    op.log.info("%s endpoint %s with endpoint config %s", "Creating" if describe is None else "Updating",
                spec.endpoint_name, op._deployed)
    try:
        call(**request)
    except Exception as err:
        after = find_job(op, spec.endpoint_name)
        if after is None or not op.is_ours(after):
            raise
        op.log.warning("%s of endpoint %s reported %s, but the endpoint is deploying %s: attaching",
                       "CreateEndpoint" if describe is None else "UpdateEndpoint", spec.endpoint_name,
                       type(err).__name__, op._deployed)
        return after
    return describe_job(op, spec.endpoint_name)


def _check_model_package(op: DeployModelOperator, arn: str) -> None:
    """A model package that does not exist is bad input, named before anything is created."""
    try:
        call_with_retries(lambda: op.hook.sagemaker_client.describe_model_package(ModelPackageName=arn),
                          what=f"DescribeModelPackage of {arn}", log=op.log)
    except Exception as err:
        if is_not_found(err):
            raise ValueError(f"model_package_arn: there is no model package {arn} ({err})") from None
        raise


def _create_unless_exists(
    op: DeployModelOperator, what: str, describe: Any, describe_args: dict[str, Any], create: Any,
    create_args: dict[str, Any],
) -> None:
    """Create a model or endpoint config under its deterministic name unless it is there already."""
    name = next(iter(describe_args.values()))
    try:
        call_with_retries(lambda: describe(**describe_args), what=f"Describe {what} {name}", log=op.log)
        op.log.info("The %s %s exists already (an earlier try created it): not creating it again", what, name)
        return
    except Exception as err:
        if not is_not_found(err):
            raise
    try:
        call_with_retries(lambda: create(**create_args), what=f"Create {what} {name}", log=op.log)
    except Exception as err:
        if "already existing" not in str(err):  # a create whose response was lost, then retried
            raise
    op.log.info("Created %s %s", what, name)

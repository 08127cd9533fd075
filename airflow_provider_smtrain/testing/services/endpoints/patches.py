"""
The moto patches of real-time endpoints (server process only; idempotent).

moto's ``CreateModel``, ``DescribeModel``, ``CreateEndpointConfig``, ``DescribeEndpointConfig`` and
``ListEndpointConfigs`` are faithful enough and kept, with SageMaker's instance types (moto's list is
old) and its refusal of a model or endpoint
config name that is taken (moto silently replaces it). Endpoints are this package's: moto creates them
``InService`` at once and has no ``UpdateEndpoint``, so ``CreateEndpoint``, ``UpdateEndpoint``,
``DescribeEndpoint``, ``DeleteEndpoint`` and ``ListEndpoints`` answer from :mod:`.store`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, cast

from moto.core.responses import ActionResult, EmptyResult
from moto.sagemaker import models as sm_models
from moto.sagemaker.exceptions import ValidationError
from moto.sagemaker.responses import SageMakerResponse

from airflow_provider_smtrain.testing import moto_support
from airflow_provider_smtrain.testing.engine.simulator import active
from airflow_provider_smtrain.testing.services.endpoints.store import ENDPOINT_STATUSES, KIND, EndpointStore
from airflow_provider_smtrain.testing.services.listing import LIST_PARAMS, list_jobs
from airflow_provider_smtrain.testing.services.responses import (
    INVALID,
    Translation,
    install_actions,
    raising_as,
    where,
)

#: Endpoint operations answer an unknown endpoint with a ``ValidationException``, not ``ResourceNotFound``.
UNKNOWN: Translation = (LookupError, INVALID[1])
#: ``CreateEndpoint`` answers a taken name with a ``ValidationException`` too.
TAKEN: Translation = (FileExistsError, INVALID[1])


def endpoints() -> EndpointStore:
    """The active simulator's endpoints."""
    return cast(EndpointStore, active().service(KIND))


def install() -> None:
    """Install the endpoint patches (once per process)."""
    install_actions(
        {
            "create_endpoint": _create,
            "update_endpoint": _update,
            "describe_endpoint": _describe,
            "delete_endpoint": _delete,
            "list_endpoints": _list,
        }
    )
    moto_support.patch_once(sm_models.FakeEndpointConfig, "validate_instance_type", _instance_types)
    moto_support.patch_once(sm_models.SageMakerModelBackend, "create_model", _refuse_taken("model", "_models"))
    moto_support.patch_once(
        sm_models.SageMakerModelBackend,
        "create_endpoint_config",
        _refuse_taken("endpoint configuration", "endpoint_configs", "endpoint-config"),
    )


def _refuse_taken(noun: str, attribute: str, arn_type: str | None = None) -> Callable[[Any], Any]:
    """A backend ``create_*`` that refuses a taken name as SageMaker does (moto replaces the object)."""

    def make(original: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(original)
        def create(self: Any, *args: Any, **kwargs: Any) -> Any:
            name = kwargs.get("model_name") or kwargs.get("endpoint_config_name") or (args[0] if args else None)
            if name in getattr(self, attribute):
                arn = f"arn:aws:sagemaker:{self.region_name}:{self.account_id}:{arn_type or noun}/{str(name).lower()}"
                raise ValidationError(message=f'Cannot create already existing {noun} "{arn}".')
            return original(self, *args, **kwargs)

        return create

    return make


@functools.cache
def instance_types() -> tuple[str, ...]:
    """The instance types a production variant accepts (botocore's ``ProductionVariantInstanceType``)."""
    import botocore.session

    model = botocore.session.get_session().get_service_model("sagemaker")
    return tuple(model.shape_for("ProductionVariantInstanceType").enum)


def _instance_types(_original: Any) -> Callable[[Any, str], None]:
    """moto's list of endpoint instance types is years old (no ``ml.g5``): check against SageMaker's model."""

    def validate_instance_type(self: Any, instance_type: str) -> None:
        if instance_type not in instance_types():
            raise ValidationError(
                message=f"Value '{instance_type}' at 'productionVariants.1.member.instanceType' failed to "
                "satisfy constraint: Member must satisfy enum value set: [ml.t2.medium, ml.m5.large, ...]"
            )

    return validate_instance_type


def _config_variants(response: SageMakerResponse, config_name: str) -> list[dict[str, Any]]:
    """The production variants of an endpoint config, each with its model's image (``Image``)."""
    backend = response.sagemaker_backend
    config = backend.endpoint_configs.get(config_name)
    if config is None:
        arn = f"arn:aws:sagemaker:{backend.region_name}:{backend.account_id}:endpoint-config/{config_name.lower()}"
        raise ValidationError(message=f'Could not find endpoint configuration "{arn}".')
    variants = []
    for variant in config.production_variants:
        model = backend._models.get(str(variant.get("ModelName")))
        container = (model.primary_container or (model.containers or [{}])[0]) if model is not None else {}
        variants.append({**variant, "Image": container.get("Image")})
    return variants


def _names(response: SageMakerResponse) -> tuple[str, str]:
    return str(response._get_param("EndpointName")), str(response._get_param("EndpointConfigName"))


def _create(self: SageMakerResponse) -> ActionResult:
    name, config_name = _names(self)
    variants = _config_variants(self, config_name)
    with raising_as(TAKEN):
        endpoint = endpoints().create(*where(self), name, config_name, variants)
    return ActionResult({"EndpointArn": endpoint.arn})


def _update(self: SageMakerResponse) -> ActionResult:
    name, config_name = _names(self)
    with raising_as(UNKNOWN, INVALID):
        endpoint = endpoints().get(*where(self), name)
        variants = _config_variants(self, config_name)
        endpoint = endpoints().update(*where(self), name, config_name, variants)
    return ActionResult({"EndpointArn": endpoint.arn})


def _describe(self: SageMakerResponse) -> ActionResult:
    with raising_as(UNKNOWN):
        endpoint = endpoints().get(*where(self), str(self._get_param("EndpointName")))
    return ActionResult(endpoint.describe())


def _delete(self: SageMakerResponse) -> EmptyResult:
    with raising_as(UNKNOWN):
        endpoints().delete(*where(self), str(self._get_param("EndpointName")))
    return EmptyResult()


def _list(self: SageMakerResponse) -> ActionResult:
    params = {name: self._get_param(name) for name in LIST_PARAMS}
    params["SortOrder"] = params["SortOrder"] or "Descending"  # ListEndpoints' default
    with raising_as(INVALID):
        return ActionResult(
            list_jobs(
                endpoints().in_region(*where(self)),
                params,
                name=lambda e: e.name,
                status=lambda e: e.status,
                statuses=ENDPOINT_STATUSES,
                default_sort="CreationTime",
                summaries_key="Endpoints",
                summary=lambda e: e.summary(),
            )
        )

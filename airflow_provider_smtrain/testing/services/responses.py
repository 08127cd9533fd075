"""
What the moto patches of the SageMaker services share (server process only): installing request handlers
on moto's ``SageMakerResponse``, reading a request, and answering with SageMaker's pages and errors.

The services' stores raise plain Python errors (``LookupError`` for an unknown resource,
``FileExistsError`` for a taken name, ``ValueError`` for a bad value); :func:`raising_as` turns them
into the exceptions moto serializes as SageMaker's (``ResourceNotFound``, ``ResourceInUse``,
``ValidationException``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from moto.sagemaker.exceptions import ResourceInUseException, ResourceNotFound, ValidationError
from moto.sagemaker.responses import SageMakerResponse

from airflow_provider_smtrain.testing import moto_support
from airflow_provider_smtrain.testing.engine.timeline import to_unix
from airflow_provider_smtrain.testing.services.listing import as_datetime
from airflow_provider_smtrain.testing.services.paging import page

#: A request handler: moto's response object in, the ``ActionResult`` (or ``EmptyResult``) out.
Handler = Callable[[SageMakerResponse], Any]
#: A store error type and the SageMaker exception that answers it.
Translation = tuple[type[Exception], Callable[[Exception], Exception]]


def install_actions(actions: Mapping[str, Handler]) -> None:
    """
    Answer each ``SageMakerResponse`` action (snake_case operation name) with its handler (idempotent).

    :param actions: handler by operation name (``describe_mlflow_app``).
    """
    for operation, handler in actions.items():
        moto_support.patch_once(SageMakerResponse, operation, _replacement(handler))


def _replacement(handler: Handler) -> Callable[[Any], Handler]:
    def make(_original: Any) -> Handler:
        @functools.wraps(handler)
        def operation(self: SageMakerResponse) -> Any:
            return handler(self)

        return operation

    return make


def where(response: SageMakerResponse) -> tuple[str, str]:
    """
    The account and region a request is for.

    :param response: moto's SageMaker response handler of the request.
    """
    backend = response.sagemaker_backend
    return backend.account_id, backend.region_name


def params(response: SageMakerResponse, *names: str) -> dict[str, Any]:
    """
    The request parameters ``names`` that the request sets (unset ones are left out).

    :param response: moto's SageMaker response handler of the request.
    :param names: the parameter names.
    """
    return {name: response._get_param(name) for name in names if response._get_param(name) is not None}


def not_found(err: Exception) -> ResourceNotFound:
    """
    SageMaker's ``ResourceNotFound`` with the store's message.

    :param err: the store's ``LookupError``.
    """
    return ResourceNotFound(message=str(err.args[0]) if err.args else "Resource not found.")


#: An unknown resource: ``ResourceNotFound``.
NOT_FOUND: Translation = (LookupError, not_found)
#: A name that is taken: ``ResourceInUse``.
IN_USE: Translation = (FileExistsError, lambda err: ResourceInUseException(message=str(err)))
#: A value the store refuses: ``ValidationException``.
INVALID: Translation = (ValueError, lambda err: ValidationError(message=str(err)))


@contextmanager
def raising_as(*translations: Translation) -> Iterator[None]:
    """
    Raise SageMaker's exception for a store error of the block (the first translation that matches).

    :param translations: which store errors to answer, and how (:data:`NOT_FOUND`, :data:`IN_USE`,
        :data:`INVALID`); other errors pass through.
    """
    try:
        yield
    except tuple(kind for kind, _ in translations) as err:
        answer = next(make for kind, make in translations if isinstance(err, kind))
        raise answer(err) from None


def paged(response: SageMakerResponse, items: list[dict[str, Any]], key: str) -> dict[str, Any]:
    """
    One page of ``items`` as the request's ``MaxResults`` and ``NextToken`` ask; a bad one is a validation error.

    :param response: moto's SageMaker response handler of the request.
    :param items: every item, in order.
    :param key: the response key of the page's items.
    """
    with raising_as(INVALID):
        return page(items, key, response._get_param("MaxResults"), response._get_param("NextToken"))


def created_between(
    response: SageMakerResponse,
    summaries: list[dict[str, Any]],
    after_param: str = "CreationTimeAfter",
    before_param: str = "CreationTimeBefore",
) -> list[dict[str, Any]]:
    """
    The summaries created strictly between the request's time bounds (each optional).

    :param response: moto's SageMaker response handler of the request.
    :param summaries: summaries with a ``CreationTime``.
    :param after_param: the request parameter of the lower bound.
    :param before_param: the request parameter of the upper bound.
    """
    after, before = response._get_param(after_param), response._get_param(before_param)
    # moto hands a timestamp over as epoch seconds, an ISO string or a datetime: compare as unix time
    if after is not None:
        summaries = [s for s in summaries if to_unix(s["CreationTime"]) > to_unix(as_datetime(after))]
    if before is not None:
        summaries = [s for s in summaries if to_unix(s["CreationTime"]) < to_unix(as_datetime(before))]
    return summaries

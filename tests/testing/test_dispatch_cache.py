"""The LocalSageMaker's cached moto dispatch finds what moto finds, and sees methods a patch adds later."""

from __future__ import annotations

import pytest
from moto.core import responses as moto_responses
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

from airflow_provider_smtrain.testing.server.dispatch import CachingDomainDispatcher, cache_method_names


@pytest.mark.parametrize(
    "host",
    [
        "api.sagemaker.us-east-1.amazonaws.com",
        "sagemaker.eu-west-1.amazonaws.com",
        "s3.amazonaws.com",
        "logs.us-east-1.amazonaws.com",
        "sts.amazonaws.com",
        "moto_api",
        None,
    ],
)
def test_backend_for_host_is_moto_s_own_answer(host):
    cached = CachingDomainDispatcher(create_backend_app)
    plain = DomainDispatcherApplication(create_backend_app)
    expected = plain.get_backend_for_host(host)
    assert cached.get_backend_for_host(host) == expected
    assert cached.get_backend_for_host(host) == expected  # from the cache
    assert cached._backend_by_host == {host: expected}


def test_method_names_follow_the_class_when_a_patch_adds_one():
    cache_method_names()
    cache_method_names()  # idempotent: not wrapped twice
    names = moto_responses.method_names_from_class

    class Response(moto_responses.BaseResponse):
        def describe_thing(self) -> None:
            """An action."""

    assert "describe_thing" in names(Response)
    assert "stop_thing" not in names(Response)
    Response.stop_thing = lambda self: None  # what a moto patch does
    assert "stop_thing" in names(Response)
    assert names(Response) is names(Response)  # listed once per shape of the class

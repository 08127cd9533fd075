"""The helpers the service patches share: store errors answered as SageMaker's, pages and time bounds."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto.sagemaker.exceptions import ResourceInUseException, ResourceNotFound, ValidationError

from airflow_provider_smtrain.testing.services.responses import IN_USE, INVALID, NOT_FOUND, raising_as
from tests.testing.test_hub import import_content
from tests.testing.test_mlflow_apps import create_app


@pytest.mark.parametrize(
    ("raised", "answer", "code"),
    [
        (LookupError("Hub h does not exist."), ResourceNotFound, "ResourceNotFound"),
        (FileExistsError("Hub h already exists."), ResourceInUseException, "ResourceInUse"),
        (ValueError("bad value"), ValidationError, "ValidationException"),
    ],
)
def test_store_errors_become_sagemakers_with_the_stores_message(
    raised: Exception, answer: type[Exception], code: str
) -> None:
    with pytest.raises(answer) as err, raising_as(NOT_FOUND, IN_USE, INVALID):
        raise raised
    assert err.value.code == code  # type: ignore[attr-defined]
    assert str(raised) in err.value.message  # type: ignore[attr-defined]
    assert err.value.__suppress_context__  # the store's traceback is not chained into the answer


def test_errors_not_asked_for_pass_through_unchanged() -> None:
    with pytest.raises(ValueError, match="kept"), raising_as(NOT_FOUND):
        raise ValueError("kept")
    with raising_as(NOT_FOUND):  # nothing raised: nothing happens
        pass


def test_a_bad_next_token_is_a_validation_error(sm: Any, sagemaker: Any) -> None:
    create_app(sagemaker, "app")
    sagemaker.create_hub(HubName="registry", HubDescription="d")
    for call in (
        lambda: sagemaker.list_mlflow_apps(NextToken="not-a-token"),
        lambda: sagemaker.list_hubs(NextToken="not-a-token"),
    ):
        with pytest.raises(ClientError) as err:
            call()
        assert err.value.response["Error"]["Code"] == "ValidationException"


def test_creation_time_bounds_keep_what_was_created_strictly_between(sm: Any, sagemaker: Any) -> None:
    sm.clock.freeze()
    sagemaker.create_hub(HubName="registry", HubDescription="d")
    import_content(sagemaker, "early")
    sm.clock.advance(100)
    import_content(sagemaker, "late")
    listed = sagemaker.list_hub_contents(HubName="registry", HubContentType="DataSet")["HubContentSummaries"]
    late = next(s["CreationTime"] for s in listed if s["HubContentName"] == "late").timestamp()

    def names(**bounds: Any) -> list[str]:
        summaries = sagemaker.list_hub_contents(HubName="registry", HubContentType="DataSet", **bounds)
        return sorted(s["HubContentName"] for s in summaries["HubContentSummaries"])

    assert names(CreationTimeAfter=late - 50) == ["late"]
    assert names(CreationTimeBefore=late - 50) == ["early"]
    assert names(CreationTimeAfter=late - 200, CreationTimeBefore=late + 1) == ["early", "late"]
    apps = sagemaker.list_mlflow_apps(CreatedAfter=late - 500)["Summaries"]  # MLflow's bounds are named otherwise
    assert apps == []

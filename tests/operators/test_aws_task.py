"""The provider's own AWS task base (``operators.aws_task``) and console link keep the amazon bases' contract."""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace
from typing import Any

import pytest
from airflow.sdk import DAG

from airflow_provider_smtrain.hooks.sagemaker_train import SageMakerTrainHook
from airflow_provider_smtrain.links.sagemaker import TrainingJobLink, TrainingLogsLink
from airflow_provider_smtrain.operators import (
    ModelTrainerOperator,
    MultiTurnRLTrainerOperator,
    SFTTrainerOperator,
)
from airflow_provider_smtrain.operators.aws_task import aws_template_fields
from airflow_provider_smtrain.sensors import TrainingJobSensor
from tests.operators.runner import FakeTI


def _tasks(**default_args: Any) -> tuple[ModelTrainerOperator, TrainingJobSensor]:
    with DAG("d", schedule=None, start_date=datetime(2026, 1, 1), default_args=default_args):
        operator = ModelTrainerOperator(task_id="t", role="r", training_image="i", output_path="s3://b/o")
        sensor = TrainingJobSensor(task_id="s", job_name="j")
    return operator, sensor


def test_connection_arguments_come_from_default_args_and_build_the_hook_on_first_use(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_FROM_DEFAULTS", '{"conn_type": "aws", "extra": {"region_name": "us-east-1"}}'
    )
    operator, sensor = _tasks(aws_conn_id="from_defaults", region_name="eu-west-1", verify=False)
    for task in (operator, sensor):
        assert (task.aws_conn_id, task.region_name, task.verify, task.botocore_config) == (
            "from_defaults",
            "eu-west-1",
            False,
            None,
        )
        assert "hook" not in vars(task)  # nothing built at parse time
        hook = task.hook
        assert isinstance(hook, SageMakerTrainHook)
        assert (hook.aws_conn_id, hook.region_name, hook.verify) == ("from_defaults", "eu-west-1", False)
        assert task.hook is hook  # one hook per task
    assert operator.hook.default_bucket is None


def test_defaults_and_template_fields_match_the_amazon_bases() -> None:
    operator, sensor = _tasks()
    assert (operator.aws_conn_id, operator.region_name, operator.verify) == ("aws_default", None, None)
    assert {"aws_conn_id", "region_name", "verify", "default_bucket"} <= set(operator.template_fields)
    assert sensor.template_fields == ("aws_conn_id", "job_name", "region_name", "verify")
    assert aws_template_fields("b", "a") == ("a", "aws_conn_id", "b", "region_name", "verify")
    with pytest.raises(TypeError, match="strings"):
        aws_template_fields(1)  # type: ignore[arg-type]


def test_links_persist_the_amazon_xcom_layout_and_never_fail() -> None:
    operator, _ = _tasks()
    ti = FakeTI()
    TrainingJobLink.persist(
        context={"ti": ti},
        operator=operator,
        region_name="cn-north-1",
        aws_partition="aws-cn",
        job_name="job-1",
    )
    assert ti.xcoms["smtrain_training_job"] == {
        "region_name": "cn-north-1",
        "aws_domain": "amazonaws.cn",
        "job_name": "job-1",
    }
    operator.do_xcom_push = False
    TrainingLogsLink.persist(
        context={"ti": ti}, operator=operator, region_name="us-east-1", aws_partition="aws", job_name="job-1"
    )
    assert "smtrain_training_logs" not in ti.xcoms
    # an XCom store that fails: persisting logs and returns None, the link renders empty
    operator.do_xcom_push = True
    broken: Any = {"ti": None}
    assert TrainingJobLink.persist(broken, operator, "us-east-1", "aws", job_name="job-1") is None
    assert TrainingJobLink().get_link(operator, ti_key=None) == ""  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("operator_class", "arguments", "key"),
    [
        (ModelTrainerOperator, {"training_image": "img", "role": "r", "output_path": "s3://b/o"}, "smtrain_training_logs"),
        (
            SFTTrainerOperator,
            {"model": "m", "role": "r", "training_dataset": "s3://b/t.jsonl"},
            "smtrain_training_logs",
        ),
        (
            MultiTurnRLTrainerOperator,
            {"model": "m", "agent_env": "e", "role": "r", "training_dataset": "s3://b/t.jsonl"},
            "smtrain_agent_rft_logs",
        ),
    ],
)
def test_job_operators_link_their_jobs_logs_when_the_job_is_found(
    operator_class: type[Any], arguments: dict[str, Any], key: str
) -> None:
    operator = operator_class(task_id="t", region_name="cn-north-1", **arguments)
    operator.__dict__["hook"] = SimpleNamespace(
        sagemaker_client=SimpleNamespace(meta=SimpleNamespace(partition="aws-cn")),
        require_region=lambda: "cn-north-1",
    )
    operator._job_name = "job-1"
    ti = FakeTI()
    operator.on_job_found({}, {"ti": ti})
    assert ti.xcoms[key] == {"region_name": "cn-north-1", "aws_domain": "amazonaws.cn", "job_name": "job-1"}

"""Names an evaluation uses: the SDK recognises the type from the pipeline name; handles fit SageMaker's limits."""

from __future__ import annotations

import json
import re

from airflow_provider_smtrain.jobs.kinds import PIPELINE_EXECUTION
from airflow_provider_smtrain.jobs.naming import job_name, request_token
from airflow_provider_smtrain.sdk.evaluation_pipeline import (
    EVALUATORS,
    drop_unset_mlflow,
    pipeline_name_for,
    pipeline_token,
)

SAGEMAKER_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}")


def test_pipeline_names_carry_the_sdks_prefix_and_fit_sagemaker() -> None:
    from sagemaker.train.evaluate.constants import EvalType, _get_pipeline_name_prefix
    from sagemaker.train.evaluate.execution import _extract_eval_type_from_arn

    sdk_types = {"benchmark": EvalType.BENCHMARK, "custom_scorer": EvalType.CUSTOM_SCORER,
                 "llm_as_judge": EvalType.LLM_AS_JUDGE, "multi_turn_rl": EvalType.MTRL}
    display = job_name(PIPELINE_EXECUTION, "x" * 200, "0123456789", 12)
    assert len(display) <= 82
    for kind, (_, _, prefix) in EVALUATORS.items():
        assert prefix == _get_pipeline_name_prefix(sdk_types[kind])
        name = pipeline_name_for(kind, display)
        assert SAGEMAKER_NAME.fullmatch(name) and len(name) <= 256
        arn = f"arn:aws:sagemaker:us-east-1:123456789012:pipeline/{name}/execution/abc"
        assert _extract_eval_type_from_arn(arn) is sdk_types[kind]


def test_tokens_are_deterministic_per_generation_and_fit_the_token_pattern() -> None:
    first, again, second = request_token("0123456789", 1), request_token("0123456789", 1), request_token("0123456789", 2)
    assert first == again != second
    assert pipeline_token(first) not in (first, second)
    arn = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/p/execution/abc"
    params = PIPELINE_EXECUTION.stop_params(arn)
    assert params["PipelineExecutionArn"] == arn and params == PIPELINE_EXECUTION.stop_params(arn)
    for token in (first, pipeline_token(first), params["ClientRequestToken"]):
        assert 32 <= len(token) <= 128 and re.fullmatch(r"[a-zA-Z0-9-]+", token)
    assert "ClientRequestToken" not in PIPELINE_EXECUTION.request_params(arn)  # describe takes no token


def test_the_sdks_unset_mlflow_arn_leaves_the_definition_but_a_real_one_stays() -> None:
    from jinja2 import Template
    from sagemaker.train.evaluate.pipeline_templates import DETERMINISTIC_TEMPLATE

    app = "arn:aws:sagemaker:us-east-1:123456789012:mlflow-app/app-1"
    unset = Template(DETERMINISTIC_TEMPLATE).render(mlflow_resource_arn=None)
    assert '"MlflowResourceArn": "None"' in unset  # what the SDK renders without MLflow
    assert "MlflowConfig" not in json.loads(drop_unset_mlflow(unset))
    asked = Template(DETERMINISTIC_TEMPLATE).render(mlflow_resource_arn=app, mlflow_experiment_name="exp")
    assert drop_unset_mlflow(asked) == asked
    assert json.loads(drop_unset_mlflow(asked))["MlflowConfig"] == {"MlflowResourceArn": app,
                                                                    "MlflowExperimentName": "exp"}

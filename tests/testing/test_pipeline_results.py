"""The result files evaluation executions write, read with the SDK's own result readers."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest

from airflow_provider_smtrain.testing.client import LocalSageMaker
from tests.testing import evaluation_pipelines as ep
from tests.testing.conftest import BUCKET

BENCH = "SagemakerEvaluation-BenchmarkEvaluation-0002"
SCORER = "SagemakerEvaluation-CustomScorerEvaluation-0002"
LLMAJ = "SagemakerEvaluation-LLMAJEvaluation-0002"


@pytest.fixture
def client(sm: LocalSageMaker) -> Any:
    """SageMaker client; the clock stands still."""
    sm.clock.freeze()
    return sm.boto3_client("sagemaker")


def _run(sm: LocalSageMaker, client: Any, name: str, template: str, **ctx: Any) -> tuple[str, dict[str, str]]:
    ep.create(sm, client, name, template, BUCKET, **ctx)
    arn = client.start_pipeline_execution(PipelineName=name, ClientRequestToken=ep.token(1))["PipelineExecutionArn"]
    sm.clock.advance(5)
    assert ep.status(client, arn) == "Succeeded"
    jobs = {
        n: s["Metadata"]["TrainingJob"]["Arn"].rsplit("/", 1)[-1]
        for n, s in ep.steps(client, arn).items()
        if "TrainingJob" in s["Metadata"]
    }
    return arn, jobs


def _results(s3: Any, job: str) -> tuple[str, dict[str, Any]]:
    keys = ep.keys(s3, BUCKET, f"eval/{job}/output/output/")
    found = [k for k in keys if k.rsplit("/", 1)[-1].startswith("results_") and k.endswith(".json")]
    assert len(found) == 1, keys
    return found[0], ep.read_json(s3, BUCKET, found[0])


def test_benchmark_results_carry_the_rule_metrics(sm: LocalSageMaker, client: Any) -> None:
    from sagemaker.train.common_utils.show_results_utils import _extract_metrics_from_results

    sm.add_rule(
        kind="pipeline_execution",
        name_glob="SagemakerEvaluation-Benchmark*",
        outcome=None,
        metrics={"accuracy": 0.81, "accuracy_stderr": 0.012},
        base_metrics={"accuracy": 0.62},
    )
    _, jobs = _run(sm, client, BENCH, "DETERMINISTIC_TEMPLATE")
    s3 = sm.boto3_client("s3")
    key, tuned = _results(s3, jobs["EvaluateCustomModel"])
    assert key.startswith(f"eval/{jobs['EvaluateCustomModel']}/output/output/mmlu/eval_results/results_")
    assert _extract_metrics_from_results(tuned) == {"accuracy": 0.81, "accuracy_stderr": 0.012}
    assert set(tuned["results"]) == {"all", "anatomy", "astronomy"}
    assert tuned["results"]["anatomy"]["accuracy"] == 0.81
    _, base = _results(s3, jobs["EvaluateBaseModel"])
    base_metrics = _extract_metrics_from_results(base)
    assert base_metrics["accuracy"] == 0.62 and 0 < base_metrics["accuracy_stderr"] < 0.05


def test_default_metrics_are_deterministic_and_tuned_beats_base(sm: LocalSageMaker, client: Any) -> None:
    from sagemaker.train.common_utils.show_results_utils import _extract_metrics_from_results

    _, jobs = _run(sm, client, BENCH, "DETERMINISTIC_TEMPLATE")
    s3 = sm.boto3_client("s3")
    tuned = _extract_metrics_from_results(_results(s3, jobs["EvaluateCustomModel"])[1])
    base = _extract_metrics_from_results(_results(s3, jobs["EvaluateBaseModel"])[1])
    assert tuned["accuracy"] > base["accuracy"]
    first = (tuned, base)
    sm.reset()
    sm.create_bucket(BUCKET)
    sm.clock.freeze()
    client = sm.boto3_client("sagemaker")
    _, jobs = _run(sm, client, BENCH, "DETERMINISTIC_TEMPLATE")
    again = tuple(_extract_metrics_from_results(_results(s3, jobs[n])[1]) for n in ("EvaluateCustomModel", "EvaluateBaseModel"))
    assert again == first


def test_custom_scorer_results_use_the_gen_qa_key(sm: LocalSageMaker, client: Any) -> None:
    from sagemaker.train.common_utils.show_results_utils import _extract_metrics_from_results

    sm.add_rule(kind="pipeline_execution", name_glob=SCORER, outcome=None, metrics={"exact_match": 0.7})
    _, jobs = _run(sm, client, SCORER, "CUSTOM_SCORER_TEMPLATE", task="gen_qa", strategy="gen_qa", evaluation_metric="all")
    _, document = _results(sm.boto3_client("s3"), jobs["EvaluateCustomModel"])
    assert list(document["results"]) == ["custom|gen_qa_gen_qa|0"]
    assert _extract_metrics_from_results(document)["exact_match"] == 0.7


def test_llmaj_aggregate_and_per_example_results(sm: LocalSageMaker, client: Any) -> None:
    from sagemaker.train.common_utils import show_results_utils as sdk

    sm.add_rule(
        kind="pipeline_execution",
        name_glob=LLMAJ,
        outcome=None,
        metrics={"Correctness": 0.9, "Helpfulness": 0.8},
        base_metrics={"Correctness": 0.5, "Helpfulness": 0.6},
    )
    arn, jobs = _run(sm, client, LLMAJ, "LLMAJ_TEMPLATE")
    s3 = sm.boto3_client("s3")
    execution = SimpleNamespace(s3_output_path=f"s3://{BUCKET}/eval/")
    original_client = sdk.boto3.client
    sdk.boto3.client = lambda service, *a, **k: s3  # type: ignore[assignment]  # the SDK reads with default creds
    try:
        custom, custom_bedrock = sdk._download_bedrock_aggregate_json(execution, jobs["EvaluateCustomModelMetrics"])
        base, base_bedrock = sdk._download_bedrock_aggregate_json(execution, jobs["EvaluateBaseModelMetrics"])
        per_example = sdk._download_llmaj_results_from_s3(execution, custom_bedrock)
        base_examples = sdk._download_llmaj_results_from_s3(execution, base_bedrock)
    finally:
        sdk.boto3.client = original_client  # type: ignore[assignment]
    assert custom_bedrock != base_bedrock
    assert {m: v["score"] for m, v in custom["results"].items()} == {"Correctness": 0.9, "Helpfulness": 0.8}
    assert {m: v["score"] for m, v in base["results"].items()} == {"Correctness": 0.5, "Helpfulness": 0.6}
    assert custom["results"]["Correctness"]["total_evaluations"] == len(per_example) == 5
    scores = [s["result"] for e in per_example for s in e["automatedEvaluationResult"]["scores"] if s["metricName"] == "Correctness"]
    assert sum(scores) / len(scores) == pytest.approx(0.9)
    assert sdk._calculate_win_rates(per_example, base_examples)["custom_wins"] == 5
    inference = ep.keys(s3, BUCKET, f"eval/{jobs['EvaluateBaseInferenceModel']}/output/output/BaseInference/")
    assert [k.rsplit("/", 1)[-1] for k in inference] == ["inference_output.jsonl"]
    line = s3.get_object(Bucket=BUCKET, Key=inference[0])["Body"].read().decode().splitlines()[0]
    assert set(json.loads(line)) == {"prompt", "response"}


def test_a_failed_step_writes_no_results(sm: LocalSageMaker, client: Any) -> None:
    sm.add_rule(kind="pipeline_execution", name_glob=BENCH, outcome="Failed", step="EvaluateCustomModel")
    ep.create(sm, client, BENCH, "DETERMINISTIC_TEMPLATE", BUCKET)
    arn = client.start_pipeline_execution(PipelineName=BENCH, ClientRequestToken=ep.token(1))["PipelineExecutionArn"]
    sm.clock.advance(5)
    steps = ep.steps(client, arn)
    custom = steps["EvaluateCustomModel"]["Metadata"]["TrainingJob"]["Arn"].rsplit("/", 1)[-1]
    base = steps["EvaluateBaseModel"]["Metadata"]["TrainingJob"]["Arn"].rsplit("/", 1)[-1]
    s3 = sm.boto3_client("s3")
    assert ep.keys(s3, BUCKET, f"eval/{custom}/output/output/") == []
    assert len(ep.keys(s3, BUCKET, f"eval/{base}/output/output/")) == 1

"""The SDK's evaluators, unmodified, start pipeline executions in the local SageMaker that reach Succeeded."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.testing import test_sdk_finetune_flows as flows
from tests.testing.conftest import BUCKET
from tests.testing.test_sdk_finetune_flows import CONN_KEY, LLAMA_1B, MLFLOW_ARN

world = flows.world
session = flows.session
JUDGE = "anthropic.claude-3-5-haiku-20241022-v1:0"


@pytest.fixture
def package_arn(sm: Any, world: dict[str, Any]) -> str:
    """A fine-tuned model package of the 1B Llama model."""
    arn = sm.register_model_package(
        "fine-tuned",
        training_job_name="sft-job",
        training_job_arn="arn:aws:sagemaker:us-east-1:123456789012:training-job/sft-job",
        model_data_s3_uri=f"s3://{BUCKET}/output/sft-job/checkpoints/hf_merged/",
        base_model=LLAMA_1B,
    )
    sm.put_object(BUCKET, "data/eval.jsonl", json.dumps({"query": "2+2?", "response": "4"}) + "\n")
    sm.clear_requests()
    return arn


def _common(world: dict[str, Any], session: Any, model: str) -> dict[str, Any]:
    return {
        "model": model,
        "s3_output_path": f"s3://{BUCKET}/eval",
        "mlflow_resource_arn": MLFLOW_ARN,
        "role": world["role"],
        "sagemaker_session": session,
    }


def _finish(sm: Any, execution: Any) -> None:
    assert execution.arn and execution.status.overall_status == "Executing", execution.status
    sm.clock.advance(60)
    execution.refresh()
    assert execution.status.overall_status == "Succeeded"


def test_benchmark_evaluator_runs_and_show_results_reads_the_rule_metrics(
    sm: Any, world: dict[str, Any], session: Any, package_arn: str, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    from sagemaker.train.evaluate import BenchMarkEvaluator, get_benchmarks
    from sagemaker.train.evaluate.execution import EvaluationPipelineExecution

    sm.add_rule(kind="pipeline_execution", name_glob="*", outcome=None, metrics={"accuracy": 0.8125}, base_metrics={"accuracy": 0.5})
    sm.clock.freeze()
    evaluator = BenchMarkEvaluator(
        benchmark=get_benchmarks().MMLU, subtasks=["anatomy"], evaluate_base_model=True, **_common(world, session, package_arn)
    )
    assert evaluator.hyperparameters.to_dict()["max_new_tokens"] == "8192"  # the hub's evaluation recipe spec
    execution = evaluator.evaluate()
    _finish(sm, execution)
    steps = {s.name: s.status for s in execution.status.step_details}
    assert steps["EvaluateCustomModel"] == steps["EvaluateBaseModel"] == "Succeeded"

    again = EvaluationPipelineExecution.get(arn=execution.arn, session=session.boto_session)
    assert type(again).__name__ == "BenchmarkEvaluationExecution"
    assert again.s3_output_path == f"s3://{BUCKET}/eval"  # from the step's training job, as on AWS
    monkeypatch.setenv("AWS_ENDPOINT_URL", sm.endpoint_url)  # show_results reads S3 with default credentials
    again.show_results()
    shown = capsys.readouterr().out
    assert "81.25%" in shown and "50.00%" in shown
    operations = {r["operation"] for r in sm.requests()}
    assert {"ListArtifacts", "CreateArtifact", "DescribeArtifact", "CreatePipeline", "StartPipelineExecution"} <= operations
    assert {r["status_code"] for r in sm.requests() if r["operation"] != "GetObject"} <= {200}
    assert CONN_KEY in {r["access_key_id"] for r in sm.requests(operation="StartPipelineExecution")}


def test_second_evaluation_updates_the_shared_pipeline_and_keeps_its_own_definition(
    sm: Any, world: dict[str, Any], session: Any, package_arn: str
) -> None:
    from sagemaker.train.evaluate import BenchMarkEvaluator, get_benchmarks

    sm.clock.freeze()
    benchmarks = get_benchmarks()
    first = BenchMarkEvaluator(benchmark=benchmarks.MMLU, subtasks=["anatomy"], **_common(world, session, package_arn)).evaluate()
    second = BenchMarkEvaluator(benchmark=benchmarks.BBH, **_common(world, session, package_arn)).evaluate()
    assert first.arn.split("/execution/")[0] == second.arn.split("/execution/")[0]  # one account-wide pipeline
    assert [r["operation"] for r in sm.requests() if r["operation"] in ("CreatePipeline", "UpdatePipeline")] == [
        "CreatePipeline",
        "UpdatePipeline",
    ]
    client = sm.boto3_client("sagemaker")
    tasks = []
    for execution in (first, second):
        definition = json.loads(client.describe_pipeline_definition_for_execution(PipelineExecutionArn=execution.arn)["PipelineDefinition"])
        tasks.append(next(s for s in definition["Steps"] if s["Name"] == "EvaluateCustomModel")["Arguments"]["HyperParameters"]["task"])
    assert tasks == ["mmlu", "bbh"]


def test_custom_scorer_evaluator_runs(sm: Any, world: dict[str, Any], session: Any, package_arn: str) -> None:
    from sagemaker.train.evaluate import CustomScorerEvaluator, get_builtin_metrics

    sm.clock.freeze()
    evaluator = CustomScorerEvaluator(
        evaluator=get_builtin_metrics().PRIME_MATH, dataset=f"s3://{BUCKET}/data/eval.jsonl", **_common(world, session, package_arn)
    )
    execution = evaluator.evaluate()
    _finish(sm, execution)
    assert type(execution).__name__ == "BenchmarkEvaluationExecution"


def test_llm_as_judge_evaluator_runs_and_its_results_are_readable(
    sm: Any, world: dict[str, Any], session: Any, package_arn: str, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    from sagemaker.train.evaluate import LLMAsJudgeEvaluator

    sm.add_rule(kind="pipeline_execution", name_glob="*", outcome=None, metrics={"Correctness": 0.9}, base_metrics={"Correctness": 0.4})
    sm.clock.freeze()
    evaluator = LLMAsJudgeEvaluator(
        evaluator_model=JUDGE,
        builtin_metrics=["Builtin.Correctness"],
        dataset=f"s3://{BUCKET}/data/eval.jsonl",
        evaluate_base_model=True,
        **_common(world, session, package_arn),
    )
    execution = evaluator.evaluate()
    sm.clock.advance(60)
    monkeypatch.setenv("AWS_ENDPOINT_URL", sm.endpoint_url)
    execution.show_results(limit=1)
    shown = capsys.readouterr().out
    assert "90.0%" in shown and "40.0%" in shown
    assert [r["status_code"] for r in sm.requests(operation="GetFoundationModel")] == [200]
    with pytest.raises(ValueError, match="not a supported LLM-as-Judge model"):
        LLMAsJudgeEvaluator(evaluator_model="anthropic.claude-v1", dataset=f"s3://{BUCKET}/data/eval.jsonl", **_common(world, session, package_arn))


def test_multi_turn_rl_evaluator_runs_its_job_steps(
    sm: Any, world: dict[str, Any], session: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    from sagemaker.train.evaluate import MultiTurnRLEvaluator

    from tests.testing.test_sdk_finetune_flows import QWEN

    sm.put_object(BUCKET, "data/eval.jsonl", json.dumps({"prompt": "solve it"}) + "\n")
    monkeypatch.chdir(tmp_path)  # the SDK writes its pipeline definition into the working directory
    monkeypatch.setenv("AWS_ENDPOINT_URL", sm.endpoint_url)  # and ignores the session for the pipeline calls
    sm.clock.freeze()
    evaluator = MultiTurnRLEvaluator(
        agent_config="arn:aws:lambda:us-east-1:123456789012:function:agent-env",
        dataset=f"s3://{BUCKET}/data/eval.jsonl",
        **_common(world, session, QWEN),
    )
    execution = evaluator.evaluate()
    assert execution.arn and ":pipeline/SagemakerEvaluation-MTRLEvaluation" in execution.arn
    sm.clock.advance(60)
    execution.refresh()
    assert execution.status.overall_status == "Succeeded"
    client = sm.boto3_client("sagemaker")
    steps = client.list_pipeline_execution_steps(PipelineExecutionArn=execution.arn)["PipelineExecutionSteps"]
    [job_arn] = [s["Metadata"]["Job"]["Arn"] for s in steps if s["StepName"] == "EvaluateBaseModel"]
    assert ":job/AgentRFTEvaluation/" in job_arn  # the SDK's StepDetail.job_arn knows no Job metadata
    job = client.describe_job(JobName=job_arn.rsplit("/", 1)[-1], JobCategory="AgentRFTEvaluation")
    assert job["JobStatus"] == "Completed"
    keys = [o["Key"] for o in sm.boto3_client("s3").list_objects_v2(Bucket=BUCKET, Prefix="eval/").get("Contents", [])]
    assert any(k.endswith(".json") and "/output/output/mtrl/eval_results/results_" in k for k in keys), keys

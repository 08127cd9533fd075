"""Quality gates: every check judged and tabled; fail, short-circuit and branch outcomes; clear spec errors."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG
from airflow.sdk.exceptions import AirflowFailException, DownstreamTasksSkipped

from airflow_provider_smtrain.jobs.evaluation_results import evaluation_result
from airflow_provider_smtrain.jobs.quality_gate import format_checks, judge, parse_thresholds
from airflow_provider_smtrain.operators.gate import EvaluationGateBranchOperator, EvaluationGateOperator
from tests.jobs import evaluation_fixtures as fx

BENCH_PIPELINE = "SagemakerEvaluation-BenchmarkEvaluation-0f1e2d3c"
LLMAJ_PIPELINE = "SagemakerEvaluation-LLMAJEvaluation-9a8b7c6d"


def bench() -> dict[str, Any]:
    files = {fx.bench_uri(fx.BENCH_BASE_JOB): fx.BENCH_BASE, fx.bench_uri(fx.BENCH_TUNED_JOB): fx.BENCH_TUNED}
    return evaluation_result(
        fx.describe(BENCH_PIPELINE), fx.BENCHMARK_STEPS, files, fx.REGION, "benchmark", benchmark="mmlu"
    )


def llmaj() -> dict[str, Any]:
    files = {fx.llmaj_uri(fx.LLMAJ_BASE_JOB): fx.LLMAJ_BASE, fx.llmaj_uri(fx.LLMAJ_TUNED_JOB): fx.LLMAJ_TUNED}
    return evaluation_result(fx.describe(LLMAJ_PIPELINE), fx.LLMAJ_STEPS, files, fx.REGION, "llm_as_judge")


def tuned_only() -> dict[str, Any]:
    files = {fx.bench_uri(fx.BENCH_TUNED_JOB): fx.BENCH_TUNED}
    return evaluation_result(
        fx.describe(BENCH_PIPELINE), fx.BENCHMARK_STEPS, files, fx.REGION, "benchmark", benchmark="mmlu"
    )


# -- the pure judgement ------------------------------------------------------------------------------


def test_every_bound_of_every_matched_row_is_a_check() -> None:
    gate = judge(
        [bench(), llmaj()],
        {
            "mmlu/all/acc": {"min": 0.45, "min_delta": 0.05},  # 0.47, +0.06
            "mmlu/*/acc": {"max": 0.6},  # all 0.47, algebra 0.33, anatomy 0.61 -> one fails
            "Correctness": 0.8,  # short form: every benchmark's overall Correctness (0.81)
            "llm_as_judge/Helpfulness": {"min_delta": -0.05, "side": "base", "min": 0.7},  # -0.02; base 0.7
        },
    )
    table = [(c["address"], c["side"], c["bound"], c["passed"]) for c in gate["checks"]]
    assert table == [
        ("mmlu/all/acc", "tuned", "min", True),
        ("mmlu/all/acc", "delta", "min_delta", True),
        ("mmlu/all/acc", "tuned", "max", True),
        ("mmlu/mmlu:abstract_algebra/acc", "tuned", "max", True),
        ("mmlu/mmlu:anatomy/acc", "tuned", "max", False),
        ("llm_as_judge/all/Correctness", "tuned", "min", True),
        ("llm_as_judge/all/Helpfulness", "base", "min", True),
        ("llm_as_judge/all/Helpfulness", "delta", "min_delta", True),
    ]
    assert gate["passed"] is False
    assert gate["checks"][1]["value"] == pytest.approx(0.06) and gate["checks"][1]["threshold"] == 0.05
    assert [c["result_index"] for c in gate["checks"]][-1] == 1
    assert json.loads(json.dumps(gate)) == gate


def test_all_checks_passing_passes_and_a_delta_below_its_minimum_fails() -> None:
    assert judge(bench(), {"acc": {"min": 0.4, "min_delta": 0.0}})["passed"] is True
    failing = judge(bench(), {"mmlu/all/acc": {"min_delta": 0.1}})
    assert failing["passed"] is False and failing["checks"][0]["value"] == pytest.approx(0.06)


def test_a_missing_side_fails_its_check() -> None:
    gate = judge(tuned_only(), {"acc": {"min": 0.4, "min_delta": 0.0}})
    assert [(c["bound"], c["value"], c["passed"]) for c in gate["checks"]] == [
        ("min", 0.47, True),
        ("min_delta", None, False),
    ]
    assert "missing" in format_checks(gate)


def test_an_unknown_metric_is_named_with_the_available_ones() -> None:
    with pytest.raises(ValueError) as error:
        judge(bench(), {"mmlu/all/f1": 0.5})
    assert str(error.value) == (
        "thresholds: 'mmlu/all/f1' matches no metric of the evaluation results; available: "
        "mmlu/all/acc, mmlu/mmlu:abstract_algebra/acc, mmlu/mmlu:anatomy/acc"
    )
    with pytest.raises(ValueError, match="'bbh/\\*/acc' matches no metric"):
        judge(bench(), {"bbh/*/acc": 0.5})


@pytest.mark.parametrize(
    ("thresholds", "error", "message"),
    [
        ({"acc": "0.5"}, TypeError, "thresholds\\['acc'\\].min: expected a number, got str '0.5'"),
        ({"acc": {"min": True}}, TypeError, "min: expected a number, got bool"),
        ({"acc": {"minimum": 0.5}}, ValueError, "unknown key\\(s\\) \\['minimum'\\]; accepted: min, max"),
        ({"acc": {"side": "base"}}, ValueError, "no bound; give at least one of min, max, min_delta"),
        ({"acc": {"min": 0.1, "side": "custom"}}, ValueError, "side: 'custom' is not one of tuned, base"),
        ({"acc": {"min": 0.9, "max": 0.1}}, ValueError, "min 0.9 is above max 0.1"),
        ({"mmlu//acc": 0.1}, ValueError, "address 'mmlu//acc' is not 'metric'"),
        ({}, TypeError, "expected a non-empty dict"),
        ("[1, 2", ValueError, "not a JSON object"),
    ],
)
def test_malformed_thresholds_are_rejected_clearly(thresholds: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        parse_thresholds(thresholds)


def test_results_that_are_not_evaluation_results_are_rejected() -> None:
    with pytest.raises(ValueError, match="results\\[1\\]: not an evaluation result \\(no 'metrics' list\\)"):
        judge([bench(), {"job_name": "x"}], {"acc": 0.1})
    with pytest.raises(TypeError, match="expected evaluation results"):
        judge([bench(), 3], {"acc": 0.1})
    assert judge([[bench()], [llmaj()]], {"Correctness": 0.1})["passed"], "mapped outputs are flattened"


def test_the_table_lists_every_check_with_value_threshold_and_verdict() -> None:
    text = format_checks(judge(bench(), {"mmlu/all/acc": {"min": 0.5, "min_delta": 0.0}}))
    lines = text.splitlines()
    assert lines[0] == "Evaluation gate FAILED: 1 of 2 checks passed"
    assert lines[1].split() == ["metric", "side", "rule", "value", "threshold", "result"]
    assert lines[2].split() == ["mmlu/all/acc", "tuned", ">=", "min", "0.4700", "0.5000", "FAIL"]
    assert lines[3].split() == ["mmlu/all/acc", "delta", ">=", "min_delta", "+0.0600", "+0.0000", "PASS"]


# -- the operators -----------------------------------------------------------------------------------


@dataclass
class GateTI:
    task: Any
    map_index: int = -1
    xcoms: dict[str, Any] = field(default_factory=dict)

    def xcom_push(self, key: str, value: Any, **kwargs: Any) -> None:
        self.xcoms[key] = json.loads(json.dumps(value))


def _dag_with(gate_factory: Any) -> tuple[Any, DAG]:
    with DAG("gate_test", schedule=None, start_date=datetime(2026, 1, 1)) as dag:
        gate = gate_factory()
        approve, deploy, notify = (EmptyOperator(task_id=t) for t in ("approve", "deploy", "notify"))
        gate >> [approve, notify]
        approve >> deploy
    return gate, dag


def test_gate_passes_and_returns_the_checks(capsys: pytest.CaptureFixture[str]) -> None:
    gate, _ = _dag_with(lambda: EvaluationGateOperator(task_id="gate", results=[bench()], thresholds={"acc": 0.4}))
    ti = GateTI(task=gate)
    out = gate.execute({"ti": ti})  # type: ignore[arg-type]
    assert out["passed"] is True and ti.xcoms["return_value"] == out
    assert format_checks(out) in capsys.readouterr().out, "the table is in the task log"


def test_gate_fails_the_task_naming_the_failed_checks_and_keeps_the_verdict() -> None:
    gate, _ = _dag_with(
        lambda: EvaluationGateOperator(task_id="gate", results=bench(), thresholds={"mmlu/*/acc": {"min": 0.5}})
    )
    ti = GateTI(task=gate)
    with pytest.raises(AirflowFailException) as error:
        gate.execute({"ti": ti})  # type: ignore[arg-type]
    assert str(error.value) == (
        "Evaluation gate failed: mmlu/all/acc tuned min, mmlu/mmlu:abstract_algebra/acc tuned min"
    )
    assert ti.xcoms["return_value"]["passed"] is False


def test_gate_in_skip_mode_skips_everything_downstream() -> None:
    gate, _ = _dag_with(
        lambda: EvaluationGateOperator(
            task_id="gate", results=bench(), thresholds={"acc": {"min_delta": 0.5}}, on_failure="skip"
        )
    )
    with pytest.raises(DownstreamTasksSkipped) as skipped:
        gate.execute({"ti": GateTI(task=gate)})  # type: ignore[arg-type]
    assert sorted(skipped.value.tasks) == ["approve", "deploy", "notify"]


def test_branch_follows_pass_or_fail_task_ids() -> None:
    def factory(thresholds: dict[str, Any]) -> Any:
        return lambda: EvaluationGateBranchOperator(
            task_id="gate", results=[bench(), llmaj()], thresholds=thresholds,
            pass_task_ids="approve", fail_task_ids=["notify"],
        )

    gate, _ = _dag_with(factory({"acc": 0.4, "Correctness": {"min_delta": 0.1}}))
    with pytest.raises(DownstreamTasksSkipped) as passed:
        gate.execute({"ti": GateTI(task=gate)})  # type: ignore[arg-type]
    assert [task for task, _ in passed.value.tasks] == ["notify"]

    gate, _ = _dag_with(factory({"Helpfulness": {"min_delta": 0.0}}))
    ti = GateTI(task=gate)
    with pytest.raises(DownstreamTasksSkipped) as failed:
        gate.execute({"ti": ti})  # type: ignore[arg-type]
    assert [task for task, _ in failed.value.tasks] == ["approve"]
    assert ti.xcoms["return_value"]["passed"] is False


def test_bad_arguments_fail_when_the_dag_is_parsed() -> None:
    with pytest.raises(ValueError, match="on_failure: 'branch' is not one of fail, skip"):
        EvaluationGateOperator(task_id="g", results=[], thresholds={"acc": 0.1}, on_failure="branch")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="thresholds\\['acc'\\].min: expected a number"):
        EvaluationGateOperator(task_id="g", results=[], thresholds={"acc": "high"})
    with pytest.raises(TypeError, match="pass_task_ids: expected a task id"):
        EvaluationGateBranchOperator(task_id="g", results=[], thresholds={"acc": 0.1}, pass_task_ids=[])
    # templated thresholds are checked when the task runs
    gate = EvaluationGateOperator(task_id="g", results=bench(), thresholds='{"acc": {"min": 0.4}}')
    assert gate.execute({"ti": GateTI(task=gate)})["passed"] is True  # type: ignore[arg-type]

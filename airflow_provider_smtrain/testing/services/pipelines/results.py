"""
What an evaluation step writes to S3 when it succeeds, in the layouts the SDK's result readers use
(``sagemaker/train/common_utils/show_results_utils.py``). Server process only.

``<out>`` is the step's ``OutputDataConfig.S3OutputPath`` (no trailing slash), ``<job>`` its job name.

* Benchmark / custom scorer (``EvaluateBaseModel``, ``EvaluateCustomModel``):
  ``<out>/<job>/output/output/<task>/eval_results/results_<YYYY-MM-DDTHH-MM-SS>.json`` with
  ``{"results": {"all": {m: v, m_stderr: s}, "<subtask>": {...}}, "config_general": {...}}``; a custom
  scorer (task ``gen_qa``) has no ``all`` but one key ``custom|gen_qa_gen_qa|0`` (the SDK reads the first
  non-empty entry then).
* LLM-as-judge inference (``Evaluate*InferenceModel``):
  ``<out>/<job>/output/output/<BaseInference|CustomInference>/eval_results/inference_output.jsonl``.
* LLM-as-judge metrics (``Evaluate*ModelMetrics``): aggregate
  ``<out>/<job>/output/output/<bedrock job>/bedrock_llm_judge_results.json`` =
  ``{"results": {m: {"score", "std_deviation", "total_evaluations"}}, ...}`` and per example
  ``<out>/<bedrock job>/<judge>/<bedrock job>_output.jsonl`` (``automatedEvaluationResult.scores``).
* MultiTurnRL (Job steps): ``<out>/<job>/output/output/mtrl/eval_results/results_<ts>.json``, the benchmark
  shape with ``all`` only.

Metric values: the execution's rule (``metrics`` for the custom/fine-tuned model, ``base_metrics`` for the
base model; a base-only evaluation uses ``base_metrics``, else ``metrics``), otherwise deterministic
defaults in which the tuned model beats the base model.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import UTC, datetime
from typing import Any

from airflow_provider_smtrain.testing import moto_support
from airflow_provider_smtrain.testing.services.pipelines.model import ExecutionSim, StepSim

log = logging.getLogger(__name__)

EXAMPLES = 5
DEFAULT_LLMAJ_METRICS = ("Correctness", "Helpfulness")
GEN_QA_METRICS = ("exact_match", "f1_score")
MTRL_METRICS = ("success_rate", "pass_at_1", "mean_reward")


def side(step: StepSim) -> str:
    """``base`` or ``tuned``: which model a step evaluates."""
    return "base" if "Base" in step.spec.name else "tuned"


def metric_values(execution: ExecutionSim, step: StepSim, names: list[str], salt: str) -> dict[str, float]:
    """
    The values a step reports for ``names`` (rule values first; ``<m>_stderr`` kept when a rule gives them).

    :param execution: The execution (its rule metrics).
    :param step: The step.
    :param names: Metric names when no rule gives any.
    :param salt: What makes the defaults differ (task, subtask).
    """
    has_tuned = any(side(s) == "tuned" for s in execution.steps.values()) or any(
        "Custom" in spec.name or "FineTuned" in spec.name for spec in execution.definition.steps
    )
    if side(step) == "base":
        rule = execution.base_metrics if execution.base_metrics is not None or has_tuned else execution.metrics
    else:
        rule = execution.metrics
    if rule:
        return {k: float(v) for k, v in rule.items()}
    out: dict[str, float] = {}
    for name in names:
        base = 0.45 + 0.3 * _unit(f"{name}|{salt}")
        value = base if side(step) == "base" else base + 0.05 + 0.03 * _unit(f"tuned|{name}|{salt}")
        out[name] = round(min(value, 0.99), 4)
    return out


def with_stderr(values: dict[str, float], salt: str) -> dict[str, float]:
    """``values`` plus ``<m>_stderr`` for every metric that has none."""
    out = dict(values)
    for name in values:
        if not name.endswith("_stderr") and f"{name}_stderr" not in values:
            out[f"{name}_stderr"] = round(0.005 + 0.025 * _unit(f"stderr|{name}|{salt}"), 4)
    return out


def write_step_outputs(execution: ExecutionSim, step: StepSim, at: float) -> None:
    """
    Write what a succeeded step leaves in S3 (once). Best effort: a missing bucket writes nothing.

    :param execution: The execution.
    :param step: The step, ``Succeeded``.
    :param at: Its end time.
    """
    if step.results_written or step.job_name is None:
        return
    step.results_written = True
    name = step.spec.name
    try:
        if step.job_kind == "agent_rft":
            _write_mtrl(execution, step, at)
        elif name.endswith("InferenceModel"):
            _write_inference(step, at)
        elif name.endswith("ModelMetrics"):
            _write_llmaj(execution, step, at)
        elif name in ("EvaluateBaseModel", "EvaluateCustomModel"):
            _write_benchmark(execution, step, at)
    except Exception:
        log.exception("could not write the results of step %s of %s", name, execution.arn)


def output_root(step: StepSim) -> str:
    """The step's ``OutputDataConfig.S3OutputPath`` without a trailing slash."""
    args = step.arguments
    if step.job_kind == "agent_rft":
        document = args.get("JobConfigDocument")
        args = json.loads(document) if isinstance(document, str) else (document or {})
    return str((args.get("OutputDataConfig") or {}).get("S3OutputPath") or "").rstrip("/")


def _hyperparameters(step: StepSim) -> dict[str, Any]:
    return dict(step.arguments.get("HyperParameters") or {})


def _stamp(at: float) -> str:
    return datetime.fromtimestamp(at, tz=UTC).strftime("%Y-%m-%dT%H-%M-%S")


def _put_json(uri: str, document: Any) -> None:
    moto_support.s3_put(uri, json.dumps(document, indent=2).encode())


def _write_benchmark(execution: ExecutionSim, step: StepSim, at: float) -> None:
    params = _hyperparameters(step)
    task = str(params.get("task") or "benchmark")
    metric = str(params.get("evaluation_metric") or params.get("metric") or "accuracy")
    names = list(GEN_QA_METRICS) if task == "gen_qa" or metric == "all" else [metric]
    overall = metric_values(execution, step, names, task)
    results: dict[str, dict[str, float]] = {}
    if task == "gen_qa":
        results["custom|gen_qa_gen_qa|0"] = with_stderr(overall, task)
    else:
        results["all"] = with_stderr(overall, task)
        for subtask in [s for s in str(params.get("subtask") or "").split(",") if s]:
            results[subtask] = with_stderr(overall, f"{task}|{subtask}")
    document = {
        "config_general": _config(execution, step, at, task),
        "results": results,
        "versions": {key: 0 for key in results},
    }
    root = f"{output_root(step)}/{step.job_name}/output/output/{task}/eval_results"
    _put_json(f"{root}/results_{_stamp(at)}.json", document)


def _config(execution: ExecutionSim, step: StepSim, at: float, task: str) -> dict[str, Any]:
    serverless = step.arguments.get("ServerlessJobConfig") or {}
    return {
        "model_name": serverless.get("BaseModelArn"),
        "source_model_package_arn": (step.arguments.get("ModelPackageConfig") or {}).get("SourceModelPackageArn"),
        "task": task,
        "job_name": step.job_name,
        "pipeline_execution_arn": execution.arn,
        "start_time": datetime.fromtimestamp(step.start, tz=UTC).isoformat(),
        "end_time": datetime.fromtimestamp(at, tz=UTC).isoformat(),
    }


def _write_inference(step: StepSim, at: float) -> None:
    label = str(_hyperparameters(step).get("name") or ("BaseInference" if side(step) == "base" else "CustomInference"))
    lines = [
        json.dumps({"prompt": prompt, "response": f"Simulated answer {i + 1} ({label})"})
        for i, prompt in enumerate(_prompts())
    ]
    root = f"{output_root(step)}/{step.job_name}/output/output/{label}/eval_results"
    moto_support.s3_put(f"{root}/inference_output.jsonl", ("\n".join(lines) + "\n").encode())


def bedrock_job_name(execution: ExecutionSim, step: StepSim) -> str:
    """The Bedrock evaluation job a metrics step runs (distinct for base and custom)."""
    return f"{'base' if side(step) == 'base' else 'custom'}-llmaj-{execution.execution_id}"


def _write_llmaj(execution: ExecutionSim, step: StepSim, at: float) -> None:
    params = _hyperparameters(step)
    try:
        requested = json.loads(str(params.get("llmaj_metrics") or "[]"))
    except ValueError:
        requested = []
    names = [str(m) for m in requested if m] or list(DEFAULT_LLMAJ_METRICS)
    scores = metric_values(execution, step, names, "llmaj")
    judge = str(params.get("judge_model_id") or "judge")
    bedrock = bedrock_job_name(execution, step)
    per_metric = {m: _spread(v) for m, v in scores.items() if not m.endswith("_stderr")}
    aggregate = {
        "job_name": bedrock,
        "judge_model_id": judge,
        "results": {
            m: {
                "score": scores[m],
                "std_deviation": round(_std(values), 4),
                "total_evaluations": len(values),
            }
            for m, values in per_metric.items()
        },
    }
    root = output_root(step)
    _put_json(f"{root}/{step.job_name}/output/output/{bedrock}/bedrock_llm_judge_results.json", aggregate)
    examples = []
    for index, prompt in enumerate(_prompts()):
        examples.append(
            json.dumps(
                {
                    "inputRecord": {"prompt": str([{"role": "user", "content": prompt}])},
                    "modelResponses": [{"response": str([f"Simulated answer {index + 1}"]), "modelIdentifier": bedrock}],
                    "automatedEvaluationResult": {
                        "scores": [
                            {
                                "metricName": m,
                                "result": values[index],
                                "evaluatorDetails": [{"modelIdentifier": judge, "explanation": f"{m}: simulated judgement."}],
                            }
                            for m, values in per_metric.items()
                        ]
                    },
                }
            )
        )
    judge_folder = judge.replace(":", "-").replace("/", "-")
    uri = f"{root}/{bedrock}/{judge_folder}/{bedrock}_output.jsonl"
    moto_support.s3_put(uri, ("\n".join(examples) + "\n").encode())


def _write_mtrl(execution: ExecutionSim, step: StepSim, at: float) -> None:
    values = metric_values(execution, step, list(MTRL_METRICS), "mtrl")
    document = {"config_general": _config(execution, step, at, "mtrl"), "results": {"all": with_stderr(values, "mtrl")}}
    root = f"{output_root(step)}/{step.job_name}/output/output/mtrl/eval_results"
    _put_json(f"{root}/results_{_stamp(at)}.json", document)


def _spread(mean: float) -> list[float]:
    """:data:`EXAMPLES` per-example scores in [0, 1] whose mean is ``mean``."""
    room = min(mean, 1.0 - mean, 0.1)
    offsets = [-1.0, -0.5, 0.0, 0.5, 1.0][:EXAMPLES]
    return [round(mean + room * o, 6) for o in offsets]


def _std(values: list[float]) -> float:
    mean = sum(values) / len(values)
    return float((sum((v - mean) ** 2 for v in values) / len(values)) ** 0.5)


def _prompts() -> list[str]:
    return [f"Simulated evaluation prompt {i + 1}" for i in range(EXAMPLES)]


def _unit(text: str) -> float:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") / 2**64

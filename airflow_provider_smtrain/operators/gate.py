"""Quality gates: judge evaluation results against thresholds, then fail, short-circuit or branch.

No AWS call: a gate reads the evaluation results its upstream evaluator tasks returned (XCom). The rules
(addresses, globs, ``min``/``max``/``min_delta``/``max_delta``, ``side``) are those of
:mod:`airflow_provider_smtrain.jobs.quality_gate`; the thresholds are checked when the DAG is parsed
(when given as a dict) and again when the task runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from airflow.sdk import BaseOperator
from airflow.sdk.bases.skipmixin import SkipMixin
from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_smtrain.jobs.quality_gate import format_checks, judge, parse_thresholds

if TYPE_CHECKING:
    from airflow.sdk import Context

__all__ = ["EvaluationGateBranchOperator", "EvaluationGateOperator"]

OnFailure = Literal["fail", "skip"]
_ON_FAILURE = ("fail", "skip")


def _task_ids(name: str, value: str | Iterable[str]) -> list[str]:
    ids = [value] if isinstance(value, str) else list(value)
    if not ids or not all(isinstance(item, str) and item for item in ids):
        raise TypeError(f"{name}: expected a task id or a non-empty list of task ids, got {value!r}")
    return ids


class _GateBase(BaseOperator, SkipMixin):
    """Judging and logging shared by the gate operators."""

    template_fields: Sequence[str] = ("results", "thresholds")
    template_fields_renderers: ClassVar[dict[str, str]] = {"thresholds": "json"}
    ui_color = "#f4d48a"

    def __init__(self, *, results: Any, thresholds: Mapping[str, Any] | str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(thresholds, Mapping):
            parse_thresholds(thresholds)  # malformed thresholds fail when the DAG is parsed
        self.results = results
        self.thresholds = thresholds

    def _judge(self, context: Context) -> dict[str, Any]:
        gate = judge(self.results, self.thresholds)
        self.log.info("%s", format_checks(gate))
        # the gate's verdict is in XCom even when the task then fails, skips or branches
        context["ti"].xcom_push(key="return_value", value=gate)
        return gate


class EvaluationGateOperator(_GateBase):
    """
    Judge evaluation results against thresholds; fail the task or skip everything downstream when they miss.

    Logs a table of every check (metric, side, rule, value, threshold, PASS/FAIL) and returns
    ``{"passed": bool, "checks": [...]}`` (also in XCom when the gate fails or skips).

    .. code-block:: python

        gate = EvaluationGateOperator(
            task_id="gate",
            results=[benchmark.output, judge.output],
            thresholds={
                "mmlu/all/acc": {"min": 0.45, "min_delta": 0.0},
                "llm_as_judge/all/Correctness": 0.7,
                "mmlu/*/acc": {"min_delta": -0.05},
            },
        )

    :param results: an evaluation result (``docs/outputs.md``, Evaluation result) or a list of them,
        typically evaluator tasks' ``.output``. Templated.
    :param thresholds: ``{address: rule}``; an address is ``benchmark/subtask/metric``
        (``all`` for the overall metrics), ``benchmark/metric`` or ``metric``, with ``*`` globs; a rule is
        a number (the tuned model's minimum) or a dict of ``min``, ``max`` (bounds of ``side``: ``tuned``,
        the default, or ``base``), ``min_delta``, ``max_delta`` (bounds of tuned minus base). An address
        that matches no metric fails the task naming the available ones. Templated (a JSON string is read).
    :param on_failure: ``"fail"`` (default): the task fails without retries; ``"skip"``: the task
        succeeds and every task downstream of it is skipped (like ``ShortCircuitOperator``).
    """

    def __init__(
        self,
        *,
        results: Any,
        thresholds: Mapping[str, Any] | str,
        on_failure: OnFailure = "fail",
        **kwargs: Any,
    ) -> None:
        super().__init__(results=results, thresholds=thresholds, **kwargs)
        if on_failure not in _ON_FAILURE:
            raise ValueError(f"on_failure: {on_failure!r} is not one of {', '.join(_ON_FAILURE)}")
        self.on_failure = on_failure

    def execute(self, context: Context) -> dict[str, Any]:
        gate = self._judge(context)
        if gate["passed"]:
            return gate
        failed = [f"{c['address']} {c['side']} {c['bound']}" for c in gate["checks"] if not c["passed"]]
        if self.on_failure == "fail":
            raise AirflowFailException(f"Evaluation gate failed: {', '.join(failed)}")
        self.log.info("Evaluation gate failed (%s): skipping every downstream task", ", ".join(failed))
        downstream = list(context["ti"].task.get_flat_relatives(upstream=False))  # type: ignore[union-attr]
        self.skip(ti=context["ti"], tasks=downstream)
        return gate


class EvaluationGateBranchOperator(_GateBase):
    """
    Judge evaluation results against thresholds and follow ``pass_task_ids`` or ``fail_task_ids``.

    The tasks directly downstream that are not followed are skipped (like a branch operator). Logs the
    table of checks; the gate's ``{"passed", "checks"}`` is pushed to XCom (``return_value``).

    :param results: an evaluation result or a list of them (see :class:`EvaluationGateOperator`). Templated.
    :param thresholds: the thresholds (see :class:`EvaluationGateOperator`). Templated.
    :param pass_task_ids: task id(s) to follow when every check passes.
    :param fail_task_ids: task id(s) to follow when a check fails (``None``: skip every direct downstream task).
    """

    def __init__(
        self,
        *,
        results: Any,
        thresholds: Mapping[str, Any] | str,
        pass_task_ids: str | Iterable[str],
        fail_task_ids: str | Iterable[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(results=results, thresholds=thresholds, **kwargs)
        self.pass_task_ids = _task_ids("pass_task_ids", pass_task_ids)
        self.fail_task_ids = None if fail_task_ids is None else _task_ids("fail_task_ids", fail_task_ids)

    def execute(self, context: Context) -> dict[str, Any]:
        gate = self._judge(context)
        follow = self.pass_task_ids if gate["passed"] else self.fail_task_ids
        self.log.info("Following %s", follow or "no branch")
        self.skip_all_except(context["ti"], follow)
        return gate

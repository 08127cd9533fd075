"""The evaluator operators: ``BenchMarkEvaluator``, ``CustomScorerEvaluator``, ``LLMAsJudgeEvaluator`` and
``MultiTurnRLEvaluator`` (serverless pipeline path) on the shared job lifecycle (see ``docs/evaluation.md``).

Each operator only adds its own arguments to those every evaluator takes; the arguments and the lifecycle
(one pipeline execution per task instance generation in its own pipeline, idempotent start, re-attach,
stop on kill/clear/timeout, result with the metrics read from S3) are
:class:`~airflow_provider_smtrain.operators.evaluation_base.EvaluatorOperator`'s.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_smtrain.operators.evaluation_base import EvaluatorOperator
from airflow_provider_smtrain.operators.judge_placeholders import keep_placeholders

if TYPE_CHECKING:
    import jinja2
    from airflow.sdk import Context

    from airflow_provider_smtrain.specs import (
        BenchMarkEvaluatorSpec,
        CustomScorerEvaluatorSpec,
        LLMAsJudgeEvaluatorSpec,
        MultiTurnRLEvaluatorSpec,
    )

__all__ = [
    "BenchMarkEvaluatorOperator",
    "CustomScorerEvaluatorOperator",
    "LLMAsJudgeEvaluatorOperator",
    "MultiTurnRLEvaluatorOperator",
]


class BenchMarkEvaluatorOperator(EvaluatorOperator):
    """
    Evaluate a model on a standard benchmark with the SDK's ``BenchMarkEvaluator`` (serverless pipeline).

    Takes the arguments of :class:`~airflow_provider_smtrain.operators.evaluation_base.EvaluatorOperator` and:

    :param benchmark: ``mmlu``, ``mmlu_pro``, ``bbh``, ``gpqa``, ``math``, ``strong_reject``, ``ifeval``,
        ``mmmu`` or ``llm_judge``.
    :param subtasks: a subtask, a list of subtasks, or ``ALL``.
    :param hyperparameters: inference overrides (``temperature``, ``max_new_tokens``, ``top_p``...),
        checked against the model's evaluation recipe before anything is created.
    """

    spec_name = "BenchMarkEvaluatorSpec"
    template_fields: Sequence[str] = (
        *EvaluatorOperator.template_fields,
        "benchmark",
        "subtasks",
        "hyperparameters",
    )
    template_fields_renderers: ClassVar[dict[str, str]] = {
        **EvaluatorOperator.template_fields_renderers,
        **dict.fromkeys(("benchmark", "subtasks", "hyperparameters"), "json"),
    }

    def __init__(
        self, *, benchmark: str, subtasks: Any = None, hyperparameters: Any = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.benchmark = benchmark
        self.subtasks = subtasks
        self.hyperparameters = hyperparameters

    def build_spec(self) -> BenchMarkEvaluatorSpec:
        """Validate the rendered arguments into ``BenchMarkEvaluatorSpec``."""
        spec: BenchMarkEvaluatorSpec = super().build_spec()  # type: ignore[assignment]
        return spec


class CustomScorerEvaluatorOperator(EvaluatorOperator):
    """
    Evaluate a model on a dataset with a built-in metric or a registered evaluator (``CustomScorerEvaluator``).

    Takes the arguments of :class:`~airflow_provider_smtrain.operators.evaluation_base.EvaluatorOperator` and:

    :param evaluator: ``prime_math``, ``prime_code``, an AI Registry evaluator ARN or name, or a
        ``CreateEvaluatorOperator`` task's output.
    :param dataset: S3 URI, AI Registry dataset ARN or name, or a ``CreateDataSetOperator`` output.
    :param hyperparameters: inference overrides (``temperature``, ``max_new_tokens``, ``top_p``...),
        checked against the model's evaluation recipe before anything is created.
    """

    spec_name = "CustomScorerEvaluatorSpec"
    template_fields: Sequence[str] = (
        *EvaluatorOperator.template_fields,
        "evaluator",
        "dataset",
        "hyperparameters",
    )
    template_fields_renderers: ClassVar[dict[str, str]] = {
        **EvaluatorOperator.template_fields_renderers,
        **dict.fromkeys(("evaluator", "dataset", "hyperparameters"), "json"),
    }

    def __init__(self, *, evaluator: Any, dataset: Any, hyperparameters: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.evaluator = evaluator
        self.dataset = dataset
        self.hyperparameters = hyperparameters

    def build_spec(self) -> CustomScorerEvaluatorSpec:
        """Validate the rendered arguments into ``CustomScorerEvaluatorSpec``."""
        spec: CustomScorerEvaluatorSpec = super().build_spec()  # type: ignore[assignment]
        return spec


class LLMAsJudgeEvaluatorOperator(EvaluatorOperator):
    """
    Evaluate a model's answers with a judge model on Amazon Bedrock (``LLMAsJudgeEvaluator``).

    Takes the arguments of :class:`~airflow_provider_smtrain.operators.evaluation_base.EvaluatorOperator` and:

    :param evaluator_model: the judge's Amazon Bedrock model id.
    :param dataset: S3 URI, AI Registry dataset ARN or name, or a ``CreateDataSetOperator`` output.
    :param builtin_metrics: judge metrics (``Correctness``, ``Helpfulness``...; a ``Builtin.`` prefix is allowed).
    :param custom_metrics: custom judge metrics (Amazon Bedrock's custom metric definitions): a JSON string,
        or a list/dict. Templated like the other arguments (``{{ ds }}``, XComs...), except Bedrock's own
        placeholders ``{{prompt}}``, ``{{prediction}}`` and ``{{ground_truth}}`` (any spacing inside the
        braces), which pass through unchanged: no ``{% raw %}`` needed (text already in ``{% raw %}`` is
        kept as written).
    """

    spec_name = "LLMAsJudgeEvaluatorSpec"
    template_fields: Sequence[str] = (
        *EvaluatorOperator.template_fields,
        "evaluator_model",
        "dataset",
        "builtin_metrics",
        "custom_metrics",
    )
    template_fields_renderers: ClassVar[dict[str, str]] = {
        **EvaluatorOperator.template_fields_renderers,
        **dict.fromkeys(("evaluator_model", "dataset", "builtin_metrics", "custom_metrics"), "json"),
    }

    def __init__(
        self,
        *,
        evaluator_model: str,
        dataset: Any,
        builtin_metrics: Any = None,
        custom_metrics: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.evaluator_model = evaluator_model
        self.dataset = dataset
        self.builtin_metrics = builtin_metrics
        self.custom_metrics = custom_metrics

    def _do_render_template_fields(
        self,
        parent: Any,
        template_fields: Iterable[str],
        context: Context,
        jinja_env: jinja2.Environment,
        seen_oids: set[int],
    ) -> None:
        """
        Render the template fields, Bedrock's placeholders in ``custom_metrics`` kept as written.

        Airflow renders an operator's fields here, a mapped task's too (``MappedOperator`` calls it on the
        unmapped operator), so overriding :meth:`render_template_fields` alone would miss mapped tasks.
        A value Airflow does not render (resolved from an XCom: in ``seen_oids``) is left alone.

        :param parent: the object whose fields are rendered.
        :param template_fields: the fields.
        :param context: the template context.
        :param jinja_env: the Jinja environment.
        :param seen_oids: ids of the values not to render again.
        """
        if (
            parent is self
            and "custom_metrics" in template_fields
            and id(self.custom_metrics) not in seen_oids
        ):
            self.custom_metrics = keep_placeholders(self.custom_metrics, jinja_env, self.template_ext)
        super()._do_render_template_fields(parent, template_fields, context, jinja_env, seen_oids)

    def build_spec(self) -> LLMAsJudgeEvaluatorSpec:
        """Validate the rendered arguments into ``LLMAsJudgeEvaluatorSpec``."""
        spec: LLMAsJudgeEvaluatorSpec = super().build_spec()  # type: ignore[assignment]
        return spec


class MultiTurnRLEvaluatorOperator(EvaluatorOperator):
    """
    Evaluate an agent model in its environment with ``MultiTurnRLEvaluator`` (serverless pipeline path).

    Takes the arguments of :class:`~airflow_provider_smtrain.operators.evaluation_base.EvaluatorOperator` and:

    :param dataset: prompt dataset: S3 URI, AI Registry dataset ARN or name.
    :param agent_config: the agent environment: a Bedrock AgentCore runtime ARN or a Lambda ARN.
    :param agent_qualifier: Bedrock AgentCore endpoint qualifier.
    :param accept_eula: accept the base model's license (default True, as the SDK).
    :param stopping_condition: largest job duration in seconds (at most 72 hours).
    """

    spec_name = "MultiTurnRLEvaluatorSpec"
    template_fields: Sequence[str] = (
        *EvaluatorOperator.template_fields,
        "dataset",
        "agent_config",
        "agent_qualifier",
        "accept_eula",
        "stopping_condition",
    )
    template_fields_renderers: ClassVar[dict[str, str]] = {
        **EvaluatorOperator.template_fields_renderers,
        **dict.fromkeys(
            ("dataset", "agent_config", "agent_qualifier", "accept_eula", "stopping_condition"), "json"
        ),
    }

    def __init__(
        self,
        *,
        dataset: Any,
        agent_config: str,
        agent_qualifier: str | None = None,
        accept_eula: bool | str | None = None,
        stopping_condition: int | str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.dataset = dataset
        self.agent_config = agent_config
        self.agent_qualifier = agent_qualifier
        self.accept_eula = accept_eula
        self.stopping_condition = stopping_condition

    def build_spec(self) -> MultiTurnRLEvaluatorSpec:
        """Validate the rendered arguments into ``MultiTurnRLEvaluatorSpec``."""
        spec: MultiTurnRLEvaluatorSpec = super().build_spec()  # type: ignore[assignment]
        return spec

"""``LLMAsJudgeEvaluatorOperator.custom_metrics`` is templated, yet Amazon Bedrock's own placeholders
(``{{prompt}}``, ``{{prediction}}``, ``{{ground_truth}}``) pass through unchanged without ``{% raw %}``.

Every test renders as a worker does: the task runner's ``RuntimeTaskInstance`` of a scheduled run builds
the real template context (``ds``, ``params``, macros...) and renders the task (a mapped task is unmapped
first) in the DAG's own Jinja environment.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
import pytest
from airflow.sdk import DAG
from airflow.sdk.api.datamodels._generated import DagRun, DagRunState, DagRunType, TIRunContext
from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance

from airflow_provider_smtrain.operators.evaluation import LLMAsJudgeEvaluatorOperator

LOGICAL_DATE = datetime(2026, 3, 14, tzinfo=UTC)
DS = "2026-03-14"
JUDGE = "anthropic.claude-3-5-haiku-20241022-v1:0"
ARGUMENTS: dict[str, Any] = {
    "model": "arn:aws:sagemaker:us-east-1:123456789012:model-package/tuned/1",
    "role": "arn:aws:iam::123456789012:role/eval",
    "s3_output_path": "s3://bucket/eval/{{ ds }}",
    "evaluator_model": JUDGE,
    "dataset": "s3://bucket/eval/data.jsonl",
}
#: written the ways a user writes them: tight, spaced, across a line break
INSTRUCTIONS = (
    "Run {{ ds }} ({{ params.team }}). Is the answer short? Prompt: {{prompt}}\n"
    "Response: {{ prediction }}\nReference: {{  ground_truth }}"
)
RENDERED = (
    f"Run {DS} (search). Is the answer short? Prompt: {{{{prompt}}}}\n"
    "Response: {{ prediction }}\nReference: {{  ground_truth }}"
)


def metric(instructions: str) -> dict[str, Any]:
    """A Bedrock custom metric definition with these instructions (and a templated name)."""
    return {
        "customMetricDefinition": {
            "name": "Brevity-{{ ds_nodash }}",
            "instructions": instructions,
            "ratingScale": [{"definition": "Short", "value": {"floatValue": 1.0}}],
        }
    }


def expected_metric() -> dict[str, Any]:
    rendered = metric(RENDERED)
    rendered["customMetricDefinition"]["name"] = f"Brevity-{DS.replace('-', '')}"
    return rendered


def new_dag(**dag_kwargs: Any) -> DAG:
    return DAG(
        "judge_placeholders",
        schedule=None,
        start_date=datetime(2026, 1, 1),
        params={"team": "search"},
        **dag_kwargs,
    )


def runtime_ti(task: Any, map_index: int = -1) -> RuntimeTaskInstance:
    """The task runner's task instance of ``task`` in a scheduled run on :data:`LOGICAL_DATE`."""
    run = DagRun(
        dag_id=task.dag_id,
        run_id=f"scheduled__{LOGICAL_DATE.isoformat()}",
        logical_date=LOGICAL_DATE,
        data_interval_start=LOGICAL_DATE,
        data_interval_end=LOGICAL_DATE,
        run_after=LOGICAL_DATE,
        start_date=LOGICAL_DATE,
        end_date=None,
        run_type=DagRunType.SCHEDULED,
        state=DagRunState.RUNNING,
        conf={},
        consumed_asset_events=[],
        partition_key=None,
    )
    return RuntimeTaskInstance.model_construct(
        id=uuid.uuid4(),
        task_id=task.task_id,
        dag_id=task.dag_id,
        run_id=run.run_id,
        try_number=1,
        dag_version_id=uuid.uuid4(),
        map_index=map_index,
        task=task,
        start_date=LOGICAL_DATE,
        max_tries=0,
        _ti_context_from_server=TIRunContext(dag_run=run, max_tries=0),
    )


def render(task: Any, map_index: int = -1) -> Any:
    """
    Render ``task`` as the task runner does, in its real template context; the rendered operator (the
    unmapped one for a mapped task).
    """
    ti = runtime_ti(task, map_index)
    ti.render_templates()
    return ti.task


#: the DAG settings an Airflow user may have: Airflow 3's default (``StrictUndefined``), a lenient
#: ``Undefined``, native rendering, block trimming
DAG_SETTINGS = {
    "strict": {"template_undefined": jinja2.StrictUndefined},
    "lenient": {"template_undefined": jinja2.Undefined},
    "native": {"render_template_as_native_obj": True},
    "trimming": {"jinja_environment_kwargs": {"trim_blocks": True, "lstrip_blocks": True}},
}
#: the settings where Jinja itself renders ``{% raw %}`` blocks the same way (trimming eats the line break
#: after a user's ``{% endraw %}``, as Airflow does)
RAW_SETTINGS = {name: settings for name, settings in DAG_SETTINGS.items() if name != "trimming"}
#: the forms ``custom_metrics`` takes, and how to read the rendered value back as metric definitions
FORMS = {
    "dict": (metric, lambda rendered: rendered),
    "list": (lambda text: [metric(text)], lambda rendered: rendered[0]),
    "json_string": (lambda text: json.dumps([metric(text)]), lambda rendered: json.loads(rendered)[0]),
}


def as_metrics(rendered: Any, form: str) -> Any:
    """The rendered value as metric definitions (native rendering already turned a JSON string into a list)."""
    if form == "json_string" and not isinstance(rendered, str):
        return rendered[0]
    return FORMS[form][1](rendered)


@pytest.mark.parametrize("settings", DAG_SETTINGS.values(), ids=DAG_SETTINGS)
@pytest.mark.parametrize("form", FORMS)
def test_placeholders_pass_through_and_airflow_templates_render(form: str, settings: dict[str, Any]) -> None:
    """In every form and DAG setting, Bedrock's placeholders come out exactly as written (spacing kept) while
    ``{{ ds }}``, ``{{ ds_nodash }}`` and ``{{ params.team }}`` in the same strings render; the spec the SDK
    receives holds them."""
    with new_dag(**settings):
        op = LLMAsJudgeEvaluatorOperator(
            task_id="judge", custom_metrics=FORMS[form][0](INSTRUCTIONS), **ARGUMENTS
        )
    rendered = render(op)
    assert as_metrics(rendered.custom_metrics, form) == expected_metric()
    assert rendered.s3_output_path == f"s3://bucket/eval/{DS}"
    assert json.loads(rendered.build_spec().custom_metrics or "") in (expected_metric(), [expected_metric()])


def test_a_mapped_task_keeps_the_placeholders() -> None:
    """``.partial(custom_metrics=...).expand(...)``: Airflow renders the unmapped operator's fields."""
    with new_dag():
        mapped = LLMAsJudgeEvaluatorOperator.partial(
            task_id="judge",
            custom_metrics=[metric(INSTRUCTIONS)],
            **{k: v for k, v in ARGUMENTS.items() if k != "dataset"},
        ).expand(dataset=["s3://bucket/eval/{{ ds }}/a.jsonl", "s3://bucket/eval/b.jsonl"])
    rendered = render(mapped, map_index=0)
    assert isinstance(rendered, LLMAsJudgeEvaluatorOperator)
    assert (rendered.custom_metrics, rendered.dataset) == (
        [expected_metric()],
        f"s3://bucket/eval/{DS}/a.jsonl",
    )


def test_a_value_airflow_does_not_render_is_left_alone() -> None:
    """A mapped task's value resolved from an upstream XCom comes in ``seen_oids`` (``MappedOperator`` renders
    the unmapped operator's fields so): Airflow never renders it, so it stays the very object, ``{{ foo }}``
    and all, instead of being rewritten and rendered."""
    with new_dag():
        op = LLMAsJudgeEvaluatorOperator(
            task_id="judge", custom_metrics=[metric("{{prompt}} {{ foo }}")], **ARGUMENTS
        )
    from_xcom = op.custom_metrics
    context = runtime_ti(op).get_template_context()
    op._do_render_template_fields(op, op.template_fields, context, op.get_template_env(), {id(from_xcom)})
    assert op.custom_metrics is from_xcom
    assert op.s3_output_path == f"s3://bucket/eval/{DS}"  # the other fields are rendered


@pytest.mark.parametrize("settings", RAW_SETTINGS.values(), ids=RAW_SETTINGS)
def test_raw_blocks_written_before_are_rendered_as_airflow_renders_them(settings: dict[str, Any]) -> None:
    """Metrics already wrapped in ``{% raw %}`` (whole, per placeholder, with whitespace control, next to a
    bare placeholder) give what Airflow gives for them: no double escaping, no ``{% raw %}`` left over."""
    wrapped = {
        "whole": "{% raw %}Prompt: {{prompt}}\nResponse: {{prediction}}{% endraw %} on {{ ds }}",
        "each": "Prompt: {% raw %}{{prompt}}{% endraw %}\nResponse: {%- raw -%} {{ prediction }} {%- endraw %}",
        "mixed": "{% raw %}{{prompt}}{% endraw %} then {{ground_truth}}{# no {% raw %} around {{prompt}} #} {{prediction}}",
    }
    expected = {
        "whole": f"Prompt: {{{{prompt}}}}\nResponse: {{{{prediction}}}} on {DS}",
        "each": "Prompt: {{prompt}}\nResponse:{{ prediction }}",
        "mixed": "{{prompt}} then {{ground_truth}} {{prediction}}",
    }
    with new_dag(**settings):
        op = LLMAsJudgeEvaluatorOperator(task_id="judge", custom_metrics=wrapped, **ARGUMENTS)
    assert render(op).custom_metrics == expected


def test_other_names_and_fields_are_still_jinja() -> None:
    """Only Bedrock's placeholder names in ``custom_metrics`` are kept: an unknown ``{{ foo }}`` there fails a
    StrictUndefined DAG (Airflow 3's default) as Airflow would, and renders empty with a lenient ``Undefined``;
    ``{{ prompt }}`` in another field is an ordinary (undefined) Jinja variable."""
    with new_dag():
        unknown = LLMAsJudgeEvaluatorOperator(
            task_id="unknown", custom_metrics=[metric("{{prompt}} {{ foo }}")], **ARGUMENTS
        )
        elsewhere = LLMAsJudgeEvaluatorOperator(
            task_id="elsewhere",
            custom_metrics=[metric("{{prompt}}")],
            **{**ARGUMENTS, "dataset": "s3://b/{{ prompt }}"},
        )
    with pytest.raises(jinja2.UndefinedError, match="'foo' is undefined"):
        render(unknown)
    with pytest.raises(jinja2.UndefinedError, match="'prompt' is undefined"):
        render(elsewhere)
    with new_dag(template_undefined=jinja2.Undefined):
        lenient = LLMAsJudgeEvaluatorOperator(
            task_id="lenient", custom_metrics="{{prompt}} [{{ foo }}]", **ARGUMENTS
        )
    assert render(lenient).custom_metrics == "{{prompt}} []"


class FileMetricsJudgeOperator(LLMAsJudgeEvaluatorOperator):
    """A subclass reading templated ``.json`` files (the provider's operators have no ``template_ext``:
    it would apply to every field, an S3 URI ending in ``.json`` included)."""

    template_ext = (".json",)


@pytest.mark.parametrize("resolved_at_parse", [False, True], ids=["path_at_render", "resolved_at_parse"])
def test_metrics_from_a_template_file(tmp_path: Path, resolved_at_parse: bool) -> None:
    """With a ``template_ext`` the metrics may come from a ``.json`` file in the DAG's search path, read when
    the DAG is parsed or when the field is rendered: its placeholders are kept and its ``{{ ds }}`` renders."""
    (tmp_path / "judge_metrics.json").write_text(json.dumps([metric(INSTRUCTIONS)]), encoding="utf-8")
    with new_dag(template_searchpath=str(tmp_path)) as dag:
        op = FileMetricsJudgeOperator(task_id="judge", custom_metrics="judge_metrics.json", **ARGUMENTS)
    if resolved_at_parse:
        dag.resolve_template_files()
        assert op.custom_metrics.startswith("[")
    assert json.loads(render(op).custom_metrics) == [expected_metric()]

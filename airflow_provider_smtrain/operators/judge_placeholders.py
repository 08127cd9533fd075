"""Amazon Bedrock's custom judge metric placeholders, kept through Airflow's rendering of ``custom_metrics``.

A Bedrock custom metric's ``instructions`` name the evaluated record with placeholders written like Jinja
expressions: ``{{prompt}}`` (the prompt), ``{{prediction}}`` (the evaluated model's answer) and
``{{ground_truth}}`` (the dataset's reference answer). ``LLMAsJudgeEvaluatorOperator.custom_metrics`` is a
template field, so Airflow would render them away (or fail with ``StrictUndefined``). Before the field is
rendered, :func:`keep_placeholders` rewrites each of them as a Jinja string expression that renders to the
placeholder exactly as written; everything else (``{{ ds }}``, XComs, ``{% raw %}`` blocks, unknown names)
is left to Jinja.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence

    import jinja2

__all__ = ["BEDROCK_PLACEHOLDERS", "keep_placeholders"]

#: The placeholders Bedrock fills in a model-as-a-judge custom metric's instructions.
BEDROCK_PLACEHOLDERS = ("prompt", "prediction", "ground_truth")


@functools.lru_cache(maxsize=8)
def _pattern(block_start: str, block_end: str, comment_start: str, comment_end: str) -> re.Pattern[str]:
    """
    A placeholder (any spacing inside the braces), or a region Jinja does not evaluate: a ``raw`` block or
    a comment (to its end, or to the end of the text when unterminated: Jinja reports that).

    :param block_start: the environment's block start (``{%``).
    :param block_end: the environment's block end (``%}``).
    :param comment_start: the environment's comment start (``{#``).
    :param comment_end: the environment's comment end (``#}``).
    """
    bs, be, cs, ce = map(re.escape, (block_start, block_end, comment_start, comment_end))
    raw = rf"{bs}[-+]?\s*raw\s*-?{be}.*?(?:{bs}[-+]?\s*endraw\s*[-+]?{be}|\Z)"
    comment = rf"{cs}.*?(?:{ce}|\Z)"
    names = "|".join(BEDROCK_PLACEHOLDERS)
    return re.compile(rf"(?P<kept>{raw}|{comment})|\{{\{{\s*(?:{names})\s*\}}\}}", re.DOTALL)


def _as_literal(match: re.Match[str]) -> str:
    if match.group("kept"):
        return match.group(0)
    return '{{ "' + match.group(0) + '" }}'  # only braces, whitespace and a name: nothing to escape


def _walk(value: Any, pattern: re.Pattern[str]) -> Any:
    if isinstance(value, str):
        return pattern.sub(_as_literal, value)
    if isinstance(value, list):
        return [_walk(item, pattern) for item in value]
    if type(value) is tuple:
        return tuple(_walk(item, pattern) for item in value)
    if isinstance(value, dict):
        return {key: _walk(item, pattern) for key, item in value.items()}
    return value


def keep_placeholders(value: Any, env: jinja2.Environment, template_ext: Sequence[str] = ()) -> Any:
    """
    ``value`` with Bedrock's placeholders in its strings (nested in lists, tuples and dict values, as
    Airflow renders them) written so that rendering it in ``env`` gives them back unchanged.

    Text inside ``{% raw %}`` blocks and comments is left as written (no double escaping). Other values
    (XComArgs, callables) are returned as they are. When the environment's variable delimiters are not
    ``{{ }}`` the placeholders are not Jinja syntax there and nothing changes.

    :param value: the field's value before rendering.
    :param env: the Jinja environment the field is rendered in.
    :param template_ext: the operator's template file extensions: a string ending with one is a template
        file, read from ``env``'s loader (as Airflow would render it) and its text rewritten.
    """
    if (env.variable_start_string, env.variable_end_string) != ("{{", "}}"):
        return value
    if isinstance(value, str) and template_ext and value.endswith(tuple(template_ext)) and env.loader:
        value = env.loader.get_source(env, value)[0]
    pattern = _pattern(
        env.block_start_string, env.block_end_string, env.comment_start_string, env.comment_end_string
    )
    return _walk(value, pattern)

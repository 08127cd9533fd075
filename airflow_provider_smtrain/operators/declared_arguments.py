"""Operator keyword arguments declared as data: one table gives the constructor's signature and its docstring.

Operators that differ only in which arguments they take (the fine-tuning trainers) list their
:class:`Argument` rows instead of each writing the same ``__init__``. :func:`keyword_init` builds an
``__init__`` whose signature (``inspect.signature``, which Airflow's ``default_args``, ``.partial()`` and
the docs read) names every argument, keyword-only, with its annotation and default, exactly as a written
one would; unknown arguments go on to the base operator, which rejects what it does not take.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Argument", "keyword_init", "params_doc"]


@dataclass(frozen=True)
class Argument:
    """
    One keyword argument of an operator.

    :param name: the argument (and attribute) name.
    :param doc: its ``:param:`` text (continuation lines indented by eight spaces).
    :param annotation: its annotation, as written in a signature.
    :param required: whether it has no default (else its default is None).
    """

    name: str
    doc: str
    annotation: str = "Any"
    required: bool = False

    def parameter(self) -> inspect.Parameter:
        """The keyword-only parameter of the signature."""
        default = inspect.Parameter.empty if self.required else None
        return inspect.Parameter(
            self.name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=self.annotation
        )


def params_doc(arguments: Sequence[Argument]) -> str:
    """
    The ``:param:`` lines of ``arguments``, in order, as docstring text.

    :param arguments: the documented arguments.
    """
    return "".join(f"\n    :param {argument.name}: {argument.doc}" for argument in arguments)


def keyword_init(
    arguments: Sequence[Argument],
    store: Callable[[Any, Mapping[str, Any]], None],
    base: type[Any],
) -> Callable[..., None]:
    """
    An ``__init__`` taking ``arguments`` (required ones first) and the base operator's ``**kwargs``.

    It binds the call to its signature (so a missing required argument or a positional one raises the
    ``TypeError`` a written ``__init__`` would), passes the other keyword arguments to the ``__init__``
    after ``base`` in the instance's MRO, then calls ``store(self, values)`` with every argument's value.

    :param arguments: the operator's own arguments.
    :param store: sets the attributes from the argument values.
    :param base: the class whose ``super()`` receives the remaining keyword arguments.
    """
    ordered = sorted(arguments, key=lambda argument: not argument.required)  # stable: table order kept
    signature = inspect.Signature(
        [
            inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD),
            *(argument.parameter() for argument in ordered),
            inspect.Parameter("kwargs", inspect.Parameter.VAR_KEYWORD, annotation="Any"),
        ],
        return_annotation="None",
    )
    names = tuple(argument.name for argument in arguments)

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        bound = signature.bind(self, *args, **kwargs)
        rest = bound.arguments.get("kwargs", {})
        super(base, self).__init__(**rest)
        store(self, {name: bound.arguments.get(name) for name in names})

    __init__.__signature__ = signature  # type: ignore[attr-defined]
    __init__.__annotations__ = {
        **{argument.name: argument.annotation for argument in arguments},
        "kwargs": "Any",
        "return": "None",
    }
    return __init__

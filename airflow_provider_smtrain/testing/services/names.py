"""SageMaker's name rules, enforced as the service does (standard library only)."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class NameRule:
    """
    Constraint on one name parameter, as in SageMaker's API reference.

    :param member: The parameter as AWS names it in validation messages (``trainingJobName``).
    :param max_length: Maximum length.
    :param pattern: Regular expression the whole name must match.
    """

    member: str
    max_length: int
    pattern: str

    def violation(self, value: str) -> str | None:
        """
        SageMaker's ValidationException message for ``value``, or ``None`` if it is valid.

        :param value: The name.
        """
        errors = []
        if len(value) > self.max_length:
            errors.append(
                f"Value '{value}' at '{self.member}' failed to satisfy constraint: "
                f"Member must have length less than or equal to {self.max_length}"
            )
        if re.fullmatch(self.pattern, value) is None:
            errors.append(
                f"Value '{value}' at '{self.member}' failed to satisfy constraint: "
                f"Member must satisfy regular expression pattern: ^{self.pattern}$"
            )
        if not errors:
            return None
        noun = "error" if len(errors) == 1 else "errors"
        return f"{len(errors)} validation {noun} detected: " + "; ".join(errors)


TRAINING_JOB_NAME = NameRule("trainingJobName", 63, r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")
TUNING_JOB_NAME = NameRule("hyperParameterTuningJobName", 32, r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}")

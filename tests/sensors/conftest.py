"""The sensors use the operators' local SageMaker fixtures."""

from tests.operators.conftest import env, store, ti  # noqa: F401

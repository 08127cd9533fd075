"""Session-wide real Airflow deployment for the integration tests (see ``AirflowStack``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from airflow_provider_smtrain.testing.airflow import AirflowStack, AirflowStackPool


@pytest.fixture(scope="session")
def airflow_stack_factory(request: pytest.FixtureRequest) -> Iterator[Callable[..., AirflowStack]]:
    """
    Return ``get(dags_folders=[...], env={...}) -> AirflowStack``: one running stack per session.

    Asking again with the same configuration returns the same running stack; a different configuration
    replaces it (only one stack runs at a time).  Everything is torn down at the end of the session; the
    temporary ``AIRFLOW_HOME`` (component and task logs) is kept when a test failed.
    """
    pool = AirflowStackPool()
    try:
        yield pool.get
    finally:
        pool.close(failed=request.session.testsfailed > 0)


from tests.integration.provider_fixtures import ctx  # noqa: E402, F401  (fixture)

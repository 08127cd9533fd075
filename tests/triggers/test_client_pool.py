"""The triggers' shared client is rebuilt while in use: rotated keys and expiring tokens reach busy triggers."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from airflow_provider_smtrain.triggers import TrainingJobTrigger
from airflow_provider_smtrain.triggers.clients import POOL, SageMakerClientPool, _Entry

CONN_ID = "smtrain_pool_rotation"
OLD_KEY = "AKIAPOOLOLDKEY000001"
NEW_KEY = "AKIAPOOLNEWKEY000002"
NO_BOTO_RETRIES = {"retries": {"max_attempts": 1, "mode": "standard"}}
#: The pool is what is tested: each trigger reads its own job, so every poll is a signed describe.
pytestmark = pytest.mark.usefixtures("describe_each_job")


def set_connection_key(sm: Any, monkeypatch: pytest.MonkeyPatch, key: str) -> None:
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", sm.airflow_connection_json(key, f"secret-{key}"))


def start_job(sm: Any, name: str) -> None:
    sm.boto3_client("sagemaker", access_key_id="AKIASETUPKEY00000001").create_training_job(
        TrainingJobName=name,
        AlgorithmSpecification={"TrainingImage": "img:latest", "TrainingInputMode": "File"},
        RoleArn="arn:aws:iam::123456789012:role/r",
        OutputDataConfig={"S3OutputPath": "s3://bucket/out"},
        ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
        StoppingCondition={"MaxRuntimeInSeconds": 600},
    )


def trigger(name: str) -> TrainingJobTrigger:
    return TrainingJobTrigger(
        job_name=name,
        aws_conn_id=CONN_ID,
        botocore_config=NO_BOTO_RETRIES,
        poll_interval=0.1,
        max_retries=2,
        retry_base_delay=0.01,
        retry_max_delay=0.05,
    )


async def _event(t: TrainingJobTrigger) -> dict[str, Any]:
    async for event in t.run():
        return dict(event.payload)
    raise AssertionError("no event")


def run_with_rotation(
    sm: Any, monkeypatch: pytest.MonkeyPatch, names: list[str], rotate: Any
) -> list[dict[str, Any]]:
    """
    Run triggers for ``names``; once each has polled twice with the old key, call ``rotate()``.

    The LocalSageMaker's clock stands still until then, so the jobs are still running when the key
    rotates however slowly the machine opens the first client; then it runs on and the jobs end.
    """

    async def main() -> list[dict[str, Any]]:
        sm.clock.freeze()
        tasks = [asyncio.ensure_future(_event(trigger(name))) for name in names]
        deadline = time.monotonic() + 60
        while len(sm.requests(operation="DescribeTrainingJob")) < 2 * len(names):
            assert time.monotonic() < deadline, sm.requests(operation="DescribeTrainingJob")
            assert not any(task.done() for task in tasks), [task.result() for task in tasks if task.done()]
            await asyncio.sleep(0.05)
        rotate()
        sm.clock.resume()
        return await asyncio.wait_for(asyncio.gather(*tasks), 30)

    try:
        return asyncio.run(main())
    finally:
        sm.clock.resume()


@pytest.fixture
def sm(local_sagemaker: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    local_sagemaker.configure(training_seconds=2.5)
    set_connection_key(local_sagemaker, monkeypatch, OLD_KEY)
    local_sagemaker.clear_requests()
    return local_sagemaker


def _new_key_takes_over(signers: list[str]) -> None:
    assert signers[0] == OLD_KEY
    first_new = signers.index(NEW_KEY)  # raises if the new key never signed
    assert set(signers[first_new:]) == {NEW_KEY}, signers


def test_a_busy_trigger_picks_up_a_rotated_key_after_the_max_age(
    sm: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(POOL, "max_age", 0.6, raising=False)
    names = ["pool-rotate-a", "pool-rotate-b"]
    for name in names:
        start_job(sm, name)
    sm.clear_requests()

    events = run_with_rotation(sm, monkeypatch, names, lambda: set_connection_key(sm, monkeypatch, NEW_KEY))

    assert [e["status"] for e in events] == ["succeeded", "succeeded"]
    _new_key_takes_over([r["access_key_id"] for r in sm.requests(operation="DescribeTrainingJob")])


@pytest.mark.parametrize(
    "code", ["ExpiredTokenException", "InvalidClientTokenId", "UnrecognizedClientException"]
)
def test_an_auth_error_rebuilds_the_client_and_no_trigger_fails(
    sm: Any, monkeypatch: pytest.MonkeyPatch, code: str
) -> None:
    names = ["pool-auth-a", "pool-auth-b", "pool-auth-c"]
    for name in names:
        start_job(sm, name)
    sm.clear_requests()
    built = POOL.built

    def rotate() -> None:
        set_connection_key(sm, monkeypatch, NEW_KEY)
        sm.fail_next("DescribeTrainingJob", code=code, status=400, count=1)

    events = run_with_rotation(sm, monkeypatch, names, rotate)

    assert [e["status"] for e in events] == ["succeeded"] * 3, events
    _new_key_takes_over(
        [r["access_key_id"] for r in sm.requests(operation="DescribeTrainingJob") if r.get("fault") is None]
    )
    assert POOL.built - built == 2  # one shared client before, one after: not one per trigger


def test_credentials_near_expiry_make_the_client_stale() -> None:
    pool = SageMakerClientPool(max_age=3600, expiry_margin=300)

    def entry(expires_in: float | None) -> _Entry:
        expiry = None if expires_in is None else datetime.now(UTC) + timedelta(seconds=expires_in)
        credentials = SimpleNamespace(_expiry_time=expiry)
        client = SimpleNamespace(_request_signer=SimpleNamespace(_credentials=credentials))
        import time

        return _Entry(client=client, opened_at=time.monotonic())

    assert not pool.is_stale(entry(None))  # static keys: only the max age applies
    assert not pool.is_stale(entry(3600))
    assert pool.is_stale(entry(120))
    assert pool.is_stale(entry(-1))


def test_invalidate_gives_the_next_borrower_a_new_client_and_closes_the_old_one_after_its_last_user(
    sm: Any,
) -> None:
    async def main() -> None:
        async with POOL.client(CONN_ID, botocore_config=NO_BOTO_RETRIES) as first:
            old = first.client
            await first.list_training_jobs()
            assert POOL.invalidate(first) == 1
            async with POOL.client(CONN_ID, botocore_config=NO_BOTO_RETRIES) as second:
                assert second.client is not old
                await first.list_training_jobs()  # the first user moves to the new client at its next call
                assert first.client is second.client
        assert POOL.size() == 0

    asyncio.run(main())


def test_a_failed_rebuild_on_age_keeps_the_current_client_working(
    sm: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A transient failure to rebuild (connection lookup, ...) must not fail every trigger on the client."""
    monkeypatch.setattr(POOL, "max_age", 0.6)
    names = ["pool-rebuild-fails-a", "pool-rebuild-fails-b"]
    for name in names:
        start_job(sm, name)
    sm.clear_requests()
    real_open = POOL._open
    failures = {"left": 3}

    async def flaky_open(*args: Any) -> None:
        if failures["left"]:
            failures["left"] -= 1
            raise RuntimeError("connection lookup failed")  # not retriable by the trigger
        await real_open(*args)

    events = run_with_rotation(sm, monkeypatch, names, lambda: monkeypatch.setattr(POOL, "_open", flaky_open))

    assert [e["status"] for e in events] == ["succeeded", "succeeded"], events
    assert failures["left"] == 0  # the rebuild was tried, failed, and the triggers carried on


def test_a_refused_client_is_not_used_again_when_the_rebuild_fails(
    sm: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = "pool-refused-rebuild-fails"
    start_job(sm, name)
    sm.clear_requests()

    async def failing_open(*args: Any) -> None:
        raise RuntimeError("connection lookup failed")  # not retriable: the trigger gives up

    def refuse() -> None:
        monkeypatch.setattr(POOL, "_open", failing_open)
        sm.fail_next("DescribeTrainingJob", code="ExpiredTokenException", status=400, count=1)

    [event] = run_with_rotation(sm, monkeypatch, [name], refuse)

    assert event["status"] == "error"
    assert "connection lookup failed" in event["message"]

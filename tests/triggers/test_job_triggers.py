"""SageMaker job triggers against the project's LocalSageMaker (frozen clock, forced job states, server request log)."""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from airflow_provider_smtrain.jobs.retry import backoff_delay, is_retriable
from airflow_provider_smtrain.triggers import SageMakerJobTrigger, TrainingJobTrigger, TuningJobTrigger
from airflow_provider_smtrain.triggers.clients import POOL, client_key
from tests.triggers.conftest import (
    ACCESS_KEY,
    CONN_ID,
    JOB_RESOURCES,
    NO_BOTO_RETRIES,
    REGION,
    TriggerSageMaker,
)

EVENT_KEYS = {"status", "job_name", "kind", "job_status", "secondary_status", "failure_reason", "message"}
FAST: dict[str, Any] = {
    "aws_conn_id": CONN_ID,
    "botocore_config": NO_BOTO_RETRIES,
    "poll_interval": 0.05,
    "retry_base_delay": 0.005,
    "retry_max_delay": 0.02,
}


#: These tests pin the trigger that reads its own job (``DescribeTrainingJob`` every poll): kinds
#: without a List* call, or ``coalesce_status_reads = False``. Shared pollers: ``test_coalesced_reads.py``.
pytestmark = pytest.mark.usefixtures("describe_each_job")


def training(job_name: str, **kwargs: Any) -> TrainingJobTrigger:
    return TrainingJobTrigger(job_name=job_name, **{**FAST, **kwargs})


def after_polls(sm: TriggerSageMaker, job_name: str, polls: int, change: Any) -> Any:
    """A ``during`` coroutine function that applies ``change()`` once the server saw ``polls`` describes."""

    def describes() -> int:
        return len([c for c in sm.calls(name=job_name) if c["operation"].startswith("Describe")])

    async def during() -> None:
        while await asyncio.to_thread(describes) < polls:
            await asyncio.sleep(0.01)
        await asyncio.to_thread(change)

    return during


def run_trigger(
    trigger: Any, *, during: Callable[[], Awaitable[Any]] | None = None, timeout: float = 10
) -> dict[str, Any]:
    """
    Run a trigger on a fresh event loop until it returns; assert it fired exactly one JSON-native event.

    :param trigger: The trigger.
    :param during: Optional coroutine function run concurrently (to change job status over time).
    :param timeout: Seconds before the test fails.
    """

    async def main() -> list[Any]:
        async def collect() -> list[Any]:
            return [event async for event in trigger.run()]

        task = asyncio.ensure_future(collect())
        if during is not None:
            await during()
        return await asyncio.wait_for(task, timeout)

    events = asyncio.run(main())
    assert len(events) == 1, events
    payload: dict[str, Any] = events[0].payload
    json.dumps(payload)  # JSON-native
    return payload


# ---------------------------------------------------------------------------------- serialization


def import_string(classpath: str) -> Any:
    """What the triggerer does with a classpath."""
    module, _, name = classpath.rpartition(".")
    return getattr(importlib.import_module(module), name)


@pytest.mark.parametrize(
    ("cls", "kwargs"),
    [
        (TrainingJobTrigger, {}),
        (TuningJobTrigger, {"kind": "tuning"}),
        (SageMakerJobTrigger, {"kind": "training"}),
    ],
)
def test_serialize_round_trip(cls: type[SageMakerJobTrigger], kwargs: dict[str, Any]) -> None:
    trigger = cls(
        job_name="j",
        aws_conn_id="my_conn",
        region_name="eu-west-1",
        verify="/ca.pem",
        botocore_config={"retries": {"mode": "adaptive"}},
        poll_interval=12,
        deadline=1_900_000_000.5,
        stop_on_deadline=False,
        stop_on_kill=True,
        max_retries=4,
        **kwargs,
    )
    classpath, serialized = trigger.serialize()
    assert import_string(classpath) is cls
    assert json.loads(json.dumps(serialized)) == serialized
    rebuilt = import_string(classpath)(**serialized)
    assert rebuilt.serialize() == (classpath, serialized)
    assert serialized["deadline"] == 1_900_000_000.5
    assert serialized["kind"] == ("tuning" if cls is TuningJobTrigger else "training")
    assert rebuilt.hook_params() == {
        "aws_conn_id": "my_conn",
        "region_name": "eu-west-1",
        "verify": "/ca.pem",
        "config": {"retries": {"mode": "adaptive"}},
    }


def test_serialize_through_airflow_encoder() -> None:
    """What the triggerer stores: Airflow's own trigger encoding round-trips our kwargs unchanged."""
    from airflow.serialization.encoders import encode_trigger
    from airflow.serialization.serialized_objects import BaseSerialization

    classpath, kwargs = TuningJobTrigger(job_name="t", deadline=None, botocore_config=None).serialize()
    encoded = encode_trigger({"classpath": classpath, "kwargs": kwargs})
    decoded = {key: BaseSerialization.deserialize(value) for key, value in encoded["kwargs"].items()}
    assert TuningJobTrigger(**decoded).serialize() == (classpath, kwargs)


@pytest.mark.parametrize(
    ("cls", "kwargs", "match"),
    [
        (TrainingJobTrigger, {"kind": "tuning"}, "waits for 'training' jobs"),
        (SageMakerJobTrigger, {}, "kind is required"),
        (SageMakerJobTrigger, {"kind": "processing"}, "Unknown job kind 'processing'"),
        (TrainingJobTrigger, {"poll_interval": 0}, "poll_interval must be > 0"),
        (TrainingJobTrigger, {"deadline": "tomorrow"}, "deadline must be epoch seconds"),
    ],
)
def test_bad_arguments_are_rejected(
    cls: type[SageMakerJobTrigger], kwargs: dict[str, Any], match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        cls(job_name="j", **kwargs)


# ---------------------------------------------------------------------------------- outcomes


def test_completed_job_succeeds(sm: TriggerSageMaker, job_name: str) -> None:
    sm.create_training_job(job_name, "InProgress", "Training")
    event = run_trigger(
        training(job_name),
        during=after_polls(sm, job_name, 2, lambda: sm.set_training(job_name, "Completed", "Completed")),
    )
    assert set(event) == EVENT_KEYS
    assert event == {
        "status": "succeeded",
        "job_name": job_name,
        "kind": "training",
        "job_status": "Completed",
        "secondary_status": "Completed",
        "failure_reason": None,
        "message": f"Training job {job_name!r} ended with status Completed.",
    }
    assert len(sm.calls("DescribeTrainingJob", job_name)) >= 2  # it really waited
    assert {c["access_key_id"] for c in sm.calls("DescribeTrainingJob", job_name)} == {ACCESS_KEY}


def test_failed_job_fails_with_reason(sm: TriggerSageMaker, job_name: str) -> None:
    sm.create_training_job(job_name, "InProgress", "Training")
    event = run_trigger(
        training(job_name),
        during=after_polls(
            sm, job_name, 2, lambda: sm.set_training(job_name, "Failed", "Failed", "AlgorithmError: OOM")
        ),
    )
    assert event["status"] == "failed"
    assert event["job_status"] == "Failed"
    assert event["failure_reason"] == "AlgorithmError: OOM"
    assert "AlgorithmError: OOM" in event["message"]


def test_stopped_job(sm: TriggerSageMaker, job_name: str) -> None:
    sm.create_training_job(job_name, "Stopping", "Stopping")
    event = run_trigger(
        training(job_name), during=after_polls(sm, job_name, 2, lambda: sm.set_training(job_name, "Stopped"))
    )
    assert (event["status"], event["job_status"]) == ("stopped", "Stopped")


def test_status_changes_logged_once(
    sm: TriggerSageMaker, job_name: str, caplog: pytest.LogCaptureFixture
) -> None:
    sm.create_training_job(job_name, "InProgress", "Training")
    caplog.set_level("INFO", logger="smtrain.test")
    trigger = training(job_name)
    trigger._log = logging.getLogger("smtrain.test")  # type: ignore[assignment]  # Airflow uses structlog
    run_trigger(
        trigger,
        during=after_polls(sm, job_name, 2, lambda: sm.set_training(job_name, "Completed", "Completed")),
    )
    lines = [
        r.getMessage() for r in caplog.records if job_name in r.getMessage() and "status" in r.getMessage()
    ]
    assert lines == [
        f"Training job {job_name}: status InProgress (Training)",
        f"Training job {job_name}: status Completed (Completed)",
    ]


def test_tuning_job_path(sm: TriggerSageMaker, job_name: str) -> None:
    name = job_name[-32:]
    sm.create_tuning_job(name, "InProgress")
    trigger = TuningJobTrigger(job_name=name, **FAST)
    event = run_trigger(trigger, during=after_polls(sm, name, 2, lambda: sm.set_tuning(name, "Completed")))
    assert event["status"] == "succeeded"
    assert (event["kind"], event["job_status"], event["secondary_status"]) == ("tuning", "Completed", None)
    assert sm.calls("DescribeHyperParameterTuningJob", name)

    other = job_name[-31:] + "k"
    sm.create_tuning_job(other, "InProgress")
    asyncio.run(TuningJobTrigger(job_name=other, **FAST).on_kill())
    assert [c["name"] for c in sm.calls("StopHyperParameterTuningJob")] == [other]
    sm.finish_stopping()
    assert sm.tuning_status(other) == "Stopped"


# ---------------------------------------------------------------------------------- deadline and kill


def test_deadline_stops_job(sm: TriggerSageMaker, job_name: str) -> None:
    sm.create_training_job(job_name, "InProgress", "Training")
    start = time.monotonic()
    event = run_trigger(training(job_name, deadline=time.time() + 0.3, poll_interval=5))
    assert time.monotonic() - start < 2  # the sleep is cut at the deadline
    assert event["status"] == "deadline"
    assert event["job_status"] == "InProgress"  # last status seen
    assert "A stop was requested" in event["message"]
    stops = sm.calls("StopTrainingJob", job_name)
    assert [(s["access_key_id"], s["region"]) for s in stops] == [(ACCESS_KEY, REGION)]
    sm.finish_stopping()
    assert sm.training_status(job_name) == "Stopped"


def test_deadline_without_stop(sm: TriggerSageMaker, job_name: str) -> None:
    sm.create_training_job(job_name, "InProgress", "Training")
    event = run_trigger(training(job_name, deadline=time.time() + 0.2, stop_on_deadline=False))
    assert event["status"] == "deadline"
    assert sm.calls("StopTrainingJob") == [] or job_name not in {
        c["name"] for c in sm.calls("StopTrainingJob")
    }
    assert sm.training_status(job_name) == "InProgress"


def test_deadline_in_the_past_still_reports_a_finished_job(sm: TriggerSageMaker, job_name: str) -> None:
    """After a triggerer restart past the deadline, a job that completed meanwhile is a success."""
    sm.create_training_job(job_name, "Completed", "Completed")
    event = run_trigger(training(job_name, deadline=time.time() - 60))
    assert event["status"] == "succeeded"
    assert sm.calls("StopTrainingJob", job_name) == []


def test_on_kill_stops_job(sm: TriggerSageMaker, job_name: str) -> None:
    sm.create_training_job(job_name, "InProgress", "Training")
    trigger = training(job_name)

    async def user_marks_failed() -> None:
        task = asyncio.ensure_future(_drain(trigger))
        await asyncio.sleep(0.2)
        task.cancel()  # what the triggerer does, then it calls on_kill()
        with pytest.raises(asyncio.CancelledError):
            await task
        await trigger.on_kill()
        await trigger.cleanup()

    asyncio.run(user_marks_failed())
    assert [c["access_key_id"] for c in sm.calls("StopTrainingJob", job_name)] == [ACCESS_KEY]
    sm.finish_stopping()
    assert sm.training_status(job_name) == "Stopped"


def test_triggerer_restart_does_not_stop_job(sm: TriggerSageMaker, job_name: str) -> None:
    """Cancellation plus cleanup() (a triggerer restart) leaves the job alone."""
    sm.create_training_job(job_name, "InProgress", "Training")
    trigger = training(job_name)

    async def restart() -> None:
        task = asyncio.ensure_future(_drain(trigger))
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await trigger.cleanup()
        assert POOL.size() == 0  # the client was released

    asyncio.run(restart())
    assert sm.calls("StopTrainingJob", job_name) == []
    assert sm.training_status(job_name) == "InProgress"


def test_on_kill_respects_flag_and_terminal_jobs(sm: TriggerSageMaker, job_name: str) -> None:
    sm.create_training_job(job_name, "InProgress")
    asyncio.run(training(job_name, stop_on_kill=False).on_kill())
    assert sm.calls("StopTrainingJob", job_name) == []

    done = job_name + "-done"
    sm.create_training_job(done, "Completed", "Completed")
    asyncio.run(training(done).on_kill())  # ValidationException from the server: logged, not raised
    assert len(sm.calls("StopTrainingJob", done)) == 1
    assert sm.training_status(done) == "Completed"


async def _drain(trigger: SageMakerJobTrigger) -> list[Any]:
    return [event async for event in trigger.run()]


# ---------------------------------------------------------------------------------- errors


def test_throttled_describes_still_succeed(sm: TriggerSageMaker, job_name: str) -> None:
    sm.create_training_job(job_name, "InProgress", "Training")
    sm.fail("DescribeTrainingJob", "ThrottlingException", rate=0.3)
    event = run_trigger(
        training(job_name),
        during=after_polls(sm, job_name, 10, lambda: sm.set_training(job_name, "Completed", "Completed")),
    )
    assert event["status"] == "succeeded"
    calls = sm.calls("DescribeTrainingJob", job_name)
    assert len(calls) >= 10
    assert sum(c["fault"] == "throttle" for c in calls) >= 2


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("ThrottlingException", 400),
        ("Throttling", 400),
        ("TooManyRequestsException", 400),
        ("RequestLimitExceeded", 400),
        ("InternalFailure", 500),
        ("ServiceUnavailable", 503),
    ],
)
def test_persistent_retriable_errors_are_retried_until_the_deadline(
    sm: TriggerSageMaker, job_name: str, code: str, status: int
) -> None:
    # A trigger that cannot tell what its job is doing keeps asking: no error event, whatever the
    # count, until the task's deadline; then the deadline's own rules apply (stop, "deadline" event).
    sm.create_training_job(job_name, "InProgress", "Training")
    sm.fail("DescribeTrainingJob", code, status=status)
    event = run_trigger(training(job_name, max_retries=3, deadline=time.time() + 1.0))
    assert event["status"] == "deadline", event
    assert len(sm.calls("DescribeTrainingJob", job_name)) > 4, "more than 1 + max_retries reads"
    assert len(sm.calls("StopTrainingJob", job_name)) == 1


def test_transient_errors_then_recovery(sm: TriggerSageMaker, job_name: str) -> None:
    sm.create_training_job(job_name, "Completed", "Completed")
    sm.fail("DescribeTrainingJob", "InternalFailure", status=500, count=3)
    event = run_trigger(training(job_name, max_retries=3))
    assert event["status"] == "succeeded"
    assert len(sm.calls("DescribeTrainingJob", job_name)) == 4


def test_missing_job_is_an_immediate_error(sm: TriggerSageMaker, job_name: str) -> None:
    event = run_trigger(training(job_name))
    assert event["status"] == "error"
    assert len(sm.calls("DescribeTrainingJob", job_name)) == 1
    assert event["message"].startswith(
        f"DescribeTrainingJob for training job {job_name!r} failed: ValidationException"
    )
    assert event["job_status"] is None


def test_access_denied_is_an_immediate_error(sm: TriggerSageMaker, job_name: str) -> None:
    sm.create_training_job(job_name, "InProgress")
    sm.fail("DescribeTrainingJob", "AccessDeniedException", status=400)
    event = run_trigger(training(job_name))
    assert event["status"] == "error"
    assert "AccessDeniedException" in event["message"]
    assert len(sm.calls("DescribeTrainingJob", job_name)) == 1


def test_unreachable_endpoint_is_retried_until_the_deadline(
    sm: TriggerSageMaker, job_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv(
        "AIRFLOW_CONN_DEAD_ENDPOINT",
        json.dumps(
            {
                "conn_type": "aws",
                "login": "x",
                "password": "y",
                "extra": {"endpoint_url": f"http://127.0.0.1:{port}", "region_name": REGION},
            }
        ),
    )
    event = run_trigger(training(job_name, aws_conn_id="dead_endpoint", max_retries=2, deadline=time.time() + 1.0))
    assert event["status"] == "deadline", event
    assert "Stopping it failed" in event["message"] and "EndpointConnectionError" in event["message"]


def test_error_classification_and_backoff() -> None:
    from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

    def client_error(code: str, status: int) -> ClientError:
        return ClientError({"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, "Op")

    assert is_retriable(client_error("SomethingNew", 502))
    assert is_retriable(client_error("ThrottlingException", 400))
    assert not is_retriable(client_error("ValidationException", 400))
    assert not is_retriable(client_error("AccessDeniedException", 403))
    assert is_retriable(EndpointConnectionError(endpoint_url="http://x"))
    assert is_retriable(ReadTimeoutError(endpoint_url="http://x"))
    assert not is_retriable(ValueError("bug"))
    delays = [backoff_delay(n, 1.0, 60.0) for n in range(1, 12) for _ in range(20)]
    assert all(0 <= d <= 60 for d in delays)
    assert max(backoff_delay(1, 1.0, 60.0) for _ in range(50)) <= 1.0


# ---------------------------------------------------------------------------------- client pool


def test_triggers_share_one_client_per_connection(sm: TriggerSageMaker, job_name: str) -> None:
    names = [f"{job_name}-{i}" for i in range(20)]
    for name in names:
        sm.create_training_job(name, "InProgress")
    other_region = f"{job_name}-eu"
    sm.create_training_job(other_region, "InProgress", region="eu-west-1")

    async def main() -> tuple[int, int, int, list[Any]]:
        built = POOL.built
        triggers = [training(name) for name in names] + [training(other_region, region_name="eu-west-1")]
        tasks = [asyncio.ensure_future(_drain(t)) for t in triggers]
        def polled() -> int:
            return len({c["name"] for c in sm.calls("DescribeTrainingJob")} & {*names, other_region})

        while await asyncio.to_thread(polled) < len(triggers):
            await asyncio.sleep(0.01)
        size = POOL.size()
        shared_refs = POOL.refs(client_key(CONN_ID, None, None, NO_BOTO_RETRIES))
        for name in names:
            await asyncio.to_thread(sm.set_training, name, "Completed")
        await asyncio.to_thread(sm.set_training, other_region, "Completed", region="eu-west-1")
        results = await asyncio.wait_for(asyncio.gather(*tasks), 10)
        return POOL.built - built, size, shared_refs, results

    built, size, shared_refs, results = asyncio.run(main())
    # 20 triggers on us-east-1 share one client; eu-west-1 gets its own
    assert (built, size, shared_refs) == (2, 2, 20)
    assert [r[0].payload["status"] for r in results] == ["succeeded"] * 21
    assert {c["region"] for c in sm.calls("DescribeTrainingJob", other_region)} == {"eu-west-1"}


def test_pool_survives_fresh_event_loops(sm: TriggerSageMaker, job_name: str) -> None:
    """Clients are per loop and closed by their last user, so sequential loops each get a working one."""
    sm.create_training_job(job_name, "Completed", "Completed")
    for _ in range(2):
        assert run_trigger(training(job_name))["status"] == "succeeded"

    async def size() -> int:
        return POOL.size()

    assert asyncio.run(size()) == 0


def test_client_build_failure_is_an_error_event(monkeypatch: pytest.MonkeyPatch, job_name: str) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_BAD_CONFIG", json.dumps({"conn_type": "aws", "login": "x", "password": "y"})
    )
    event = run_trigger(training(job_name, aws_conn_id="bad_config", botocore_config={"no_such_option": 1}))
    assert event["status"] == "error"
    assert "Could not wait for training job" in event["message"] and "bad_config" in event["message"]


def test_a_blip_while_opening_the_client_is_retried(
    sm: TriggerSageMaker, job_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.exceptions import EndpointConnectionError

    from airflow_provider_smtrain.triggers.clients import SageMakerClientPool

    sm.create_training_job(job_name, "Completed", "Completed")
    real_open = SageMakerClientPool._open
    attempts = {"n": 0}

    async def flaky_open(self: Any, *args: Any) -> None:
        attempts["n"] += 1
        if attempts["n"] <= 2:  # e.g. STS down while the triggerer restarts
            raise EndpointConnectionError(endpoint_url="https://sts.us-east-1.amazonaws.com")
        await real_open(self, *args)

    monkeypatch.setattr(SageMakerClientPool, "_open", flaky_open)
    event = run_trigger(training(job_name))
    assert event["status"] == "succeeded", event
    assert attempts["n"] == 3


def test_a_client_that_never_opens_ends_at_the_deadline(
    sm: TriggerSageMaker, job_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.exceptions import EndpointConnectionError

    from airflow_provider_smtrain.triggers.clients import SageMakerClientPool

    async def never_open(self: Any, *args: Any) -> None:
        raise EndpointConnectionError(endpoint_url="https://sts.us-east-1.amazonaws.com")

    monkeypatch.setattr(SageMakerClientPool, "_open", never_open)
    event = run_trigger(training(job_name, deadline=time.time() + 0.5))
    assert event["status"] == "deadline", event
    assert "could not connect to stop it" in event["message"]


# ---------------------------------------------------------------------------------- timed lifecycle


def test_job_lifecycle_with_30_percent_throttling(sm: TriggerSageMaker, job_name: str) -> None:
    """A job that runs its own timeline (not forced) while 30 % of the describes are throttled."""
    sm.server.configure(training_seconds=1.0)
    sm.client().create_training_job(TrainingJobName=job_name, **JOB_RESOURCES)
    sm.fail("DescribeTrainingJob", "ThrottlingException", rate=0.3)

    event = run_trigger(
        training(job_name, poll_interval=0.01),
        during=after_polls(sm, job_name, 5, lambda: sm.server.clock.advance(1.0)),
    )

    assert event["status"] == "succeeded", event
    assert event["job_status"] == "Completed"
    describes = sm.calls("DescribeTrainingJob", job_name)
    assert len(describes) >= 5
    assert any(r["fault"] == "throttle" for r in describes)
    assert {r["access_key_id"] for r in describes} == {ACCESS_KEY}  # the connection signs, not ambient creds


def test_deadline_stop_reaches_local_sagemaker_and_the_job_stops(sm: TriggerSageMaker, job_name: str) -> None:
    sm.server.configure(training_seconds=60.0)
    sm.client().create_training_job(TrainingJobName=job_name, **JOB_RESOURCES)

    event = run_trigger(training(job_name, deadline=time.time() + 0.3))

    assert event["status"] == "deadline"
    assert [r["access_key_id"] for r in sm.calls("StopTrainingJob")] == [ACCESS_KEY]
    assert sm.training_status(job_name) == "Stopping"
    sm.finish_stopping()
    assert sm.training_status(job_name) == "Stopped"

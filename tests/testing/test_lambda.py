"""Lambda CreateFunction + Invoke on the LocalSageMaker: the handler really runs (an RLVR reward function, say)."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from typing import Any

import pytest

ROLE = "arn:aws:iam::123456789012:role/LambdaRole"

REWARD = '''
import json, os

def lambda_handler(event, context):
    print("scoring", len(event), "samples")
    if event and event[0].get("explode"):
        raise ValueError("reward model exploded")
    if event and event[0].get("sleep"):
        import time
        time.sleep(event[0]["sleep"])
    if event and event[0].get("unjsonable"):
        return {1, 2}
    return [
        {"id": sample["id"], "aggregate_reward_score": 1.0 if sample["answer"] == sample["reference"] else 0.0,
         "function": context.function_name, "stage": os.environ.get("STAGE"),
         "remaining_ok": context.get_remaining_time_in_millis() > 0,
         "has_server_credentials": os.environ.get("AWS_SECRET_ACCESS_KEY") == "dummy-secret"}
        for sample in event
    ]
'''


def zipped(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buf.getvalue()


@pytest.fixture
def awslambda(sm) -> Any:
    """A Lambda client signed with its own key (its responses shape-checked like every other)."""
    return sm.boto3_client("lambda", access_key_id="AKIATESTLAMBDA", retries={"total_max_attempts": 1})


@pytest.fixture
def reward_fn(sm, awslambda) -> str:
    sm.create_role("LambdaRole")
    arn: str = awslambda.create_function(
        FunctionName="reward-fn",
        Runtime="python3.12",
        Role=ROLE,
        Handler="reward.lambda_handler",
        Code={"ZipFile": zipped({"reward.py": REWARD})},
        Timeout=5,
        Environment={"Variables": {"STAGE": "test"}},
    )["FunctionArn"]
    return arn


def invoke(awslambda: Any, function: str, event: Any, **kwargs: Any) -> tuple[dict[str, Any], Any]:
    response = awslambda.invoke(FunctionName=function, Payload=json.dumps(event).encode(), **kwargs)
    return response, json.loads(response["Payload"].read())


def test_invoke_runs_the_handler_and_returns_its_result(sm, awslambda, reward_fn):
    samples = [{"id": "a", "answer": "4", "reference": "4"}, {"id": "b", "answer": "5", "reference": "4"}]
    response, payload = invoke(awslambda, reward_fn, samples, LogType="Tail")
    assert response["StatusCode"] == 200 and "FunctionError" not in response
    assert [item["aggregate_reward_score"] for item in payload] == [1.0, 0.0]
    assert payload[0]["function"] == "reward-fn" and payload[0]["stage"] == "test"
    assert payload[0]["remaining_ok"] is True
    assert payload[0]["has_server_credentials"] is False  # the handler never sees the server's environment
    tail = base64.b64decode(response["LogResult"]).decode()
    assert "scoring 2 samples" in tail and tail.startswith("START RequestId:") and "REPORT RequestId:" in tail

    # by name too, and the log reaches CloudWatch
    _, again = invoke(awslambda, "reward-fn", [{"id": "c", "answer": "x", "reference": "x"}])
    assert again[0]["aggregate_reward_score"] == 1.0
    logs = sm.boto3_client("logs")
    streams = logs.describe_log_streams(logGroupName="/aws/lambda/reward-fn")["logStreams"]
    assert len(streams) == 2


def test_handler_exception_is_an_unhandled_function_error(awslambda, reward_fn):
    response, payload = invoke(awslambda, reward_fn, [{"explode": True}])
    assert response["StatusCode"] == 200 and response["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "ValueError" and payload["errorMessage"] == "reward model exploded"
    assert any("lambda_handler" in line for line in payload["stackTrace"])


def test_handler_timeout_is_reported_like_lambda(sm, awslambda, reward_fn):
    awslambda.update_function_configuration(FunctionName="reward-fn", Timeout=1)
    response, payload = invoke(awslambda, reward_fn, [{"sleep": 30}])
    assert response["FunctionError"] == "Unhandled"
    assert payload["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in payload["errorMessage"]


def test_unserialisable_result_and_missing_handler(sm, awslambda, reward_fn):
    _, payload = invoke(awslambda, reward_fn, [{"unjsonable": True}])
    assert payload["errorType"] == "Runtime.MarshalError"
    awslambda.create_function(
        FunctionName="broken", Runtime="python3.12", Role=ROLE, Handler="nope.handler",
        Code={"ZipFile": zipped({"reward.py": REWARD})},
    )
    response, payload = invoke(awslambda, "broken", {})
    assert response["FunctionError"] == "Unhandled" and payload["errorType"] == "Runtime.ImportModuleError"


def test_requests_are_logged_with_operation_function_and_signing_key(sm, awslambda, reward_fn):
    invoke(awslambda, reward_fn, [])
    [create] = sm.requests(operation="CreateFunction")
    assert create["access_key_id"] == "AKIATESTLAMBDA" and create["service"] == "lambda"
    [call] = sm.requests(operation="Invoke")
    assert call["access_key_id"] == "AKIATESTLAMBDA" and call["name"] == reward_fn


def test_invoke_is_fault_injectable(sm, awslambda, reward_fn):
    from botocore.exceptions import ClientError

    sm.fail_next("Invoke", code="TooManyRequestsException", status=429)
    with pytest.raises(ClientError) as err:
        invoke(awslambda, reward_fn, [])
    assert err.value.response["Error"]["Code"] == "TooManyRequestsException"
    _, payload = invoke(awslambda, reward_fn, [])
    assert payload == []

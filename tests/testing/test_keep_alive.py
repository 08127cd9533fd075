"""The LocalSageMaker server keeps HTTP/1.1 connections open, like AWS, and closes one only for a dropped response."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

import pytest


def _connection(sm) -> http.client.HTTPConnection:
    url = urlsplit(sm.endpoint_url)
    return http.client.HTTPConnection(url.hostname, url.port, timeout=10)


def _describe(conn: http.client.HTTPConnection, name: str) -> tuple[int, dict]:
    body = json.dumps({"TrainingJobName": name}).encode()
    conn.request(
        "POST",
        "/",
        body=body,
        headers={
            "X-Amz-Target": "SageMaker.DescribeTrainingJob",
            "Content-Type": "application/x-amz-json-1.1",
            "Authorization": "AWS4-HMAC-SHA256 Credential=AKIAKEEPALIVE/20260101/us-east-1/sagemaker/aws4_request, "
            "SignedHeaders=host, Signature=0",
        },
    )
    response = conn.getresponse()
    assert response.getheader("Connection") != "close"
    return response.status, json.loads(response.read())


def test_requests_share_one_connection(sm, job_args):
    sm.boto3_client("sagemaker").create_training_job(**job_args("kept-alive"))
    conn = _connection(sm)
    try:
        status, first = _describe(conn, "kept-alive")
        sock = conn.sock
        assert sock is not None  # http.client drops its socket when the server closes the connection
        status_2, second = _describe(conn, "kept-alive")
        missing, error = _describe(conn, "no-such-job")
        assert conn.sock is sock  # three answers, one TCP connection
    finally:
        conn.close()
    assert (status, status_2, missing) == (200, 200, 400)
    assert first["TrainingJobName"] == second["TrainingJobName"] == "kept-alive"
    assert "ResourceNotFound" in json.dumps(error) or "ValidationException" in json.dumps(error)
    assert [r["access_key_id"] for r in sm.requests(operation="DescribeTrainingJob")] == ["AKIAKEEPALIVE"] * 3


def test_control_api_answers_with_its_length_on_a_kept_connection(sm):
    conn = _connection(sm)
    try:
        for _ in range(2):
            conn.request("GET", "/_local/health")
            response = conn.getresponse()
            payload = response.read()
            assert int(response.getheader("Content-Length")) == len(payload)
            assert json.loads(payload)["status"] == "ok"
        assert conn.sock is not None
    finally:
        conn.close()


def test_a_dropped_response_closes_its_connection(sm, job_args):
    sm.boto3_client("sagemaker").create_training_job(**job_args("dropped-here"))
    sm.fail_next("DescribeTrainingJob", kind="lost_response")
    conn = _connection(sm)
    try:
        with pytest.raises((ConnectionError, http.client.RemoteDisconnected)):
            _describe(conn, "dropped-here")
    finally:
        conn.close()
    conn = _connection(sm)  # a new connection is answered normally
    try:
        assert _describe(conn, "dropped-here")[0] == 200
    finally:
        conn.close()

"""Read a training job's CloudWatch log streams incrementally."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError

TRAINING_LOG_GROUP = "/aws/sagemaker/TrainingJobs"


class TrainingLogTailer:
    """
    Follows every log stream of one training job (``<job>/algo-<n>-<ts>``), remembering its position.

    :param logs_client: a boto3 CloudWatch Logs client.
    :param job_name: the training job name.
    :param max_events_per_call: cap on events read from one stream per :meth:`new_lines` call.
    """

    def __init__(self, logs_client: Any, job_name: str, max_events_per_call: int = 10_000) -> None:
        self.logs_client = logs_client
        self.job_name = job_name
        self.max_events_per_call = max_events_per_call
        self._tokens: dict[str, str | None] = {}

    def _streams(self) -> list[str]:
        paginator = self.logs_client.get_paginator("describe_log_streams")
        names: list[str] = []
        try:
            for page in paginator.paginate(
                logGroupName=TRAINING_LOG_GROUP, logStreamNamePrefix=self.job_name + "/"
            ):
                names.extend(stream["logStreamName"] for stream in page.get("logStreams", []))
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                return []
            raise
        return sorted(names)

    def new_lines(self) -> Iterator[tuple[str, str]]:
        """Yield ``(stream name, message)`` for every event not yet read, stream by stream."""
        for stream in self._streams():
            read = 0
            while read < self.max_events_per_call:
                kwargs: dict[str, Any] = {
                    "logGroupName": TRAINING_LOG_GROUP,
                    "logStreamName": stream,
                    "startFromHead": True,
                }
                token = self._tokens.get(stream)
                if token:
                    kwargs["nextToken"] = token
                response = self.logs_client.get_log_events(**kwargs)
                events = response.get("events", [])
                self._tokens[stream] = response.get("nextForwardToken")
                for event in events:
                    yield stream, str(event.get("message", "")).rstrip("\n")
                read += len(events)
                if not events or response.get("nextForwardToken") == token:
                    break

"""Read a training job's CloudWatch log streams incrementally."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from botocore.exceptions import ClientError

from airflow_provider_smtrain.jobs.console import TRAINING_LOG_GROUP

#: Consecutive empty pages after which a read stops even if the token still changes.
MAX_EMPTY_PAGES = 20


class TrainingLogTailer:
    """
    Follows every log stream of one training job (``<job>/algo-<n>-<ts>``), remembering its position.

    Each call of :meth:`new_lines` reads every stream to its end (all pages, however many events).
    Within one process the position is CloudWatch's forward token; :meth:`position` is a JSON-native
    form (per stream: the last event's timestamp in ms and how many events of that millisecond were
    read) that a later process passes back as ``position`` to continue where this one stopped,
    e.g. after a deferral.

    :param logs_client: a boto3 CloudWatch Logs client.
    :param job_name: the training job name.
    :param position: a :meth:`position` of an earlier tailer of the same job, if any.
    """

    def __init__(
        self, logs_client: Any, job_name: str, position: Mapping[str, Sequence[int]] | None = None
    ) -> None:
        self.logs_client = logs_client
        self.job_name = job_name
        self._tokens: dict[str, str] = {}
        self._last: dict[str, tuple[int, int]] = {}
        for stream, mark in (position or {}).items():
            if isinstance(mark, list | tuple) and len(mark) == 2:
                self._last[str(stream)] = (int(mark[0]), int(mark[1]))

    def position(self) -> dict[str, list[int]]:
        """Per stream, ``[last timestamp (ms), events read with that timestamp]``; JSON-native."""
        return {stream: [ts, count] for stream, (ts, count) in self._last.items()}

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
            yield from self._read(stream)

    def _read(self, stream: str) -> Iterator[tuple[str, str]]:
        kwargs: dict[str, Any] = {
            "logGroupName": TRAINING_LOG_GROUP,
            "logStreamName": stream,
            "startFromHead": True,
        }
        token = self._tokens.get(stream)
        last_ts, count = self._last.get(stream, (-1, 0))
        skip = empty_pages = 0
        if token:
            kwargs["nextToken"] = token
        elif last_ts >= 0:
            # a new process resumes: from the last millisecond read, skipping what was read of it
            kwargs["startTime"], skip = last_ts, count
        while True:
            response = self.logs_client.get_log_events(**kwargs)
            events = response.get("events", [])
            for event in events:
                ts = int(event.get("timestamp", 0))
                if skip and ts == last_ts:
                    skip -= 1
                    continue
                skip = 0
                last_ts, count = (ts, count + 1) if ts == last_ts else (ts, 1)
                self._last[stream] = (last_ts, count)
                yield stream, str(event.get("message", "")).rstrip("\n")
            next_token = response.get("nextForwardToken")
            if next_token:
                self._tokens[stream] = next_token
            empty_pages = 0 if events else empty_pages + 1
            # the end: the forward token stops changing (a run of empty pages is a safety stop)
            if not next_token or next_token == kwargs.get("nextToken") or empty_pages >= MAX_EMPTY_PAGES:
                return
            kwargs["nextToken"] = next_token

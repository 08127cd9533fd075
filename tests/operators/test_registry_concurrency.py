"""Two DAG runs register one AI Registry dataset name at the same moment (two worker processes).

Both list the versions before either imports, so both choose the same version number, and the first
time both find no hub: the loser's ``CreateHub`` and ``ImportHubContent`` answer ``ResourceInUse``. Same
content as the winner's: the loser ends on that version. Other content: it takes the next version.
No task fails, and no version holds another task's content.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.operators.conftest import CONNECTION_ACCESS_KEY, REPO, Env
from tests.operators.registry_race_child import in_step, register

ROW = {"messages": [{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "4"}]}


def register_in_step(
    env: Env, tmp_path: Path, rounds: list[tuple[str, str]], monkeypatch: pytest.MonkeyPatch
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """
    Round by round, register one source here and the other in a child process at the same moment (the
    child is another worker: within one process the credentials scope serialises registrations).
    The results of both sides, per round.
    """
    from botocore.client import BaseClient

    barrier = tmp_path / "barrier"

    def arguments(source: str) -> dict[str, Any]:
        return {"name": "chat-train", "source": source, "customization_technique": "SFT",
                "default_bucket": env.bucket, "deferrable": False, "poll_interval": 0.2,
                "aws_conn_id": env.conn_id, "dag_file": str(tmp_path / "dag.py")}

    def child() -> list[dict[str, Any]]:
        done = subprocess.run(
            [sys.executable, "-m", "tests.operators.registry_race_child", str(barrier), "child", "2",
             json.dumps([arguments(theirs) for _, theirs in rounds])],
            env={**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")},
            cwd=REPO, capture_output=True, text=True, timeout=240,
        )
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        assert lines, f"no report from the child (rc {done.returncode}): {done.stderr[-3000:]}"
        report: dict[str, Any] = json.loads(lines[-1])
        assert report["ok"], f"child: {report['error']}\n{done.stderr[-3000:]}"
        return report["results"]  # type: ignore[no-any-return]

    original, here = BaseClient._make_api_call, []
    with ThreadPoolExecutor(1) as pool:
        theirs = pool.submit(child)
        for number, (mine, _) in enumerate(rounds):
            monkeypatch.setattr(BaseClient, "_make_api_call", in_step(original, barrier / str(number), "here", 2))
            here.append(register(arguments(mine), f"here_{number}"))
        return here, theirs.result()


def statuses(env: Env, operation: str) -> list[int]:
    """The HTTP statuses of ``operation``'s calls, in order of time."""
    return [r["status_code"] for r in env.sm.requests(operation=operation)]


def test_runs_registering_one_name_at_once_share_a_version_per_content(
    env: Env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env.sm.configure(hub_import_seconds=0.3)
    (tmp_path / "a.jsonl").write_text(json.dumps(ROW) + "\n")
    (tmp_path / "b.jsonl").write_text(json.dumps(ROW) + "\n" + json.dumps(ROW) + "\n")
    (tmp_path / "c.jsonl").write_text(json.dumps(ROW) + "\n" * 3)
    # round 0: the same file on both sides, no hub yet; round 1: other files on each side
    here, theirs = register_in_step(env, tmp_path, [("a.jsonl", "a.jsonl"), ("b.jsonl", "c.jsonl")], monkeypatch)

    assert {r["access_key_id"] for r in env.sm.requests() if r["service"] != "local"} == {CONNECTION_ACCESS_KEY}
    assert statuses(env, "CreateHub") == [200, 400]  # both found no hub; one created it
    # round 0: both chose 1.0.0, one imported it; round 1: both chose 2.0.0, the loser then 3.0.0
    assert statuses(env, "ImportHubContent") == [200, 400, 200, 400, 200]
    assert here[0]["arn"] == theirs[0]["arn"] and here[0]["version"] == "1.0.0"
    assert here[0]["content_sha256"] == theirs[0]["content_sha256"]
    assert sorted([here[1]["version"], theirs[1]["version"]]) == ["2.0.0", "3.0.0"]
    assert {r["status"] for r in (*here, *theirs)} == {"Available"}
    for result, source in ((here[0], "a.jsonl"), (here[1], "b.jsonl"), (theirs[1], "c.jsonl")):
        bucket, key = result["reference"][len("s3://"):].split("/", 1)  # each version holds its own file
        assert env.sm.get_object(bucket, key) == (tmp_path / source).read_bytes()
    listed = env.sm.boto3_client("sagemaker").list_hub_content_versions(
        HubName=here[0]["hub_name"], HubContentType="DataSet", HubContentName="chat-train")["HubContentSummaries"]
    assert sorted(v["HubContentVersion"] for v in listed) == ["1.0.0", "2.0.0", "3.0.0"]

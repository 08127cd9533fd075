"""
Run one Lambda handler in this (child) process, the way the Python runtime does, and write its outcome.

``python -I bootstrap.py CODE_DIR HANDLER EVENT_FILE RESULT_FILE CONTEXT_JSON``: imports ``module.function``
from ``CODE_DIR`` (the unzipped deployment package), calls it with the event and a context object, and
writes ``{"ok": true, "payload": "<json>"}`` or the runtime's error object to ``RESULT_FILE``. Whatever the
handler prints goes to stdout/stderr (the function's log). Standard library only.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
import traceback
from typing import Any


class LambdaContext:
    """
    The ``context`` argument of a Python handler (the members the runtime documents).

    :param data: ``function_name``, ``function_version``, ``invoked_function_arn``, ``memory_limit_in_mb``,
        ``aws_request_id``, ``log_group_name``, ``log_stream_name``, ``deadline_ms``.
    """

    def __init__(self, data: dict[str, Any]) -> None:
        self.function_name = data["function_name"]
        self.function_version = data["function_version"]
        self.invoked_function_arn = data["invoked_function_arn"]
        self.memory_limit_in_mb = data["memory_limit_in_mb"]
        self.aws_request_id = data["aws_request_id"]
        self.log_group_name = data["log_group_name"]
        self.log_stream_name = data["log_stream_name"]
        self.identity = None
        self.client_context = None
        self._deadline_ms = data["deadline_ms"]

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the function times out."""
        return max(0, int(self._deadline_ms - time.time() * 1000))


def _error(error_type: str, message: str, trace: list[str] | None = None) -> dict[str, Any]:
    return {"ok": False, "errorType": error_type, "errorMessage": message, "stackTrace": trace or []}


def run(code_dir: str, handler: str, event: Any, context: LambdaContext) -> dict[str, Any]:
    """
    Import and call the handler; the outcome as the runtime reports it.

    :param code_dir: Directory of the unzipped code.
    :param handler: ``module.function`` (module may be dotted: ``pkg.mod.fn``).
    :param event: The decoded event.
    :param context: The context object.
    """
    sys.path.insert(0, code_dir)
    module_name, _, function_name = handler.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        return _error("Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}")
    function = getattr(module, function_name, None)
    if not callable(function):
        return _error("Runtime.HandlerNotFound", f"Handler '{function_name}' missing on module '{module_name}'")
    try:
        result = function(event, context)
    except Exception as exc:
        trace = traceback.format_list(traceback.extract_tb(exc.__traceback__)[1:])
        return _error(type(exc).__name__, str(exc), [line.rstrip("\n") for line in trace])
    try:
        payload = json.dumps(result)
    except (TypeError, ValueError) as exc:
        return _error("Runtime.MarshalError", f"Unable to marshal response: {exc}")
    return {"ok": True, "payload": payload}


def main(argv: list[str]) -> int:
    """
    Entry point.

    :param argv: ``CODE_DIR HANDLER EVENT_FILE RESULT_FILE CONTEXT_JSON``.
    """
    code_dir, handler, event_file, result_file, context_json = argv
    with open(event_file, encoding="utf-8") as fh:
        event = json.load(fh)
    outcome = run(code_dir, handler, event, LambdaContext(json.loads(context_json)))
    with open(result_file, "w", encoding="utf-8") as fh:
        json.dump(outcome, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

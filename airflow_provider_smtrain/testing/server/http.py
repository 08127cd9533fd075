"""
The HTTP side of the LocalSageMaker server: werkzeug's threaded server, with keep-alive connections.

werkzeug's development server closes the connection after every response, so every AWS call of a
client paid a new TCP connection (and the server a new thread) and then waited in werkzeug's 10 ms
drain of the socket; with a few hundred waiting triggers that, not the emulated service, set the
pace. :class:`KeepAliveHandler` answers like AWS does, on HTTP/1.1 connections that stay open: the
request body is read completely before the application runs (so the next request on the connection
starts where this one ended) and the response carries its ``Content-Length``.

A request whose connection the application gives up on (a fault that drops the response raises a
``ConnectionError``) closes the connection, as before.
"""

from __future__ import annotations

import io
import logging
import socket
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.werkzeug_app import MotoRequestHandler
from werkzeug.serving import ThreadedWSGIServer

log = logging.getLogger(__name__)

#: Seconds an idle keep-alive connection stays open (longer than any poll interval of the tests).
IDLE_SECONDS = 300.0
#: Listen backlog: thousands of clients (one per amazon trigger) may connect at the same moment.
LISTEN_BACKLOG = 4096
#: Statuses that never have a body.
_NO_BODY = {204, 304}


class KeepAliveServer(ThreadedWSGIServer):
    """werkzeug's threaded WSGI server (one thread per connection) with a deep listen backlog."""

    request_queue_size = LISTEN_BACKLOG


class KeepAliveHandler(MotoRequestHandler):
    """
    moto's request handler (headers with underscores kept), answering on persistent HTTP/1.1 connections.

    Set :attr:`verbose` on a subclass to log every request.
    """

    protocol_version = "HTTP/1.1"
    timeout = IDLE_SECONDS
    verbose = False

    def setup(self) -> None:
        """Set up the connection's streams; no Nagle delay on it."""
        super().setup()
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Log the request line (only when :attr:`verbose`).

        :param code: HTTP status.
        :param size: Response size.
        """
        if self.verbose:
            super().log_request(code, size)

    def run_wsgi(self) -> None:
        """Run the application for one request and write its whole response; keep the connection if possible."""
        if self.headers.get("Expect", "").lower().strip(" \t") == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        self.environ = environ = self.make_environ()
        try:
            _buffer_body(environ)
            status, headers, body = _call(self.server.app, environ)
        except (TimeoutError, ConnectionError) as err:
            self.close_connection = True
            self.connection_dropped(err, environ)
            return
        except Exception:
            if self.server.passthrough_errors:
                raise
            log.exception("Error on request %s %s", environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"))
            self.close_connection = True
            status, headers = "500 INTERNAL SERVER ERROR", [("Content-Type", "text/plain")]
            body = b"Internal Server Error"
        self._respond(environ, status, headers, body)

    def _respond(
        self, environ: dict[str, Any], status: str, headers: list[tuple[str, str]], body: bytes
    ) -> None:
        """
        Write status line, headers (with the body's length) and body.

        :param environ: The request's environ.
        :param status: WSGI status line, e.g. ``200 OK``.
        :param headers: Response headers from the application.
        :param body: The whole response body.
        """
        code_str, _, message = status.partition(" ")
        code = int(code_str)
        head = environ.get("REQUEST_METHOD") == "HEAD"
        bodiless = head or code in _NO_BODY or 100 <= code < 200
        self.send_response(code, message)
        has_length = False
        for key, value in headers:
            lower = key.lower()
            if lower in ("connection", "transfer-encoding", "keep-alive"):
                continue
            if lower == "content-length":
                if not head:  # a HEAD answer states the length of the body a GET would get
                    continue
                has_length = True
            self.send_header(key, value)
        if not bodiless:
            self.send_header("Content-Length", str(len(body)))
        elif head and not has_length:
            self.close_connection = True  # the client cannot know where this response ends otherwise
        if self.close_connection:
            self.send_header("Connection", "close")
        # Head and body in one write: two small writes on a kept connection meet Nagle and the
        # client's delayed ACK (~40 ms per response).
        self._headers_buffer.append(b"\r\n")
        if body and not bodiless:
            self._headers_buffer.append(body)
        self.flush_headers()


def _buffer_body(environ: dict[str, Any]) -> None:
    """
    Read the whole request body from the connection and hand it to the application from memory.

    :param environ: The request's environ (``wsgi.input`` and ``CONTENT_LENGTH`` replaced).
    """
    stream = environ["wsgi.input"]
    if environ.get("wsgi.input_terminated"):  # chunked: werkzeug's DechunkedInput reads to the last chunk
        body = stream.read()
    else:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        body = stream.read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)
    environ.pop("wsgi.input_terminated", None)
    if body or environ.get("CONTENT_LENGTH"):
        environ["CONTENT_LENGTH"] = str(len(body))


def _call(
    app: Callable[..., Iterable[bytes]], environ: dict[str, Any]
) -> tuple[str, list[tuple[str, str]], bytes]:
    """
    Run a WSGI application to the end.

    :param app: The application.
    :param environ: The request's environ.
    :return: status line, headers and the whole body.
    """
    started: dict[str, Any] = {}
    written: list[bytes] = []

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Callable[[bytes], None]:
        if started and exc_info is None:
            raise AssertionError("Headers already set")
        started["status"], started["headers"] = status, list(headers)
        return written.append

    result = app(environ, start_response)
    try:
        for chunk in result:
            written.append(chunk)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    if "status" not in started:
        raise RuntimeError("the application returned without calling start_response")
    return started["status"], started["headers"], b"".join(written)

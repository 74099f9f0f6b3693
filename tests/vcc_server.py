"""A real local HTTP server for the vcc tests: canned bodies and status codes by path.

Tests talk to it through the real client (requests, sockets, timeouts), never through mocks.
Routes map a path (without the query string) to a Reply, for GET and POST alike; unknown
paths answer 404. The server records every request so tests can check paths, query strings
and auth headers.
"""

from __future__ import annotations

import base64
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures" / "vcc"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@dataclass
class Reply:
    """What to answer: a status, a body, headers; or hang without answering."""

    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False  # accept the request, never answer (until the server stops)
    stream_forever: bool = False  # answer 200 and send body chunks without end
    delay: float = 0.0  # seconds to wait before answering
    stall: bool = False  # send the headers and part of the body, then nothing more


@dataclass
class Seen:
    path: str
    query: str
    auth: tuple[str, str] | None
    headers: dict[str, str]


class VccTestServer:
    """ThreadingHTTPServer on 127.0.0.1, port chosen by the OS."""

    def __init__(self) -> None:
        self.routes: dict[str, Reply] = {}
        self.requests: list[Seen] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.stopping = threading.Event()
        self._counter = threading.Lock()
        self.httpd = _QuietServer(("127.0.0.1", 0), self._handler_class())
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def route(self, path: str, body: bytes | str = b"", status: int = 200, **kwargs) -> Reply:
        if isinstance(body, str):
            body = body.encode()
        reply = Reply(body=body, status=status, **kwargs)
        self.routes[path] = reply
        return reply

    def start(self) -> VccTestServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                with server._counter:
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    self._answer()
                finally:
                    with server._counter:
                        server.in_flight -= 1

            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                # A token endpoint: the form is read (and dropped) so the connection stays usable.
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.do_GET()

            def _answer(self) -> None:
                path, _, query = self.path.partition("?")
                server.requests.append(
                    Seen(path, query, _basic_auth(self.headers.get("Authorization")), dict(self.headers))
                )
                reply = server.routes.get(path, Reply(b"not here", 404))
                if reply.hang:
                    server.stopping.wait(30)
                    return
                if reply.delay:
                    server.stopping.wait(reply.delay)
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if reply.stream_forever:
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self._stream(reply.body or b"x" * 65536)
                    return
                if "Content-Length" not in reply.headers:
                    self.send_header("Content-Length", str(len(reply.body) * (2 if reply.stall else 1)))
                self.end_headers()
                self.wfile.write(reply.body)
                if reply.stall:
                    self.wfile.flush()
                    server.stopping.wait(30)

            def _stream(self, chunk: bytes) -> None:
                try:
                    while not server.stopping.is_set():
                        self.wfile.write(chunk)
                except OSError:
                    pass  # the client hung up, as it should

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        return Handler


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        pass  # clients hanging up mid-answer is what several tests are about


def _basic_auth(header: str | None) -> tuple[str, str] | None:
    if not header or not header.startswith("Basic "):
        return None
    user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    return user, password


@pytest.fixture(name="vcc_server")
def vcc_server_fixture():
    server = VccTestServer().start()
    yield server
    server.stop()

"""The 8x8 session still goes through the proxy the environment names (HTTP(S)_PROXY, NO_PROXY).

Sessions no longer read the environment at every request (trust_env off, for CPU); send()
passes what requests would have found there, read once per host.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from wallboard.simulator.server import SimulatorServer
from wallboard.vcc.client import VccClient
from wallboard.vcc.http import environment_settings


class RecordingProxy(BaseHTTPRequestHandler):
    """A forward proxy that answers nothing but records the request line it was sent."""

    seen: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.seen.append(self.path)
        self.send_response(502)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def proxy() -> Iterator[str]:
    RecordingProxy.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), RecordingProxy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def sim() -> Iterator[SimulatorServer]:
    server = SimulatorServer(port=0, agents=2, queues=1)
    server.start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def fresh_environment(monkeypatch):
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    environment_settings.cache_clear()
    yield
    environment_settings.cache_clear()


def test_it_sends_8x8_calls_through_the_proxy_the_environment_names(proxy, sim, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", proxy)
    with VccClient(sim.base_url, "demo", "demo-token") as client, pytest.raises(Exception, match="502"):
        client.agents()
    assert RecordingProxy.seen and RecordingProxy.seen[0].startswith(sim.base_url)  # an absolute URI: proxied


def test_it_goes_direct_to_hosts_no_proxy_lists(proxy, sim, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", proxy)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    with VccClient(sim.base_url, "demo", "demo-token") as client:
        assert client.agents()
    assert RecordingProxy.seen == []

"""The poller reaches public addresses and loopback only: never 10.x, 169.254.169.254 and the like.

An administrator (or whoever has their session) could otherwise point a tenant at a cloud
metadata service or an internal host and read the answer through admin's test connection.
Refused when the URL is saved (addresses written as numbers) and at every request (what a
name resolves to, which can change after it was saved).
"""

from __future__ import annotations

import socket

import pytest
import urllib3
from django.core.exceptions import ValidationError
from vcc_server import vcc_server_fixture  # noqa: F401 - the fixture

from wallboard.boards.models import Tenant
from wallboard.vcc import errors
from wallboard.vcc.client import VccClient, validate_base_url

STATS = "/api/rtstats/stats"
TOKEN = "s3cret-token-value"
PUBLIC = "93.184.216.34"


@pytest.mark.parametrize(
    "url",
    [
        "https://169.254.169.254",
        "https://169.254.169.254/latest/meta-data",
        "https://10.0.0.5",
        "https://172.16.0.1",
        "https://172.31.255.254:8443",
        "https://192.168.1.1",
        "https://100.64.0.1",  # carrier-grade NAT
        "https://0.0.0.0",
        "https://224.0.0.1",
        "https://255.255.255.255",
        "https://[fc00::1]",
        "https://[fd12:3456::1]",
        "https://[fe80::1]",
        "https://[ff02::1]",
        "https://[::]",
        "https://[::ffff:10.0.0.1]",
        "https://[::ffff:169.254.169.254]",
        "https://[2002:a00:1::1]",  # 6to4 around 10.0.0.1
        "https://2852039166",  # 169.254.169.254 as one number
        "https://0xa9fea9fe",
        "https://10.1",  # 10.0.0.1 in short
    ],
)
def test_it_refuses_private_link_local_and_reserved_addresses(url):
    with pytest.raises(errors.UnsafeError, match="private, link-local or reserved"):
        validate_base_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://vcc-na4.8x8.com",
        "https://8.8.8.8",
        "https://127.0.0.1",
        "http://127.0.0.1:8088",
        "http://127.1.2.3:8088",
        "https://localhost",
        "http://localhost:8088",
        "http://[::1]:8088",
        "https://[::ffff:127.0.0.1]",
    ],
)
def test_it_still_accepts_public_and_loopback_addresses(url):
    assert validate_base_url(url)


def test_it_refuses_them_when_a_tenant_is_saved(db):
    tenant = Tenant(name="Meta", base_url="https://169.254.169.254", tenant_name="acme", token=TOKEN)

    with pytest.raises(ValidationError) as caught:
        tenant.full_clean()

    assert "base_url" in caught.value.message_dict


def resolving_to(address: str, calls: list | None = None):
    """A getaddrinfo that answers every name with `address` (what a hostile DNS server does)."""
    real = socket.getaddrinfo

    def fake(host, port, family=0, type=0, proto=0, flags=0):
        if host in ("127.0.0.1", "localhost", "::1"):
            return real(host, port, family, type, proto, flags)
        if calls is not None:
            calls.append(host)
        if ":" in address:
            return [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port or 443, 0, 0))]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port or 443))]

    return fake


@pytest.mark.parametrize("address", ["10.0.0.7", "169.254.169.254", "::ffff:192.168.0.9", "fd00::7"])
def test_it_refuses_a_name_that_resolves_to_a_private_address(monkeypatch, address):
    calls: list[str] = []
    monkeypatch.setattr(socket, "getaddrinfo", resolving_to(address, calls))
    client = VccClient("https://wallboard-rebind.example", "acme", TOKEN, connect_timeout=0.5, read_timeout=0.5)

    with pytest.raises(errors.UnsafeError, match="resolves to .*private, link-local or reserved") as caught:
        client.agents()

    assert calls == ["wallboard-rebind.example"]  # looked up once, by the check: never connected
    assert "wallboard-rebind.example" in str(caught.value)


class FakeSocket:
    """What urllib3 gets after connecting: a socket whose peer is `peer`."""

    def __init__(self, peer: str):
        self.peer = peer
        self.closed = False

    def getpeername(self):
        return (self.peer, 443)

    def close(self):
        self.closed = True


def test_it_refuses_a_connection_that_lands_on_a_private_address(monkeypatch):
    # DNS rebinding: the check's lookup says public, the connection's own lookup says 10.x.
    monkeypatch.setattr(socket, "getaddrinfo", resolving_to(PUBLIC))
    sockets: list[FakeSocket] = []

    def connect(self):
        sockets.append(FakeSocket("10.0.0.7"))
        return sockets[-1]

    monkeypatch.setattr(urllib3.connection.HTTPConnection, "_new_conn", connect)
    client = VccClient("https://wallboard-rebind.example", "acme", TOKEN, connect_timeout=0.5, read_timeout=0.5)

    with pytest.raises(errors.UnsafeError, match="connected to 10.0.0.7"):
        client.agents()

    assert sockets and all(s.closed for s in sockets)


def test_it_still_talks_to_loopback_by_name(vcc_server):
    vcc_server.route(f"{STATS}/agents.json", b'{"agent": [{"agent-id": "ag1"}]}')
    url = vcc_server.url.replace("127.0.0.1", "localhost")

    assert [a.agent_id for a in VccClient(url, "acme", TOKEN).agents()] == ["ag1"]

"""Every page carries a Content-Security-Policy that admits only this site's own files.

Found in an attack on the running stack: no CSP at all. tests/browser/test_csp_in_chromium.py
proves in Chromium that the pages work under it; this checks the header itself.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User

from wallboard.boards.models import Board, Display, DisplayBoard, Tenant

pytestmark = pytest.mark.django_db

DIRECTIVES = {
    "default-src": "'self'",
    "script-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}


@pytest.fixture
def board():
    tenant = Tenant.objects.create(name="Acme", base_url="https://vcc-na4.8x8.com", tenant_name="acme", token="t0ken")
    return Board.objects.create(slug="support", title="Support", tenant=tenant)


@pytest.fixture
def staff(client):
    client.force_login(User.objects.create_user("sue", password="pw-sue-12345", is_staff=True, is_superuser=True))
    return client


def policy(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: " ".join(part.split()[1:]) for part in header.split(";") if part.strip()}


def assert_strict(response) -> None:
    directives = policy(response)
    for name, value in DIRECTIVES.items():
        assert directives[name] == value, name
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "unsafe-eval" not in response["Content-Security-Policy"]
    assert directives["connect-src"].startswith("'self'")


def test_it_sends_the_policy_with_the_kiosk(client, board):
    display = Display(name="Lobby TV")
    token = display.issue_token()
    display.save()
    DisplayBoard.objects.create(display=display, board=board)
    client.get(f"/d/{token}")
    response = client.get("/kiosk/")
    assert response.status_code == 200
    assert_strict(response)


@pytest.mark.parametrize("url", ["/", "/boards/support/", "/kiosk/support/", "/admin/", "/admin/boards/board/"])
def test_it_sends_the_policy_with_the_signed_in_pages(staff, board, url):
    response = staff.get(url)
    assert response.status_code == 200
    assert_strict(response)


def test_it_admits_the_sign_in_page_style_by_its_nonce_only(client):
    response = client.get("/accounts/login/")
    assert_strict(response)
    nonce = re.search(r'<style nonce="([^"]+)">', response.content.decode()).group(1)
    assert policy(response)["style-src"] == f"'self' 'nonce-{nonce}'"
    assert client.get("/accounts/login/")["Content-Security-Policy"] != response["Content-Security-Policy"], (
        "a fresh nonce per response"
    )


def test_it_lets_the_board_connect_to_its_own_websocket(client):
    connect = policy(client.get("/accounts/login/"))["connect-src"].split()
    assert connect[0] == "'self'"
    assert "ws://127.0.0.1:*" in connect and "ws://localhost:*" in connect


def test_it_names_websocket_sources_for_older_browsers():
    from wallboard.settings import csp_websocket_sources

    assert csp_websocket_sources(["wall.example.com"], ("wss",)) == ["wss://wall.example.com:*"]
    assert csp_websocket_sources([".example.com"], ("wss",)) == ["wss://example.com:*", "wss://*.example.com:*"]
    # Not expressible in CSP: 'self' covers them.
    assert csp_websocket_sources(["[::1]", "*", ""], ("ws", "wss")) == []

"""TVs: the /d/<token> exchange, the kiosk page, and display_url; the token never leaks."""

from __future__ import annotations

import io
import logging
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from wallboard.boards import access
from wallboard.boards.models import Board, Display, DisplayBoard, Tenant, hash_token


@pytest.fixture
def board(db):
    tenant = Tenant.objects.create(name="Acme", base_url="https://vcc-na4.8x8.com", tenant_name="acme", token="t0ken")
    return Board.objects.create(slug="support", title="Support", tenant=tenant)


@pytest.fixture
def issued(board):
    """A display for the board and its clear-text token."""
    display = Display(name="Lobby TV")
    token = display.issue_token()
    display.save()
    DisplayBoard.objects.create(display=display, board=board)
    return display, token


def test_it_swaps_the_token_for_a_cookie_and_redirects(client, issued):
    display, token = issued
    response = client.get(f"/d/{token}")
    assert response.status_code == 302
    assert response["Location"] == "/kiosk/"
    cookie = response.cookies[access.DISPLAY_COOKIE]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    assert int(cookie["max-age"]) >= 30 * 24 * 3600
    assert token not in cookie.value
    assert access.display_from_cookie(cookie.value) == display
    assert "no-store" in response["Cache-Control"]


def test_it_marks_the_cookie_secure_in_production(client, issued, settings):
    settings.DEBUG = False
    _, token = issued
    assert client.get(f"/d/{token}").cookies[access.DISPLAY_COOKIE]["secure"]


def test_it_shows_the_kiosk_page_for_the_cookie(client, issued):
    _, token = issued
    response = client.get(f"/d/{token}", follow=True)
    assert response.status_code == 200
    assert response.context["mode"] == "kiosk"
    assert response.context["board_slug"] == "support"
    assert response.context["rotation"] == []
    assert token not in response.content.decode()
    assert hash_token(token) not in response.content.decode()


def test_it_gives_the_kiosk_page_the_rotation(client, issued):
    display, token = issued
    sales = Board.objects.create(slug="sales", title="Sales", tenant=display.rotation.get().board.tenant)
    DisplayBoard.objects.create(display=display, board=sales, seconds=30, position=1)
    response = client.get(f"/d/{token}", follow=True)
    assert response.context["rotation"] == [
        {"slug": "support", "title": "Support", "seconds": 60, "ws_path": "/ws/boards/support/"},
        {"slug": "sales", "title": "Sales", "seconds": 30, "ws_path": "/ws/boards/sales/"},
    ]
    assert response.context["config"]["rotation"] == response.context["rotation"]


def test_it_refuses_a_wrong_token_without_echoing_it(client, board):
    response = client.get("/d/not-a-real-token-abcdef")
    assert response.status_code == 403
    assert "not-a-real-token-abcdef" not in response.content.decode()
    assert "not valid" in response.content.decode()
    assert access.DISPLAY_COOKIE not in response.cookies


def test_it_refuses_a_revoked_or_expired_token(client, issued):
    display, token = issued
    Display.objects.filter(pk=display.pk).update(revoked=timezone.now())
    assert client.get(f"/d/{token}").status_code == 403
    Display.objects.filter(pk=display.pk).update(revoked=None, expires=timezone.now() - timedelta(hours=1))
    assert client.get(f"/d/{token}").status_code == 403


def test_it_refuses_the_kiosk_without_a_valid_cookie(client, issued):
    assert client.get("/kiosk/").status_code == 403
    client.cookies[access.DISPLAY_COOKIE] = "forged"
    assert client.get("/kiosk/").status_code == 403


def test_it_closes_the_kiosk_once_the_display_is_revoked(client, issued):
    display, token = issued
    client.get(f"/d/{token}")
    assert client.get("/kiosk/").status_code == 200
    Display.objects.filter(pk=display.pk).update(revoked=timezone.now())
    assert client.get("/kiosk/").status_code == 403


def test_it_never_logs_the_token(client, issued, caplog):
    _, token = issued
    with caplog.at_level(logging.DEBUG):
        client.get(f"/d/{token}", follow=True)
        client.get(f"/d/{token}/")
        client.get("/kiosk/")
        client.get("/d/wrong-secret-value-xyz")
        client.get("/d/wrong-secret-value-xyz/")
    logged = "\n".join(record.getMessage() + str(record.__dict__) for record in caplog.records)
    assert token not in logged
    assert "wrong-secret-value-xyz" not in logged
    assert "display link refused" in logged  # refusals are still visible, just without the token


def test_it_records_the_display_seen_from_the_kiosk_page(client, issued):
    display, token = issued
    client.get(f"/d/{token}", follow=True, HTTP_USER_AGENT="LobbyTV/1.0")
    display.refresh_from_db()
    assert display.last_seen is not None
    assert display.user_agent == "LobbyTV/1.0"
    assert display.ip == "127.0.0.1"


def test_it_prints_a_kiosk_url_for_a_board(board, client):
    out = io.StringIO()
    call_command("display_url", "support", "--name", "Lobby", "--base-url", "https://wall.example.com/", stdout=out)
    url = out.getvalue().strip()
    assert url.startswith("https://wall.example.com/d/")
    token = url.rsplit("/", 1)[1]
    display = Display.objects.get(name="Lobby")
    assert display.token_hash == hash_token(token)
    assert display.board_slugs() == ["support"]
    assert client.get(f"/d/{token}").status_code == 302


def test_it_defaults_the_display_url_to_the_local_server(board, monkeypatch):
    monkeypatch.delenv("PORT", raising=False)
    monkeypatch.delenv("WALLBOARD_BASE_URL", raising=False)
    out = io.StringIO()
    call_command("display_url", "support", stdout=out)
    assert out.getvalue().startswith("http://127.0.0.1:8000/d/")
    assert Display.objects.get().name == "Support TV"


def test_it_rejects_an_unknown_board_slug(board):
    with pytest.raises(CommandError, match="no board with slug"):
        call_command("display_url", "nope")

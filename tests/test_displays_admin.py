"""Display admin: URLs shown once, revoke, reload and switch reach the TV live."""

from __future__ import annotations

import re

import pytest

from wallboard.boards import access
from wallboard.boards.models import Board, Display, DisplayBoard, Tenant, hash_token
from wallboard.live import publish

URL_RE = re.compile(r'value="(http://testserver/d/([A-Za-z0-9_-]+))"')


@pytest.fixture
def board(db):
    tenant = Tenant.objects.create(name="Acme", base_url="https://vcc-na4.8x8.com", tenant_name="acme", token="t0ken")
    return Board.objects.create(slug="support", title="Support", tenant=tenant)





def action(admin_client, name: str, displays: list[Display], **extra):
    data = {"action": name, "_selected_action": [d.pk for d in displays], **extra}
    return admin_client.post("/admin/boards/display/", data, follow=True)


def test_it_shows_the_url_once_when_a_display_is_added(admin_client, board, client):
    data = {
        "name": "Kitchen TV", "expires": "",
        "rotation-TOTAL_FORMS": "1", "rotation-INITIAL_FORMS": "0",
        "rotation-0-board": str(board.pk), "rotation-0-seconds": "60", "rotation-0-position": "0",
    }
    response = admin_client.post("/admin/boards/display/add/", data)
    assert response.status_code == 200
    url, token = URL_RE.search(response.content.decode()).groups()
    display = Display.objects.get(name="Kitchen TV")
    assert display.token_hash == hash_token(token)
    assert "no-store" in response["Cache-Control"]
    change_page = admin_client.get(f"/admin/boards/display/{display.pk}/change/").content.decode()
    assert token not in change_page
    assert client.get(url).status_code == 302


def test_it_issues_a_new_url_and_voids_the_old_one(admin_client, display, sent, client):
    old_cookie = access.make_display_cookie(display)
    response = action(admin_client, "issue_new_url", [display])
    url, token = URL_RE.search(response.content.decode()).groups()
    display.refresh_from_db()
    assert display.token_hash == hash_token(token)
    assert access.display_from_cookie(old_cookie) is None
    assert sent == [(display.pk, "revoke", {})]
    assert "shown only once" in response.content.decode()


def test_it_revives_a_revoked_display_with_a_new_url(admin_client, display, sent):
    action(admin_client, "revoke", [display])
    action(admin_client, "issue_new_url", [display])
    display.refresh_from_db()
    assert display.is_active


def test_it_revokes_and_disconnects(admin_client, display, sent, client):
    cookie = access.make_display_cookie(display)
    response = action(admin_client, "revoke", [display])
    display.refresh_from_db()
    assert display.revoked is not None
    assert not access.display_is_active(display.pk)
    assert access.display_from_cookie(cookie) is None
    assert sent == [(display.pk, "revoke", {})]
    assert "Revoked 1 display(s)." in [str(m) for m in response.context["messages"]]


def test_it_revokes_even_when_live_updates_are_down(admin_client, display, monkeypatch):
    def down(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(publish, "send_display_control", down)
    response = action(admin_client, "revoke", [display])
    display.refresh_from_db()
    assert display.revoked is not None
    assert any("within one poll cycle" in str(m) for m in response.context["messages"])


def test_it_reloads_a_display(admin_client, display, sent):
    response = action(admin_client, "reload_now", [display])
    assert sent == [(display.pk, "reload", {})]
    assert "Asked 1 display(s) to reload." in [str(m) for m in response.context["messages"]]


def test_it_asks_which_board_to_switch_to(admin_client, display, other_board, sent):
    response = action(admin_client, "switch_board", [display])
    body = response.content.decode()
    assert "Show this board on" in body
    assert f'<option value="{other_board.pk}">Sales</option>' in body
    assert sent == []


def test_it_switches_a_display_to_another_board(admin_client, display, other_board, sent):
    DisplayBoard.objects.create(display=display, board=other_board, position=1)
    action(admin_client, "switch_board", [display], apply="Switch", board=str(other_board.pk))
    assert display.board_slugs() == ["sales"]
    assert sent == [(display.pk, "switch", {"url": "/kiosk/"})]


def test_it_lists_displays_with_where_they_were_seen(admin_client, display):
    Display.objects.filter(pk=display.pk).update(ip="10.0.0.9", user_agent="LobbyTV/1.0")
    body = admin_client.get("/admin/boards/display/").content.decode()
    assert "10.0.0.9" in body and "LobbyTV/1.0" in body and "Active" in body

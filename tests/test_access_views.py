"""Supervisor pages: login required, only granted boards, the context the templates expect."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

import wallboard
from wallboard.boards.models import Board, Tenant


@pytest.fixture
def board(db):
    tenant = Tenant.objects.create(
        name="Acme", base_url="https://vcc-na4.8x8.com", tenant_name="acme", token="t0ken", poll_interval=15
    )
    return Board.objects.create(slug="support", title="Support", tenant=tenant, theme="light")


@pytest.fixture
def other_board(board):
    return Board.objects.create(slug="sales", title="Sales", tenant=board.tenant)


@pytest.fixture
def alice(db):
    return User.objects.create_user("alice", password="pw-alice-123")


def test_it_sends_anonymous_visitors_to_the_login_page(client, board):
    for url in ["/", "/boards/support/", "/kiosk/support/"]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")


def test_it_lists_only_granted_boards(client, alice, board, other_board):
    board.viewers.add(alice)
    client.force_login(alice)
    response = client.get("/")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'href="/boards/support/"' in body
    assert "/boards/sales/" not in body


def test_it_says_so_when_nothing_is_granted(client, alice, board):
    client.force_login(alice)
    assert "No boards have been shared with you" in client.get("/").content.decode()


def test_it_refuses_a_board_without_the_grant(client, alice, board):
    client.force_login(alice)
    assert client.get("/boards/support/").status_code == 403
    assert client.get("/kiosk/support/").status_code == 403
    assert client.get("/boards/nope/").status_code == 404


def test_it_renders_the_supervisor_view_with_the_documented_context(client, alice, board, other_board):
    board.viewers.add(alice)
    client.force_login(alice)
    response = client.get("/boards/support/")
    assert response.status_code == 200
    assert [t.name for t in response.templates][0] == "boards/supervisor.html"
    ctx = response.context
    assert ctx["board_slug"] == "support"
    assert ctx["board_title"] == "Support"
    assert ctx["ws_path"] == "/ws/boards/support/"
    assert ctx["version"] == wallboard.__version__
    assert ctx["cycle_seconds"] == 15
    assert ctx["theme"] == "light"
    assert ctx["mode"] == "supervisor"
    assert ctx["rotation"] == []
    assert ctx["boards"] == [{"slug": "support", "title": "Support", "url": "/boards/support/"}]
    assert ctx["user"] == alice
    assert ctx["config"] == {
        "board": "support", "ws_path": "/ws/boards/support/", "version": wallboard.__version__,
        "cycle_seconds": 15, "theme": "light", "mode": "supervisor", "rotation": [],
        "time_zone": board.tenant.time_zone,
    }


def test_it_previews_the_kiosk_layout_for_granted_users(client, alice, board):
    board.viewers.add(alice)
    client.force_login(alice)
    response = client.get("/kiosk/support/")
    assert response.status_code == 200
    assert response.context["mode"] == "kiosk"
    assert [t.name for t in response.templates][0] == "boards/kiosk.html"


def test_it_shows_staff_every_board(client, board, other_board):
    staff = User.objects.create_user("boss", is_staff=True)
    client.force_login(staff)
    assert client.get("/boards/sales/").status_code == 200
    assert [b["slug"] for b in client.get("/boards/sales/").context["boards"]] == ["sales", "support"]


def test_it_serves_a_login_page(client, db):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert 'name="password"' in response.content.decode()
    assert "csrfmiddlewaretoken" in response.content.decode()


def test_it_logs_a_supervisor_in(client, alice, board):
    board.viewers.add(alice)
    response = client.post("/accounts/login/", {"username": "alice", "password": "pw-alice-123", "next": "/boards/support/"})
    assert response.status_code == 302
    assert response["Location"] == "/boards/support/"

"""Who may see which board: grants, display cookies and the websocket handshake check."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser, Group, User
from django.utils import timezone

from wallboard.boards import access
from wallboard.boards.models import Board, Display, DisplayBoard, Tenant

ORIGIN = (b"origin", b"http://127.0.0.1:8000")
HOST = (b"host", b"127.0.0.1:8000")  # a browser always sends it; the Origin must match it


@pytest.fixture
def tenant(db):
    return Tenant.objects.create(name="Acme", base_url="https://vcc-na4.8x8.com", tenant_name="acme", token="t0ken")


@pytest.fixture
def board(tenant):
    return Board.objects.create(slug="support", title="Support", tenant=tenant)


@pytest.fixture
def other_board(tenant):
    return Board.objects.create(slug="sales", title="Sales", tenant=tenant)


@pytest.fixture
def display(board):
    display = Display(name="Lobby TV")
    display.issue_token()
    display.save()
    DisplayBoard.objects.create(display=display, board=board)
    return display


def scope(user=None, cookie: str | None = None, origin: tuple | None = ORIGIN, ua: bytes = b"TV/1.0") -> dict:
    headers = [(b"user-agent", ua), HOST]
    if origin is not None:
        headers.append(origin)
    cookies = {access.DISPLAY_COOKIE: cookie} if cookie is not None else {}
    return {"type": "websocket", "user": user or AnonymousUser(), "cookies": cookies, "headers": headers,
            "client": ("10.1.2.3", 50000)}


def test_it_lets_staff_see_every_board(board, other_board):
    staff = User.objects.create_user("boss", is_staff=True)
    assert access.user_can_view(staff, board)
    assert set(access.boards_for_user(staff)) == {board, other_board}


def test_it_shows_a_supervisor_only_granted_boards(board, other_board):
    alice = User.objects.create_user("alice")
    board.viewers.add(alice)
    assert access.user_can_view(alice, board)
    assert not access.user_can_view(alice, other_board)
    assert list(access.boards_for_user(alice)) == [board]


def test_it_grants_through_groups(board, other_board):
    bob = User.objects.create_user("bob")
    team = Group.objects.create(name="Support leads")
    bob.groups.add(team)
    board.viewer_groups.add(team)
    other_board.viewers.add(bob)
    assert access.user_can_view(bob, board)
    assert set(access.boards_for_user(bob)) == {board, other_board}
    assert access.boards_for_user(bob).count() == 2  # no duplicates from the joins


def test_it_shows_nothing_to_anonymous_or_inactive_users(board):
    ghost = User.objects.create_user("ghost", is_active=False, is_staff=True)
    assert not access.user_can_view(AnonymousUser(), board)
    assert not access.user_can_view(ghost, board)
    assert access.boards_for_user(AnonymousUser()).count() == 0


def test_it_round_trips_the_display_cookie(display):
    assert access.display_from_cookie(access.make_display_cookie(display)) == display


def test_it_rejects_a_forged_or_missing_cookie(display):
    value = access.make_display_cookie(display)
    forged = value.replace(f"{display.pk}:", f"{display.pk + 1}:", 1)
    assert access.display_from_cookie(forged) is None
    assert access.display_from_cookie(None) is None
    assert access.display_from_cookie("") is None
    assert access.display_from_cookie(f"{display.pk}:{display.token_hash[:16]}") is None  # unsigned


def test_it_voids_old_cookies_when_a_new_url_is_issued(display):
    old = access.make_display_cookie(display)
    display.issue_token()
    display.save()
    assert access.display_from_cookie(old) is None
    assert access.display_from_cookie(access.make_display_cookie(display)) == display


def test_it_rejects_the_cookie_of_a_revoked_or_expired_display(display):
    cookie = access.make_display_cookie(display)
    Display.objects.filter(pk=display.pk).update(expires=timezone.now() - timedelta(seconds=1))
    assert access.display_from_cookie(cookie) is None
    assert not access.display_is_active(display.pk)
    Display.objects.filter(pk=display.pk).update(expires=None, revoked=timezone.now())
    assert access.display_from_cookie(cookie) is None
    assert not access.display_is_active(display.pk)


def test_it_reports_an_active_display(display):
    Display.objects.filter(pk=display.pk).update(expires=timezone.now() + timedelta(days=1))
    assert access.display_is_active(display.pk)
    assert not access.display_is_active(display.pk + 1000)


def test_it_admits_a_display_to_its_board(display, board):
    result = access.authorize_websocket(scope(cookie=access.make_display_cookie(display)), "support")
    assert result == access.Access(True, "display", board_id=board.pk, display_id=display.pk, user_id=None,
                                   token_prefix=display.token_hash[:access.HASH_PREFIX_LENGTH])


def test_it_refuses_a_display_on_another_board(display, other_board):
    result = access.authorize_websocket(scope(cookie=access.make_display_cookie(display)), "sales")
    assert not result.allowed
    assert "rotation" in result.reason


def test_it_admits_a_display_to_every_board_of_its_rotation(display, other_board):
    DisplayBoard.objects.create(display=display, board=other_board, position=1)
    assert access.authorize_websocket(scope(cookie=access.make_display_cookie(display)), "sales").allowed


def test_it_refuses_a_wrong_token_cookie(display):
    assert not access.authorize_websocket(scope(cookie="garbage"), "support").allowed
    assert not access.authorize_websocket(scope(), "support").allowed


def test_it_refuses_a_revoked_display(display):
    cookie = access.make_display_cookie(display)
    Display.objects.filter(pk=display.pk).update(revoked=timezone.now())
    assert not access.authorize_websocket(scope(cookie=cookie), "support").allowed


def test_it_refuses_an_expired_display(display):
    cookie = access.make_display_cookie(display)
    Display.objects.filter(pk=display.pk).update(expires=timezone.now() - timedelta(minutes=1))
    assert not access.authorize_websocket(scope(cookie=cookie), "support").allowed


def test_it_refuses_a_foreign_or_missing_origin(display, board):
    cookie = access.make_display_cookie(display)
    staff = User.objects.create_user("boss", is_staff=True)
    foreign = (b"origin", b"https://evil.example.com")
    assert access.authorize_websocket(scope(cookie=cookie, origin=foreign), "support").reason == "foreign or missing Origin"
    assert not access.authorize_websocket(scope(user=staff, origin=foreign), "support").allowed
    assert not access.authorize_websocket(scope(user=staff, origin=None), "support").allowed


def test_it_admits_a_granted_user_and_refuses_one_without_the_grant(board):
    alice = User.objects.create_user("alice")
    result = access.authorize_websocket(scope(user=alice), "support")
    assert not result.allowed
    assert result.reason == "user has no grant for this board"
    board.viewers.add(alice)
    result = access.authorize_websocket(scope(user=alice), "support")
    assert result == access.Access(True, "session", board_id=board.pk, display_id=None, user_id=alice.pk)


def test_it_refuses_an_unknown_board(display):
    result = access.authorize_websocket(scope(cookie=access.make_display_cookie(display)), "nope")
    assert not result.allowed
    assert result.reason == "unknown board"


def test_it_records_where_a_display_connects_from_at_most_once_a_minute(display):
    cookie = access.make_display_cookie(display)
    access.authorize_websocket(scope(cookie=cookie, ua=b"SmartTV/2"), "support")
    display.refresh_from_db()
    assert (display.user_agent, display.ip) == ("SmartTV/2", "10.1.2.3")
    first_seen = display.last_seen
    assert first_seen is not None
    access.authorize_websocket(scope(cookie=cookie, ua=b"Other/3"), "support")
    display.refresh_from_db()
    assert (display.last_seen, display.user_agent) == (first_seen, "SmartTV/2")
    Display.objects.filter(pk=display.pk).update(last_seen=first_seen - timedelta(minutes=2))
    access.authorize_websocket(scope(cookie=cookie, ua=b"Other/3"), "support")
    display.refresh_from_db()
    assert display.user_agent == "Other/3"


def test_it_reads_the_cookie_header_when_no_middleware_parsed_it(display):
    raw = scope()
    del raw["cookies"]
    raw["headers"].append((b"cookie", f"{access.DISPLAY_COOKIE}={access.make_display_cookie(display)}".encode()))
    assert access.authorize_websocket(raw, "support").allowed

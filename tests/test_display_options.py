"""Display options (issue 20): a display link's ?palette, ?lite, ?shift and ?theme reach the
TV's kiosk page through the token exchange; nothing else of the query does."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from wallboard.boards.models import Board, Display, DisplayBoard, Tenant


@pytest.fixture
def token(db):
    tenant = Tenant.objects.create(name="Acme", base_url="https://vcc-na4.8x8.com", tenant_name="acme", token="t0ken")
    board = Board.objects.create(slug="support", title="Support", tenant=tenant)
    display = Display(name="Lobby TV")
    token = display.issue_token()
    display.save()
    DisplayBoard.objects.create(display=display, board=board)
    return token


def test_it_carries_the_display_options_to_the_kiosk(client, token):
    response = client.get(f"/d/{token}?lite=1&palette=cb&shift=2&theme=light")
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == "/kiosk/"
    assert parse_qs(location.query) == {"lite": ["1"], "palette": ["cb"], "shift": ["2"], "theme": ["light"]}


def test_it_passes_on_nothing_else_and_cuts_long_values(client, token):
    response = client.get(f"/d/{token}?next=https://evil.example/&palette={'x' * 500}&token={token}")
    location = urlsplit(response["Location"])
    assert parse_qs(location.query) == {"palette": ["x" * 8]}
    assert token not in response["Location"]


def test_it_keeps_a_plain_link_plain(client, token):
    assert client.get(f"/d/{token}")["Location"] == "/kiosk/"


def test_it_serves_the_kiosk_page_with_its_options(client, token):
    page = client.get(f"/d/{token}?lite=1", follow=True)
    assert page.status_code == 200
    assert page.redirect_chain[-1][0] == "/kiosk/?lite=1"
    assert "display-options.css" in page.content.decode()

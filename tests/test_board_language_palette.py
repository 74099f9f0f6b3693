"""A board's language and palette (issue 20): TVs speak the board's language unless their link
names one; the palette reaches every page of the board; supervisors keep their browser's language."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from wallboard.boards.forms import BoardForm
from wallboard.boards.models import Board, Display, DisplayBoard, Tenant


@pytest.fixture
def board(db):
    tenant = Tenant.objects.create(name="Acme", base_url="https://vcc-na4.8x8.com", tenant_name="acme", token="t0ken")
    return Board.objects.create(slug="support", title="Support", tenant=tenant, language="de", palette="cb")


@pytest.fixture
def tv(client, board):
    display = Display(name="Lobby TV")
    token = display.issue_token()
    display.save()
    DisplayBoard.objects.create(display=display, board=board)
    client.get(f"/d/{token}")  # sets the display cookie
    return client


def test_it_shows_the_kiosk_in_the_boards_language(tv):
    page = tv.get("/kiosk/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="de"' in page
    assert '"lang": "de"' in page  # the script strings' catalogue is German too


def test_it_lets_the_display_link_name_another_language(tv):
    page = tv.get("/kiosk/?lang=fr", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="fr"' in page


def test_it_falls_back_to_the_browser_when_the_board_names_no_language(tv, board):
    Board.objects.filter(pk=board.pk).update(language="")
    page = tv.get("/kiosk/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert '<html lang="es"' in page


def test_it_keeps_the_supervisors_browser_language(client, board):
    user = User.objects.create_user("sup", password="pw-123456789")
    board.viewers.add(user)
    client.force_login(user)
    page = client.get(f"/boards/{board.slug}/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert '<html lang="fr"' in page


def test_it_marks_the_boards_palette_on_every_page(tv, client, board):
    assert 'data-board-palette="cb"' in tv.get("/kiosk/").content.decode()
    Board.objects.filter(pk=board.pk).update(palette="default")
    assert "data-board-palette" not in tv.get("/kiosk/").content.decode()


def test_it_keeps_the_stored_palette_when_a_form_leaves_it_out(board):
    data = {
        "slug": board.slug, "title": board.title, "tenant": board.tenant_id, "theme": "dark",
        "queue_metrics": ["queue_size"], "page_seconds": 12, "language": "de",
    }
    form = BoardForm(data, instance=board)
    assert form.is_valid(), form.errors
    assert form.save().palette == "cb"


def test_it_refuses_an_unknown_language(board):
    data = {
        "slug": board.slug, "title": board.title, "tenant": board.tenant_id, "theme": "dark",
        "queue_metrics": ["queue_size"], "page_seconds": 12, "language": "xx", "palette": "cb",
    }
    form = BoardForm(data, instance=board)
    assert not form.is_valid()
    assert "language" in form.errors

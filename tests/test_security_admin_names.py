"""Long 8x8 names (untrusted) are cut in admin selects, keep their full text as a tooltip, and save."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings

from wallboard.boards.models import Board, Tenant
from wallboard.polling.catalogue import update_catalogue

LONG = "Q" * 10_000
LONG_ID = "9" * 60
CATALOGUE = {
    "queues": [
        {"id": "115", "name": "Support", "media_type": "phone"},
        {"id": LONG_ID, "name": LONG, "media_type": "phone"},
        {"id": "116", "name": "Sales " * 2_000, "media_type": "chat"},
    ],
    "agent_groups": [{"id": "101", "name": "G" * 10_000}],
    "schedules": [{"id": "7", "name": "S" * 10_000}],
    "as_of": "2026-11-22T10:00:00+00:00",
}


class Options(HTMLParser):
    """Every <option> of the page, per select name: (value, title, label)."""

    def __init__(self, html: str):
        super().__init__()
        self.by_select: dict[str, list[dict]] = {}
        self._select: str | None = None
        self._option: dict | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "select":
            self._select = attrs.get("name", "")
            self.by_select.setdefault(self._select, [])
        elif tag == "option" and self._select is not None:
            self._option = {"value": attrs.get("value"), "title": attrs.get("title"), "label": ""}
            self.by_select[self._select].append(self._option)

    def handle_data(self, data):
        if self._option is not None:
            self._option["label"] += data

    def handle_endtag(self, tag):
        if tag == "option":
            self._option = None
        elif tag == "select":
            self._select = None

    def of(self, select: str) -> dict[str, dict]:
        return {option["value"]: option for option in self.by_select[select]}


@pytest.fixture
def tenant(db, redis_client):
    tenant = Tenant.objects.create(name="Acme", base_url="https://vcc-na4.8x8.com", tenant_name="acme", token="t0ken")
    update_catalogue(tenant.pk, **CATALOGUE)
    return tenant


@pytest.fixture
def page(admin_client, tenant) -> Options:
    response = admin_client.get(f"/admin/boards/board/add/?tenant={tenant.pk}")
    assert response.status_code == 200
    return Options(response.content.decode())


def test_it_cuts_a_long_queue_name_and_keeps_the_value_intact(page):
    options = page.of("queues-__prefix__-queue_id")
    long = options[LONG_ID]
    assert len(long["label"]) <= 100
    assert long["label"].startswith("QQQQ") and long["label"].endswith("…")
    assert options["115"]["label"] == "Support (115, phone)" and options["115"]["title"] is None


def test_it_keeps_the_queue_id_visible_when_the_name_is_cut(page):
    label = page.of("queues-__prefix__-queue_id")["116"]["label"]
    assert label.endswith("… (116, chat)") and len(label) <= 100


def test_it_gives_the_full_name_as_a_tooltip(page):
    title = page.of("queues-__prefix__-queue_id")["116"]["title"]
    assert title.startswith("Sales Sales") and len(title) > 100


def test_it_cuts_long_names_in_every_catalogue_select(page):
    selects = [
        ("queues-__prefix__-schedule_id", "7"),
        ("agent_groups-__prefix__-group_id", "101"),
        ("queue_groups-__prefix__-queue_ids", LONG_ID),
        ("agent_groups-__prefix__-queue_ids", LONG_ID),
        ("thresholds-__prefix__-queue_id", LONG_ID),
    ]
    for select, value in selects:
        option = page.of(select)[value]
        assert len(option["label"]) <= 100, select
        assert option["label"].endswith("…") or option["label"].endswith(")"), select
        assert option["title"], select


def test_it_keeps_the_board_form_small(admin_client, tenant):
    body = admin_client.get(f"/admin/boards/board/add/?tenant={tenant.pk}").content.decode()
    # Each inline's template row repeats every option: uncut names made this megabytes.
    assert len(body) < 100_000  # about 50 kB with the names cut, 150 kB without


def test_it_saves_a_board_with_long_named_queues_and_groups(admin_client, tenant):
    data = {
        "title": "Support floor", "slug": "support", "tenant": str(tenant.pk), "theme": "dark",
        "queue_metrics": ["queue_size"], "page_seconds": "12",
        "queues-TOTAL_FORMS": "1", "queues-INITIAL_FORMS": "0",
        "queues-0-queue_id": LONG_ID, "queues-0-schedule_id": "7", "queues-0-position": "0",
        "queue_groups-TOTAL_FORMS": "0", "queue_groups-INITIAL_FORMS": "0",
        "agent_groups-TOTAL_FORMS": "1", "agent_groups-INITIAL_FORMS": "0", "agent_groups-0-group_id": "101",
        "thresholds-TOTAL_FORMS": "0", "thresholds-INITIAL_FORMS": "0",
    }
    response = admin_client.post("/admin/boards/board/add/", data)
    assert response.status_code == 302
    board = Board.objects.get()
    assert board.queues.get().queue_id == LONG_ID
    name = board.agent_groups.get().name
    assert name.startswith("GGG") and name.endswith("…") and len(name) <= 100


def test_it_styles_every_admin_form_against_wide_selects(admin_client, tenant):
    css = Path(settings.BASE_DIR, "static", "wallboard", "css", "admin.css").read_text()
    assert "max-width" in css
    for url in ["/admin/boards/board/add/", f"/admin/boards/tenant/{tenant.pk}/change/", "/admin/boards/display/add/"]:
        assert "wallboard/css/admin.css" in admin_client.get(url).content.decode(), url

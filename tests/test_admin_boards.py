"""Board admin: choices from the tenant's catalogue, clear validation, preview links."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from wallboard.boards.models import Board, BoardQueue, QueueGroup, Tenant, Threshold
from wallboard.polling.catalogue import update_catalogue

CATALOGUE = {
    "queues": [
        {"id": "115", "name": "Support", "media_type": "phone"},
        {"id": "116", "name": "Sales", "media_type": "phone"},
        {"id": "200", "name": "Chat", "media_type": "chat"},
    ],
    "agent_groups": [{"id": "101", "name": "Group 101"}],
    "schedules": [{"id": "7", "name": "Office hours"}],
    "as_of": "2026-11-22T10:00:00+00:00",
}
INLINES = {"queues": 0, "queue_groups": 0, "agent_groups": 0, "thresholds": 0}


@pytest.fixture
def tenant(db, redis_client):
    return Tenant.objects.create(name="Acme", base_url="https://vcc-na4.8x8.com", tenant_name="acme", token="t0ken")


@pytest.fixture
def catalogue(tenant):
    update_catalogue(tenant.pk, **CATALOGUE)
    return CATALOGUE


def board_post(tenant: Tenant, rows: dict[str, list[dict]] | None = None, **changes) -> dict:
    """A complete board change form, inline management forms included."""
    data = {
        "title": "Support floor",
        "slug": "support",
        "tenant": str(tenant.pk),
        "theme": "dark",
        "queue_metrics": ["queue_size", "longest_wait_time"],
        "show_agents": "on",
        "page_seconds": "12",
    }
    rows = rows or {}
    for prefix in INLINES:
        items = rows.get(prefix, [])
        data[f"{prefix}-TOTAL_FORMS"] = str(len(items))
        data[f"{prefix}-INITIAL_FORMS"] = "0"
        for index, item in enumerate(items):
            if prefix in ("queues", "queue_groups"):
                item = {"position": str(index), **item}
            for key, value in item.items():
                data[f"{prefix}-{index}-{key}"] = value
    data.update(changes)
    return data


def errors_of(response) -> str:
    """Every error shown on the page: main form, inline forms and formsets."""
    parts = [str(response.context["adminform"].form.errors)]
    for inline in response.context["inline_admin_formsets"]:
        parts.append(str(inline.formset.non_form_errors()))
        parts.extend(str(form.errors) for form in inline.formset.forms)
    return "\n".join(parts)


def test_it_offers_queues_and_schedules_from_the_catalogue(admin_client, catalogue, tenant):
    body = admin_client.get(f"/admin/boards/board/add/?tenant={tenant.pk}").content.decode()
    assert '<option value="115">Support (115, phone)</option>' in body
    assert '<option value="7">Office hours</option>' in body
    assert '<option value="101">Group 101</option>' in body


def test_it_falls_back_to_text_input_without_a_catalogue(admin_client, tenant):
    body = admin_client.get(f"/admin/boards/board/add/?tenant={tenant.pk}").content.decode()
    assert "Test the connection or wait for the first poll to get choices." in body
    assert 'name="queues-__prefix__-queue_id"' in body and 'type="text"' in body


def test_it_saves_a_board_with_queues_groups_and_thresholds(admin_client, catalogue, tenant):
    rows = {
        "queues": [{"queue_id": "115", "schedule_id": "7", "position": "0"}, {"queue_id": "116", "position": "1"}],
        "queue_groups": [{"name": "All phone", "queue_ids": ["115", "116"], "position": "0"}],
        "agent_groups": [{"group_id": "101"}],
        "thresholds": [{"metric": "queue_size", "queue_id": "", "direction": "above", "warn": "3", "alert": "6"}],
    }
    response = admin_client.post("/admin/boards/board/add/", board_post(tenant, rows))
    assert response.status_code == 302, errors_of(response)
    board = Board.objects.get()
    assert board.queue_metrics == ["queue_size", "longest_wait_time"]
    assert list(board.queues.values_list("queue_id", "schedule_id")) == [("115", "7"), ("116", "")]
    assert board.queue_groups.get().queue_ids == ["115", "116"]
    assert board.agent_groups.get().name == "Group 101"
    assert board.thresholds.get().alert == 6


def test_it_rejects_a_warn_level_beyond_the_alert_level(admin_client, catalogue, tenant):
    rows = {"thresholds": [{"metric": "queue_size", "direction": "above", "warn": "8", "alert": "6"}]}
    response = admin_client.post("/admin/boards/board/add/", board_post(tenant, rows))
    assert response.status_code == 200
    assert "the warn level must be below the alert level" in errors_of(response)
    assert not Board.objects.exists()


def test_it_rejects_a_queue_of_another_tenant(admin_client, catalogue, tenant):
    response = admin_client.post("/admin/boards/board/add/", board_post(tenant, {"queues": [{"queue_id": "999"}]}))
    assert response.status_code == 200
    assert "999 is not one of the queues of tenant “Acme”" in errors_of(response)


def test_it_rejects_a_duplicate_queue(admin_client, catalogue, tenant):
    rows = {"queues": [{"queue_id": "115", "position": "0"}, {"queue_id": "115", "position": "1"}]}
    response = admin_client.post("/admin/boards/board/add/", board_post(tenant, rows))
    assert response.status_code == 200
    assert "Queue 115 is already on this board." in errors_of(response)


def test_it_rejects_a_group_with_no_queues(admin_client, catalogue, tenant):
    rows = {"queue_groups": [{"name": "Empty", "position": "0"}]}
    response = admin_client.post("/admin/boards/board/add/", board_post(tenant, rows))
    assert response.status_code == 200
    assert "Choose at least one queue for the group." in errors_of(response)


def test_it_rejects_an_empty_group_typed_by_hand(admin_client, tenant):
    rows = {"queue_groups": [{"name": "Empty", "queue_ids": " , ", "position": "0"}]}
    response = admin_client.post("/admin/boards/board/add/", board_post(tenant, rows))
    assert "Choose at least one queue for the group." in errors_of(response)


def test_it_accepts_typed_ids_without_a_catalogue(admin_client, tenant):
    rows = {"queues": [{"queue_id": "115", "schedule_id": "9"}], "queue_groups": [{"name": "G", "queue_ids": "115, 116"}]}
    response = admin_client.post("/admin/boards/board/add/", board_post(tenant, rows))
    assert response.status_code == 302, errors_of(response)
    assert QueueGroup.objects.get().queue_ids == ["115", "116"]


def test_it_validates_the_metrics_list(admin_client, catalogue, tenant):
    response = admin_client.post("/admin/boards/board/add/", board_post(tenant, queue_metrics=["queue_size", "bogus"]))
    assert "bogus is not a known queue metric." in errors_of(response)
    response = admin_client.post("/admin/boards/board/add/", board_post(tenant, queue_metrics=[]))
    assert "Choose at least one metric" in errors_of(response)


def test_it_keeps_saved_ids_valid_after_they_leave_the_catalogue(admin_client, tenant, catalogue):
    board = Board.objects.create(slug="support", title="Support", tenant=tenant)
    BoardQueue.objects.create(board=board, queue_id="300", schedule_id="8")
    body = admin_client.get(f"/admin/boards/board/{board.pk}/change/").content.decode()
    assert "300 (not seen upstream lately)" in body
    data = board_post(tenant, {"queues": [{"queue_id": "300", "schedule_id": "8", "id": str(board.queues.get().pk)}]})
    data["queues-INITIAL_FORMS"] = "1"
    data["queues-0-board"] = str(board.pk)
    response = admin_client.post(f"/admin/boards/board/{board.pk}/change/", data)
    assert response.status_code == 302, errors_of(response)


def test_it_does_not_carry_saved_ids_to_another_tenant(admin_client, tenant, catalogue):
    other = Tenant.objects.create(name="Other", base_url="https://vcc-eu2.8x8.com", tenant_name="o", token="x")
    update_catalogue(other.pk, queues=[{"id": "500", "name": "Elsewhere", "media_type": "phone"}])
    board = Board.objects.create(slug="support", title="Support", tenant=tenant)
    queue = BoardQueue.objects.create(board=board, queue_id="115")
    data = board_post(other, {"queues": [{"queue_id": "115", "id": str(queue.pk), "board": str(board.pk)}]})
    data["queues-INITIAL_FORMS"] = "1"
    response = admin_client.post(f"/admin/boards/board/{board.pk}/change/", data)
    assert "115 is not one of the queues of tenant “Other”" in errors_of(response)


def test_it_links_to_previews(admin_client, tenant):
    board = Board.objects.create(slug="support", title="Support", tenant=tenant)
    assert 'href="/boards/support/"' in admin_client.get("/admin/boards/board/").content.decode()
    body = admin_client.get(f"/admin/boards/board/{board.pk}/change/").content.decode()
    assert 'href="/kiosk/support/"' in body


def test_it_keeps_admin_for_staff(client, tenant):
    supervisor = User.objects.create_user("alice", password="pw")
    client.force_login(supervisor)
    response = client.get("/admin/boards/board/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert client.get("/admin/boards/tenant/").status_code == 302


def test_it_allows_thresholds_per_queue(admin_client, catalogue, tenant):
    rows = {"thresholds": [
        {"metric": "queue_size", "queue_id": "", "direction": "above", "warn": "3", "alert": "6"},
        {"metric": "queue_size", "queue_id": "115", "direction": "above", "warn": "1", "alert": "2"},
        {"metric": "sla_activity", "queue_id": "", "direction": "below", "warn": "80", "alert": "60"},
    ]}
    response = admin_client.post("/admin/boards/board/add/", board_post(tenant, rows))
    assert response.status_code == 302, errors_of(response)
    assert Threshold.objects.count() == 3


def test_it_rejects_a_duplicate_threshold(admin_client, catalogue, tenant):
    row = {"metric": "queue_size", "queue_id": "115", "direction": "above", "warn": "3", "alert": "6"}
    response = admin_client.post("/admin/boards/board/add/", board_post(tenant, {"thresholds": [row, dict(row)]}))
    assert "There is already a threshold for queue_size on queue “115”." in errors_of(response)


def test_it_saves_the_queues_an_agent_group_answers(admin_client, catalogue, tenant):
    from wallboard.boards.selectors import board_configs_for_tenant

    rows = {"queues": [{"queue_id": "115"}], "agent_groups": [{"group_id": "101", "queue_ids": ["115", "116"]}]}
    response = admin_client.post("/admin/boards/board/add/", board_post(tenant, rows))
    assert response.status_code == 302, errors_of(response)
    assert Board.objects.get().agent_groups.get().queue_ids == ["115", "116"]
    assert board_configs_for_tenant(tenant)[0].agent_group_queues == {"101": ("115", "116")}


def test_it_takes_an_agent_group_without_queues_or_typed_ones(admin_client, tenant):
    rows = {"agent_groups": [{"group_id": "101", "queue_ids": ""}, {"group_id": "102", "queue_ids": "115, 116,115"}]}
    response = admin_client.post("/admin/boards/board/add/", board_post(tenant, rows))
    assert response.status_code == 302, errors_of(response)
    groups = dict(Board.objects.get().agent_groups.values_list("group_id", "queue_ids"))
    assert groups == {"101": [], "102": ["115", "116"]}


def test_it_rejects_an_agent_group_queue_of_another_tenant(admin_client, catalogue, tenant):
    rows = {"agent_groups": [{"group_id": "101", "queue_ids": ["999"]}]}
    response = admin_client.post("/admin/boards/board/add/", board_post(tenant, rows))
    assert response.status_code == 200
    assert "999" in errors_of(response) and not Board.objects.exists()


def test_it_marks_a_saved_schedule_that_8x8_no_longer_lists(admin_client, catalogue, tenant):
    board = Board.objects.create(slug="support", title="Support", tenant=tenant)
    BoardQueue.objects.create(board=board, queue_id="115", schedule_id="123")
    response = admin_client.get(f"/admin/boards/board/{board.pk}/change/")
    body = response.content.decode()
    assert '<option value="123" selected>123 (schedule missing in 8x8)</option>' in body
    warnings = [str(m) for m in response.context["messages"] if m.level_tag == "warning"]
    assert len(warnings) == 1
    assert "Support (115, phone)" in warnings[0] and "schedule 123, which 8x8 no longer lists" in warnings[0]


def test_it_does_not_warn_about_schedules_it_has_not_read_yet(admin_client, tenant):
    update_catalogue(tenant.pk, **{**CATALOGUE, "schedules": []})
    board = Board.objects.create(slug="support", title="Support", tenant=tenant)
    BoardQueue.objects.create(board=board, queue_id="115", schedule_id="123")
    BoardQueue.objects.create(board=board, queue_id="116", schedule_id="7")
    response = admin_client.get(f"/admin/boards/board/{board.pk}/change/")
    assert not [m for m in response.context["messages"] if m.level_tag == "warning"]


def test_it_does_not_warn_about_a_listed_schedule(admin_client, catalogue, tenant):
    board = Board.objects.create(slug="support", title="Support", tenant=tenant)
    BoardQueue.objects.create(board=board, queue_id="115", schedule_id="7")
    response = admin_client.get(f"/admin/boards/board/{board.pk}/change/")
    assert not [m for m in response.context["messages"] if m.level_tag == "warning"]
    assert "schedule missing" not in response.content.decode()

"""Admin actions and buttons need the change permission: a view-only staff user can only look."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User

from wallboard.boards.models import Board, Tenant, hash_token
from wallboard.polling import clients
from wallboard.polling.catalogue import get_catalogue
from wallboard.vcc.records import Agent, Queue, Schedule

SECRET = "s3cr3t-data-request-token"
VIEW = ["view_display", "view_tenant", "view_board"]
CHANGE = [*VIEW, "change_display", "change_tenant", "change_board"]


def staff(client, username: str, codenames: list[str]):
    """A logged-in staff client holding exactly these permissions."""
    user = User.objects.create_user(username, password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="boards", codename__in=codenames))
    client.force_login(user)
    return client


@pytest.fixture
def viewer(db, client):
    return staff(client, "viewer", VIEW)


@pytest.fixture
def editor(db, client):
    return staff(client, "editor", CHANGE)


@pytest.fixture
def tenant(db, redis_client):
    return Tenant.objects.create(name="Acme", base_url="https://vcc-na4.8x8.com", tenant_name="acme", token=SECRET)


@pytest.fixture
def board(tenant):
    return Board.objects.create(slug="support", title="Support", tenant=tenant)





class FakeClient:
    """Stands in for 8x8 and counts the calls."""

    calls = 0

    def agents(self):
        FakeClient.calls += 1
        return [Agent(agent_id="a1", group_id="101")]

    def queues(self):
        return [Queue(queue_id="115", queue_name="Support", media_type="phone")]

    def schedules(self):
        return [Schedule(id="7", name="Office hours")]


@pytest.fixture
def upstream(monkeypatch):
    FakeClient.calls = 0
    monkeypatch.setattr(clients, "client_for", lambda tenant: FakeClient())
    return FakeClient


def post_action(client, model: str, name: str, pk: int, **extra):
    """Post an action to a changelist by hand, as a script would (no form offered it)."""
    return client.post(f"/admin/boards/{model}/", {"action": name, "_selected_action": [pk], **extra}, follow=True)


def test_it_refuses_a_new_url_to_a_view_only_user(viewer, display, sent):
    before = display.token_hash
    response = post_action(viewer, "display", "issue_new_url", display.pk)
    display.refresh_from_db()
    assert display.token_hash == before
    assert "/d/" not in response.content.decode()
    assert sent == []


def test_it_refuses_to_revoke_for_a_view_only_user(viewer, display, sent):
    post_action(viewer, "display", "revoke", display.pk)
    display.refresh_from_db()
    assert display.revoked is None
    assert sent == []


def test_it_refuses_to_reload_for_a_view_only_user(viewer, display, sent):
    post_action(viewer, "display", "reload_now", display.pk)
    assert sent == []


def test_it_refuses_to_switch_boards_for_a_view_only_user(viewer, display, other_board, sent):
    asked = post_action(viewer, "display", "switch_board", display.pk)
    assert "Show this board on" not in asked.content.decode()
    post_action(viewer, "display", "switch_board", display.pk, apply="Switch", board=str(other_board.pk))
    assert display.board_slugs() == ["support"]
    assert sent == []


def test_it_refuses_to_test_a_connection_for_a_view_only_user(viewer, tenant, upstream):
    post_action(viewer, "tenant", "test_connection", tenant.pk)
    assert viewer.post(f"/admin/boards/tenant/{tenant.pk}/test-connection/").status_code == 403
    assert upstream.calls == 0
    assert get_catalogue(tenant.pk)["queues"] == []


def test_it_does_not_offer_actions_or_the_test_button_to_a_view_only_user(viewer, display, tenant):
    displays = viewer.get("/admin/boards/display/").content.decode()
    assert "issue_new_url" not in displays and "switch_board" not in displays
    page = viewer.get(f"/admin/boards/tenant/{tenant.pk}/change/").content.decode()
    assert "test-connection" not in page


def test_it_does_not_show_the_token_to_a_view_only_user(viewer, tenant):
    page = viewer.get(f"/admin/boards/tenant/{tenant.pk}/change/")
    assert page.status_code == 200
    body = page.content.decode()
    assert SECRET not in body
    assert "Stored encrypted; never shown." in body


def test_it_does_not_tell_a_user_without_change_permission_which_tenants_exist(viewer, tenant):
    assert viewer.post("/admin/boards/tenant/999999/test-connection/").status_code == 403


def test_it_still_lets_a_user_with_change_permission_act(editor, display, other_board, tenant, sent, upstream):
    response = post_action(editor, "display", "issue_new_url", display.pk)
    assert "shown only once" in response.content.decode()
    display.refresh_from_db()
    token = response.content.decode().split("/d/", 1)[1].split('"', 1)[0]
    assert display.token_hash == hash_token(token)
    post_action(editor, "display", "reload_now", display.pk)
    post_action(editor, "display", "switch_board", display.pk, apply="Switch", board=str(other_board.pk))
    assert display.board_slugs() == ["sales"]
    post_action(editor, "display", "revoke", display.pk)
    display.refresh_from_db()
    assert display.revoked is not None
    assert [action for _, action, _ in sent] == ["revoke", "reload", "switch", "revoke"]
    post_action(editor, "tenant", "test_connection", tenant.pk)
    editor.post(f"/admin/boards/tenant/{tenant.pk}/test-connection/")
    assert upstream.calls == 2
    assert "test-connection" in editor.get(f"/admin/boards/tenant/{tenant.pk}/change/").content.decode()


def test_it_lets_an_editor_edit_the_token_without_seeing_it(editor, tenant):
    body = editor.get(f"/admin/boards/tenant/{tenant.pk}/change/").content.decode()
    assert 'type="password"' in body and SECRET not in body


def test_it_declares_a_permission_for_every_action():
    from django.contrib import admin

    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label != "boards":
            continue
        for name in model_admin.actions or []:
            func = getattr(model_admin, name) if isinstance(name, str) else name
            assert getattr(func, "allowed_permissions", None), f"{model.__name__} action {name} needs a permission"


def test_it_lets_a_user_who_may_only_add_enter_a_token(db, client, redis_client):
    adder = staff(client, "adder", ["add_tenant", "view_tenant"])
    data = {
        "name": "Acme", "base_url": "https://vcc-na4.8x8.com", "tenant_name": "acme", "token": SECRET,
        "time_zone": "UTC", "response_format": "json", "poll_interval": "10", "schedule_refresh_interval": "300",
    }
    assert 'type="password"' in adder.get("/admin/boards/tenant/add/").content.decode()
    assert adder.post("/admin/boards/tenant/add/", data).status_code == 302
    assert Tenant.objects.get().token == SECRET

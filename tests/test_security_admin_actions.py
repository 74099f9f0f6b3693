"""Admin actions and buttons need the change permission: a view-only staff user can only look.

What an action did is observed from outside: the admin's answer, the database, what a member
of the display's group receives on the real channel layer and what an open page receives
through the real consumer, and the requests the 8x8 simulator served over HTTP.
"""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Permission, User

from tests.pipeline_helpers import communicator, receive
from wallboard.boards.access import make_display_cookie
from wallboard.boards.models import Board, Tenant, hash_token
from wallboard.live.publish import asend_display_control, display_group
from wallboard.polling.catalogue import get_catalogue
from wallboard.simulator.server import SimulatorServer

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


@pytest.fixture
def upstream(tenant):
    """The 8x8 simulator over real HTTP with the tenant pointed at it; `calls()` counts agent reads."""
    server = SimulatorServer(port=0, agents=5, queues=2, seed=7, tenant="acme", token=SECRET)
    server.start()
    Tenant.objects.filter(pk=tenant.pk).update(base_url=server.base_url)
    server.calls = lambda: server.state()["requests"].get("agents", 0)
    yield server
    server.stop()


class Screens:
    """A member of a display's group on the real channel layer (real Redis): it gets exactly the
    control messages the display's open pages get."""

    def __init__(self, display_id: int):
        self.group = display_group(display_id)
        self.layer = get_channel_layer()

    async def __aenter__(self) -> Screens:
        self.channel = await self.layer.new_channel()
        await self.layer.group_add(self.group, self.channel)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.layer.group_discard(self.group, self.channel)
        await self.layer.flush()

    async def next_action(self) -> str:
        message = await asyncio.wait_for(self.layer.receive(self.channel), 5)
        assert message["type"] == "display.control", message
        return message["action"] if message["action"] != "switch" else f"switch {message['url']}"

    async def got_nothing(self, display_id: int) -> bool:
        """Nothing arrived so far: a marker sent now is the very next message (the order holds)."""
        await asend_display_control(display_id, "switch", url="/marker/")
        return await self.next_action() == "switch /marker/"


def post_action(client, model: str, name: str, pk: int, **extra):
    """Post an action to a changelist by hand, as a script would (no form offered it)."""
    return client.post(f"/admin/boards/{model}/", {"action": name, "_selected_action": [pk], **extra}, follow=True)


apost_action = sync_to_async(post_action)
LIVE = pytest.mark.django_db(transaction=True)  # the admin, the consumer and the test share the database


@LIVE
async def test_it_refuses_a_new_url_to_a_view_only_user(viewer, display):
    before = display.token_hash
    async with Screens(display.pk) as screens:
        response = await apost_action(viewer, "display", "issue_new_url", display.pk)
        assert await screens.got_nothing(display.pk)
    await sync_to_async(display.refresh_from_db)()
    assert display.token_hash == before
    assert "/d/" not in response.content.decode()


@LIVE
async def test_it_refuses_to_revoke_for_a_view_only_user(viewer, display):
    async with Screens(display.pk) as screens:
        await apost_action(viewer, "display", "revoke", display.pk)
        assert await screens.got_nothing(display.pk)
    await sync_to_async(display.refresh_from_db)()
    assert display.revoked is None


@LIVE
async def test_it_refuses_to_reload_for_a_view_only_user(viewer, display):
    async with Screens(display.pk) as screens:
        await apost_action(viewer, "display", "reload_now", display.pk)
        assert await screens.got_nothing(display.pk)


@LIVE
async def test_it_refuses_to_switch_boards_for_a_view_only_user(viewer, display, other_board):
    async with Screens(display.pk) as screens:
        asked = await apost_action(viewer, "display", "switch_board", display.pk)
        assert "Show this board on" not in asked.content.decode()
        await apost_action(viewer, "display", "switch_board", display.pk, apply="Switch", board=str(other_board.pk))
        assert await screens.got_nothing(display.pk)
    assert await sync_to_async(display.board_slugs)() == ["support"]


def test_it_refuses_to_test_a_connection_for_a_view_only_user(viewer, tenant, upstream):
    post_action(viewer, "tenant", "test_connection", tenant.pk)
    assert viewer.post(f"/admin/boards/tenant/{tenant.pk}/test-connection/").status_code == 403
    assert upstream.calls() == 0
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


@LIVE
async def test_it_still_lets_a_user_with_change_permission_act(editor, display, other_board):
    old_cookie = make_display_cookie(display)
    screen = communicator("support", old_cookie)
    assert (await screen.connect())[0]
    assert (await receive(screen))["status"]["state"] == "pending"
    async with Screens(display.pk) as screens:
        # A reload reaches the open page through the real consumer.
        await apost_action(editor, "display", "reload_now", display.pk)
        assert await screens.next_action() == "reload"
        control = await receive(screen)
        assert (control["type"], control["action"]) == ("control", "reload")

        response = await apost_action(editor, "display", "issue_new_url", display.pk)
        body = response.content.decode()
        assert "shown only once" in body
        token = body.split("/d/", 1)[1].split('"', 1)[0]
        await sync_to_async(display.refresh_from_db)()
        assert display.token_hash == hash_token(token)
        assert await screens.next_action() == "revoke"
        assert await screen.receive_close() == 4401, "the page holding the old URL's cookie is cut off"
        await screen.disconnect()  # as the browser answers the close: the consumer ends

        await apost_action(editor, "display", "switch_board", display.pk, apply="Switch", board=str(other_board.pk))
        assert await screens.next_action() == "switch /kiosk/"
        assert await sync_to_async(display.board_slugs)() == ["sales"]

        await apost_action(editor, "display", "revoke", display.pk)
        assert await screens.next_action() == "revoke"
    await sync_to_async(display.refresh_from_db)()
    assert display.revoked is not None


def test_it_lets_a_user_with_change_permission_test_a_connection(editor, tenant, upstream):
    response = post_action(editor, "tenant", "test_connection", tenant.pk)
    assert "connected. Found 5 agents, 2 queues" in response.content.decode()
    editor.post(f"/admin/boards/tenant/{tenant.pk}/test-connection/")
    assert upstream.calls() == 2
    assert len(get_catalogue(tenant.pk)["queues"]) == 2
    assert "test-connection" in editor.get(f"/admin/boards/tenant/{tenant.pk}/change/").content.decode()


def test_it_lets_an_editor_edit_the_token_without_seeing_it(editor, tenant):
    body = editor.get(f"/admin/boards/tenant/{tenant.pk}/change/").content.decode()
    assert 'type="password"' in body and SECRET not in body


def test_it_declares_a_permission_for_every_action():
    registered = [m for m in apps.get_app_config("boards").get_models() if admin.site.is_registered(m)]
    assert registered
    for model in registered:
        model_admin = admin.site.get_model_admin(model)
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

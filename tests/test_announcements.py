"""Announcements: who may make them, CSRF, the audit, and delivery to screens inside the board state."""

from __future__ import annotations

import copy
from datetime import timedelta

import jsonpatch
import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import Group, Permission, User
from django.test import Client
from django.utils import timezone

from tests.pipeline_helpers import Clock, communicator, make_board, receive
from wallboard.alerts import announcements
from wallboard.alerts.models import Announcement, AnnouncementAudit, AnnouncementGrant
from wallboard.boards.models import Board, Tenant
from wallboard.live import store
from wallboard.polling.cycle import poll_tenant
from wallboard.simulator.server import SimulatorServer

poll = sync_to_async(poll_tenant, thread_sensitive=False)
PASSWORD = "pw-announce-123456"


# --- Who may announce, CSRF, the audit ----------------------------------------------------------


@pytest.fixture
def boards(db):
    tenant = Tenant.objects.create(name="Acme", base_url="http://127.0.0.1:9", tenant_name="acme", token="tok-123")
    return (Board.objects.create(slug="support", title="Support", tenant=tenant),
            Board.objects.create(slug="sales", title="Sales", tenant=tenant))


def user(name: str, *, view=(), announce=(), via_group: bool = False, **flags) -> User:
    made = User.objects.create_user(name, password=PASSWORD, **flags)
    for board in view:
        board.viewers.add(made)
    for board in announce:
        grant, _ = AnnouncementGrant.objects.get_or_create(board=board)
        if via_group:
            group, _ = Group.objects.get_or_create(name=f"announcers {board.slug}")
            made.groups.add(group)
            grant.groups.add(group)
        else:
            grant.users.add(made)
    return made


def form(board_ids, message="Fire drill at 15:00", severity="warning", minutes=60) -> dict:
    now = timezone.localtime()
    return {
        "boards": [str(pk) for pk in board_ids], "message": message, "severity": severity,
        "starts": now.strftime("%Y-%m-%dT%H:%M"), "ends": (now + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M"),
    }


def logged_in(who: User, csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=csrf)
    client.force_login(who)
    return client


def test_it_lets_a_granted_supervisor_announce_and_audits_it(boards):
    support, _ = boards
    supervisor = user("sam", view=[support], announce=[support])
    response = logged_in(supervisor).post("/boards/support/announce/", form([support.pk]))
    assert response.status_code == 302
    announcement = Announcement.objects.get()
    assert announcement.message == "Fire drill at 15:00" and announcement.author == supervisor
    assert list(announcement.boards.all()) == [support]
    audit = AnnouncementAudit.objects.get()
    assert (audit.action, audit.user, audit.boards, audit.message) == ("create", supervisor, "support", announcement.message)


def test_it_grants_through_groups_too(boards):
    support, _ = boards
    supervisor = user("gus", view=[support], announce=[support], via_group=True)
    assert logged_in(supervisor).post("/boards/support/announce/", form([support.pk])).status_code == 302


def test_it_refuses_a_supervisor_without_the_grant(boards):
    support, _ = boards
    viewer = user("vic", view=[support])
    client = logged_in(viewer)
    assert client.get("/boards/support/announce/").status_code == 403
    assert client.post("/boards/support/announce/", form([support.pk])).status_code == 403
    assert not Announcement.objects.exists()


def test_it_refuses_a_grant_on_a_board_the_user_cannot_see(boards):
    support, _ = boards
    outsider = user("oli", announce=[support])
    assert logged_in(outsider).get("/boards/support/announce/").status_code == 403


def test_it_sends_anonymous_visitors_to_the_login(boards):
    response = Client().get("/boards/support/announce/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_it_refuses_boards_outside_the_grant_in_the_form(boards):
    support, sales = boards
    supervisor = user("sam", view=[support, sales], announce=[support])
    response = logged_in(supervisor).post("/boards/support/announce/", form([support.pk, sales.pk]))
    assert response.status_code == 400
    assert not Announcement.objects.exists()


def test_it_lets_administrators_announce_anywhere(boards):
    _, sales = boards
    admin = User.objects.create_superuser("root", "root@example.com", PASSWORD)
    assert logged_in(admin).post("/boards/sales/announce/", form([sales.pk])).status_code == 302
    staff = user("stella", is_staff=True)
    assert logged_in(staff).get("/boards/sales/announce/").status_code == 403  # staff without the permission
    staff.user_permissions.add(Permission.objects.get(codename="add_announcement"))
    staff = User.objects.get(pk=staff.pk)
    assert logged_in(staff).post("/boards/sales/announce/", form([sales.pk])).status_code == 302


def test_it_requires_the_csrf_token(boards):
    support, _ = boards
    supervisor = user("sam", view=[support], announce=[support])
    client = logged_in(supervisor, csrf=True)
    assert client.post("/boards/support/announce/", form([support.pk])).status_code == 403
    page = client.get("/boards/support/announce/")
    token = page.context["csrf_token"]
    assert client.post("/boards/support/announce/", {**form([support.pk]), "csrfmiddlewaretoken": str(token)}).status_code == 302
    announcement = Announcement.objects.get()
    end = f"/boards/support/announce/{announcement.pk}/end/"
    assert client.post(end).status_code == 403
    assert Announcement.objects.get().ended_early is None


@pytest.mark.parametrize(
    "changes, error",
    [
        ({"message": "   "}, "This field is required"),
        ({"message": "x" * 281}, "at most 280 characters"),
        ({"minutes": -5}, "The end must be after the start"),
        ({"severity": "panic"}, "Select a valid choice"),
    ],
)
def test_it_rejects_bad_announcements_with_a_clear_error(boards, changes, error):
    support, _ = boards
    supervisor = user("sam", view=[support], announce=[support])
    response = logged_in(supervisor).post("/boards/support/announce/", form([support.pk], **changes))
    assert response.status_code == 400 and error in response.content.decode()
    assert not Announcement.objects.exists()


def test_it_ends_an_announcement_early_and_audits_it(boards):
    support, _ = boards
    supervisor = user("sam", view=[support], announce=[support])
    client = logged_in(supervisor)
    client.post("/boards/support/announce/", form([support.pk]))
    announcement = Announcement.objects.get()
    assert client.get(f"/boards/support/announce/{announcement.pk}/end/").status_code == 405
    assert client.post(f"/boards/support/announce/{announcement.pk}/end/").status_code == 302
    announcement.refresh_from_db()
    assert announcement.ended_early is not None and not announcement.is_active()
    assert list(AnnouncementAudit.objects.order_by("at").values_list("action", flat=True)) == ["create", "end"]


def test_it_refuses_to_end_one_that_also_shows_on_boards_outside_the_grant(boards):
    support, sales = boards
    admin = User.objects.create_superuser("root", "root@example.com", PASSWORD)
    announcement = announcements.create(admin, [support, sales], "Both boards", "info", timezone.now(),
                                        timezone.now() + timedelta(hours=1))
    supervisor = user("sam", view=[support], announce=[support])
    assert logged_in(supervisor).post(f"/boards/support/announce/{announcement.pk}/end/").status_code == 403
    announcement.refresh_from_db()
    assert announcement.ended_early is None


def test_it_escapes_messages_on_the_announce_page(boards):
    support, _ = boards
    supervisor = user("sam", view=[support], announce=[support])
    client = logged_in(supervisor)
    client.post("/boards/support/announce/", form([support.pk], message="<img src=x onerror=alert(1)>"))
    page = client.get("/boards/support/announce/").content.decode()
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


def test_it_links_the_form_from_the_supervisor_page_for_granted_users_only(boards):
    support, _ = boards
    granted = user("sam", view=[support], announce=[support])
    viewer = user("vic", view=[support])
    assert "/boards/support/announce/" in logged_in(granted).get("/boards/support/").content.decode()
    assert "/boards/support/announce/" not in logged_in(viewer).get("/boards/support/").content.decode()


def test_it_audits_admin_changes_and_the_end_now_action(boards):
    support, _ = boards
    admin = User.objects.create_superuser("root", "root@example.com", PASSWORD)
    client = logged_in(admin)
    now = timezone.localtime()
    response = client.post("/admin/alerts/announcement/add/", {
        "boards": [support.pk], "message": "From admin", "severity": "critical",
        "starts_0": now.strftime("%Y-%m-%d"), "starts_1": now.strftime("%H:%M:%S"),
        "ends_0": (now + timedelta(hours=1)).strftime("%Y-%m-%d"), "ends_1": (now + timedelta(hours=1)).strftime("%H:%M:%S"),
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    announcement = Announcement.objects.get()
    assert announcement.author == admin
    client.post("/admin/alerts/announcement/", {"action": "end_now", "_selected_action": [announcement.pk]})
    announcement.refresh_from_db()
    assert announcement.ended_early is not None
    assert list(AnnouncementAudit.objects.order_by("at").values_list("action", "user__username")) == [
        ("create", "root"), ("end", "root")]


# --- On the screens, within the board state --------------------------------------------------


@pytest.fixture
def sim(redis_client):
    server = SimulatorServer(port=0, agents=20, queues=4, seed=3, clock=Clock())
    server.start()
    yield server
    server.stop()


async def next_patch(comm, seq):
    while True:
        message = await receive(comm)
        assert message["seq"] == seq + 1, "a message was skipped or repeated"
        seq = message["seq"]
        if message["type"] == "patch":
            return message, seq


@sync_to_async
def create(board, message, **when):
    starts = when.get("starts", timezone.now() - timedelta(seconds=1))
    return announcements.create(None, [board], message, "critical", starts, starts + timedelta(hours=1))


@pytest.mark.django_db(transaction=True)
async def test_it_puts_a_new_announcement_on_connected_screens_at_once_and_takes_it_off(sim):
    tenant, board, cookie = await sync_to_async(make_board)(sim.base_url)
    await poll(tenant.pk)
    comm = communicator(board.slug, cookie)
    assert (await comm.connect())[0]
    snapshot = await receive(comm)
    state, seq = snapshot["data"], snapshot["seq"]
    assert state["announcements"] == []
    made = await create(board, "Fire drill <b>at</b> 15:00")
    patch, seq = await next_patch(comm, seq)  # no poll in between: the create itself published it
    state = jsonpatch.apply_patch(copy.deepcopy(state), patch["ops"])
    assert [(a["id"], a["message"], a["severity"]) for a in state["announcements"]] == [
        (made.pk, "Fire drill <b>at</b> 15:00", "critical")]
    assert state == (await sync_to_async(store.load)(board.slug)).data
    await sync_to_async(announcements.end_now)(made, None)
    patch, seq = await next_patch(comm, seq)
    state = jsonpatch.apply_patch(state, patch["ops"])
    assert state["announcements"] == []
    # The next poll goes on from the same sequence, with the same list.
    await poll(tenant.pk)
    patch, seq = await next_patch(comm, seq)
    state = jsonpatch.apply_patch(state, patch["ops"])
    assert state == (await sync_to_async(store.load)(board.slug)).data
    await comm.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_it_gives_a_reconnecting_screen_the_announcement_in_its_snapshot(sim):
    tenant, board, cookie = await sync_to_async(make_board)(sim.base_url)
    await poll(tenant.pk)
    await create(board, "New promo code today")
    await poll(tenant.pk)
    comm = communicator(board.slug, cookie)
    assert (await comm.connect())[0]
    snapshot = await receive(comm)
    assert [a["message"] for a in snapshot["data"]["announcements"]] == ["New promo code today"]
    await comm.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_it_shows_a_scheduled_announcement_from_the_first_poll_after_its_start(sim):
    tenant, board, cookie = await sync_to_async(make_board)(sim.base_url)
    await poll(tenant.pk)
    made = await create(board, "Later today", starts=timezone.now() + timedelta(hours=2))
    await poll(tenant.pk)
    assert (await sync_to_async(store.load)(board.slug)).data["announcements"] == []
    # Its start comes (moved rather than waited for).
    await sync_to_async(Announcement.objects.filter(pk=made.pk).update)(starts=timezone.now() - timedelta(seconds=1))
    await poll(tenant.pk)
    assert [a["id"] for a in (await sync_to_async(store.load)(board.slug)).data["announcements"]] == [made.pk]
    # And its end.
    await sync_to_async(Announcement.objects.filter(pk=made.pk).update)(ends=timezone.now() - timedelta(seconds=1))
    await poll(tenant.pk)
    assert (await sync_to_async(store.load)(board.slug)).data["announcements"] == []


@pytest.mark.django_db(transaction=True)
async def test_it_shows_an_announcement_while_8x8_is_failing(sim):
    tenant, board, cookie = await sync_to_async(make_board)(sim.base_url)
    await poll(tenant.pk)
    made = await create(board, "Phones down: use the backup line", starts=timezone.now() + timedelta(hours=2))
    sim.faults.add("status", code=500, count=100, target="rtstats")
    await sync_to_async(Announcement.objects.filter(pk=made.pk).update)(starts=timezone.now() - timedelta(seconds=1))
    result = await poll(tenant.pk)
    assert result.outcome != "ok"
    assert [a["id"] for a in (await sync_to_async(store.load)(board.slug)).data["announcements"]] == [made.pk]


@pytest.mark.django_db
def test_it_orders_announcements_most_severe_first(boards):
    support, _ = boards
    now = timezone.now()
    for message, severity in [("a", "info"), ("b", "critical"), ("c", "warning")]:
        announcements.create(None, [support], message, severity, now - timedelta(minutes=1), now + timedelta(hours=1))
    shown = announcements.active_by_slug(["support"])["support"]
    assert [a["message"] for a in shown] == ["b", "c", "a"]


@pytest.mark.django_db(transaction=True)
async def test_it_goes_from_the_supervisors_form_to_the_screens_in_one_patch(sim):
    tenant, board, cookie = await sync_to_async(make_board)(sim.base_url)
    await poll(tenant.pk)
    comm = communicator(board.slug, cookie)
    assert (await comm.connect())[0]
    snapshot = await receive(comm)

    @sync_to_async
    def post() -> int:
        supervisor = user("sam", view=[board], announce=[board])
        return logged_in(supervisor).post(f"/boards/{board.slug}/announce/", form([board.pk], message="Team huddle")).status_code

    assert await post() == 302
    patch, _ = await next_patch(comm, snapshot["seq"])
    state = jsonpatch.apply_patch(copy.deepcopy(snapshot["data"]), patch["ops"])
    assert [(a["message"], a["severity"]) for a in state["announcements"]] == [("Team huddle", "warning")]
    await comm.disconnect()

"""Supervisors acting on campaigns: permissions, CSRF, double submits, concurrent presses, audit.

Real HTTP to the simulator (the 8x8 stand-in), real Redis, the Django test client.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from campaign_helpers import *  # noqa: F403
from campaign_helpers import ACTION_TOKEN, sim_state
from cryptography.fernet import Fernet
from django.db import connection, connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.admin_helpers import tenant_post
from wallboard.boards import crypto
from wallboard.boards.forms import TenantForm
from wallboard.boards.models import Tenant
from wallboard.campaigns import services
from wallboard.campaigns.models import Campaign, CampaignAction
from wallboard.live import store
from wallboard.polling.cycle import poll_tenant

pytestmark = pytest.mark.django_db


def url(name, board, campaign=None):
    return reverse(f"campaigns:{name}", args=[board.slug] + ([campaign.pk] if campaign else []))


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def press(client, board, campaign, action, key="k1", **extra):
    return client.post(url("action", board, campaign), {"action": action, "key": key, **extra})


def requests_seen(sim) -> int:
    return sim.campaigns.state()["requests"]


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# --- the panel and the buttons ---------------------------------------------------------------------


def test_it_shows_the_panel_with_state_and_its_source(supervisor, board, campaign):
    response = logged_in(supervisor).get(url("panel", board))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Renewals callbacks" in page and 'data-state="unknown"' in page
    assert "not set from this wallboard yet" in page
    assert "no way to read a campaign" in page  # says where the state comes from
    assert 'value="purge"' not in page  # a supervisor is no administrator


def test_it_pauses_a_campaign_and_records_who_when_and_from_where(sim, supervisor, board, campaign):
    sim.campaigns.configure("101", status="RUNNING")

    response = press(logged_in(supervisor), board, campaign, "pause")

    assert response.status_code == 302
    assert sim_state(sim)["status"] == "PAUSED"
    campaign.refresh_from_db()
    assert (campaign.state, campaign.state_source, campaign.state_by) == ("PAUSED", "person", "sam")
    assert campaign.state_at is not None and campaign.blend_hold  # a manual pause holds
    entry = CampaignAction.objects.get()
    assert (entry.actor, entry.action, entry.outcome, entry.upstream_status) == ("sam", "pause", "ok", 200)
    assert entry.latency_ms is not None and entry.user == supervisor
    page = logged_in(supervisor).get(url("panel", board)).content.decode()
    assert "set by sam at" in page


def test_it_tells_8x8s_refusal_and_keeps_the_state(sim, supervisor, board, campaign):
    client = logged_in(supervisor)
    response = client.post(url("action", board, campaign), {"action": "run", "key": "a"}, follow=True)
    assert sim_state(sim)["status"] == "RUNNING"
    sim.campaigns.configure("101", status="PURGED")

    response = client.post(url("action", board, campaign), {"action": "pause", "key": "b"}, follow=True)

    assert any("Invalid state transition" in m for m in messages_of(response))
    campaign.refresh_from_db()
    assert campaign.state == "RUNNING"  # the last state 8x8 accepted
    assert CampaignAction.objects.filter(outcome="refused", action="pause").count() == 1


def test_it_refuses_a_supervisor_without_the_campaign_grant(sim, viewer, board, campaign):
    client = logged_in(viewer)
    before = requests_seen(sim)

    assert client.get(url("panel", board)).status_code == 403
    assert press(client, board, campaign, "pause").status_code == 403
    assert requests_seen(sim) == before and not CampaignAction.objects.exists()
    assert "Campaigns</a>" not in client.get(reverse("boards:supervisor", args=[board.slug])).content.decode()


def test_the_supervisor_page_links_to_the_panel_for_a_granted_user(supervisor, board, campaign):
    page = logged_in(supervisor).get(reverse("boards:supervisor", args=[board.slug])).content.decode()
    assert url("panel", board) in page


def test_it_refuses_a_campaign_of_another_board(sim, supervisor, board, campaign, tenant):
    elsewhere = Campaign.objects.create(tenant=tenant, campaign_id="102", name="Win-back")
    assert press(logged_in(supervisor), board, elsewhere, "run").status_code == 404


def test_it_sends_people_who_are_not_signed_in_to_the_login(sim, board, campaign):
    response = Client().post(url("action", board, campaign), {"action": "pause", "key": "k"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not CampaignAction.objects.exists()


def test_it_refuses_a_post_without_the_csrf_token(sim, supervisor, board, campaign):
    client = Client(enforce_csrf_checks=True)
    client.force_login(supervisor)
    before = requests_seen(sim)

    response = client.post(url("action", board, campaign), {"action": "pause", "key": "k"})

    assert response.status_code == 403
    assert requests_seen(sim) == before and not CampaignAction.objects.exists()


def test_the_forms_carry_a_csrf_token_and_a_key(supervisor, board, campaign):
    page = logged_in(supervisor).get(url("panel", board)).content.decode()
    assert page.count('name="csrfmiddlewaretoken"') >= 3
    assert page.count('name="key"') >= 3


def test_a_double_submit_sends_one_request(sim, supervisor, board, campaign):
    sim.campaigns.configure("101", status="RUNNING")
    client = logged_in(supervisor)
    before = requests_seen(sim)

    first = client.post(url("action", board, campaign), {"action": "pause", "key": "same"}, follow=True)
    second = client.post(url("action", board, campaign), {"action": "pause", "key": "same"}, follow=True)

    assert requests_seen(sim) == before + 1
    assert CampaignAction.objects.count() == 1
    assert any("repeated submission" in m for m in messages_of(second))
    assert not any("repeated submission" in m for m in messages_of(first))


def test_a_key_is_the_users_own(sim, supervisor, admin_user, board, campaign):
    sim.campaigns.configure("101", status="RUNNING")
    press(logged_in(supervisor), board, campaign, "pause", key="shared")
    press(logged_in(admin_user), board, campaign, "run", key="shared")

    assert sim_state(sim)["status"] == "RUNNING"
    assert CampaignAction.objects.count() == 2


# --- purge ---------------------------------------------------------------------------------------------


def test_purge_is_refused_to_a_supervisor(sim, supervisor, board, campaign):
    sim.campaigns.configure("101", status="STOPPED")
    response = press(logged_in(supervisor), board, campaign, "purge", confirm="Renewals callbacks")
    assert response.status_code == 403
    assert sim_state(sim)["status"] == "STOPPED"


def test_purge_needs_the_campaign_name_typed(sim, admin_user, board, campaign):
    sim.campaigns.configure("101", status="STOPPED")
    client = logged_in(admin_user)
    before = requests_seen(sim)

    response = press(client, board, campaign, "purge", confirm="renewals")

    assert response.status_code == 400
    assert "Type the campaign" in response.content.decode()
    assert requests_seen(sim) == before

    response = press(client, board, campaign, "purge", key="k2", confirm="Renewals callbacks")
    assert response.status_code == 302
    assert sim_state(sim)["status"] == "PURGED"
    assert CampaignAction.objects.get().action == "purge"


def test_the_purge_form_is_shown_to_administrators(admin_user, board, campaign):
    page = logged_in(admin_user).get(url("panel", board)).content.decode()
    assert 'value="purge"' in page and 'name="confirm"' in page


# --- two people at once, lost answers ------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_supervisors_pressing_at_once_end_in_one_consistent_state(sim, supervisor, admin_user, campaign):
    sim.campaigns.configure("101", status="RUNNING")
    sim.campaigns.latency_ms = 300  # both presses overlap in flight if nothing serialises them
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def press_as(user, action):
        try:
            start.wait(5)
            services.act(campaign.pk, action, user=user, key=f"{user.pk}:{action}")
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=press_as, args=(u, a)) for u, a in ((supervisor, "pause"), (admin_user, "stop"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert not errors
    assert sim.campaigns.state()["max_in_flight"] == 1  # one after the other, never interleaved
    campaign.refresh_from_db()
    assert campaign.state == sim_state(sim)["status"]  # the wallboard and 8x8 agree
    # Whichever came second wins (or was refused by 8x8: a stopped campaign cannot be paused).
    last = CampaignAction.objects.filter(outcome="ok").order_by("-id").first()
    assert last is not None and sim_state(sim)["status"] == services.ACTIONS[last.action]
    assert CampaignAction.objects.count() == 2


@pytest.mark.parametrize("mode", ["hang", "lost"])
def test_a_lost_answer_is_unknown_and_audited_as_such(sim, supervisor, board, campaign, settings, mode):
    settings.VCC_READ_TIMEOUT = 0.5
    sim.campaigns.configure("101", status="RUNNING")
    sim.campaigns.add_fault(mode, count=1, max_seconds=5)

    response = logged_in(supervisor).post(url("action", board, campaign), {"action": "pause", "key": "x"}, follow=True)

    assert any("unknown, check in 8x8" in m for m in messages_of(response))
    campaign.refresh_from_db()
    assert (campaign.state, campaign.state_source) == ("unknown", "uncertain")
    entry = CampaignAction.objects.get()
    assert entry.outcome == "unknown" and "check" in entry.upstream_answer
    assert sim_state(sim)["status"] == "PAUSED"  # it did happen upstream
    page = logged_in(supervisor).get(url("panel", board)).content.decode()
    assert "was lost: check the campaign in 8x8" in page


@pytest.mark.parametrize("code", [500, 503])
def test_a_server_error_changes_nothing_and_is_audited(sim, supervisor, board, campaign, code):
    sim.campaigns.add_fault("status", code=code, count=1)
    before = requests_seen(sim)

    response = logged_in(supervisor).post(url("action", board, campaign), {"action": "run", "key": "x"}, follow=True)

    assert requests_seen(sim) == before + 1  # never retried
    assert any(f"HTTP {code}" in m for m in messages_of(response))
    campaign.refresh_from_db()
    assert campaign.state == "unknown" and campaign.state_source == "none"
    assert CampaignAction.objects.get().outcome == "error"


def test_a_wrong_action_token_is_said_plainly_and_never_shown(sim, supervisor, board, campaign, tenant):
    tenant.action_token = "not-the-right-one"
    tenant.save()
    response = logged_in(supervisor).post(url("action", board, campaign), {"action": "run", "key": "x"}, follow=True)

    [message] = messages_of(response)
    assert "action token" in message and "not-the-right-one" not in message
    assert CampaignAction.objects.get().outcome == "error"


def test_a_tenant_without_an_action_token_is_told_to_add_one(sim, supervisor, board, campaign, tenant):
    tenant.action_token = ""
    tenant.save()
    before = requests_seen(sim)
    response = logged_in(supervisor).post(url("action", board, campaign), {"action": "run", "key": "x"}, follow=True)
    assert any("no action token" in m for m in messages_of(response))
    assert requests_seen(sim) == before


def test_a_campaign_that_is_not_dynamic_is_said_so(sim, supervisor, board, other_campaign):
    response = logged_in(supervisor).post(url("action", board, other_campaign), {"action": "run", "key": "x"}, follow=True)
    assert any("dynamic campaign" in m for m in messages_of(response))


# --- callbacks and removals ------------------------------------------------------------------------------


def local_form(tenant, moment, customer="1000020", key="cb"):
    local = moment.astimezone(tenant_zone(tenant))
    return {"customer_id": customer, "date": local.strftime("%Y-%m-%d"), "time": local.strftime("%H:%M"), "key": key}


def tenant_zone(tenant):
    from zoneinfo import ZoneInfo

    return ZoneInfo(tenant.time_zone)


def next_noon_utc():
    now = timezone.now()
    noon = now.replace(hour=12, minute=0, second=0, microsecond=0)
    return noon if noon > now + timedelta(minutes=5) else noon + timedelta(days=1)


def test_it_schedules_a_callback_given_in_the_tenants_zone(sim, supervisor, board, campaign, tenant):
    at = next_noon_utc()  # 07:00 in New York: typed as local time, sent as 12:00 UTC

    response = logged_in(supervisor).post(url("add_customer", board, campaign), local_form(tenant, at), follow=True)

    assert any("added" in m for m in messages_of(response))
    assert sim_state(sim)["customers"]["1000020"] == "scheduled"
    entry = CampaignAction.objects.get()
    assert (entry.action, entry.outcome) == ("add_customer", "ok")
    assert f"{at:%Y-%m-%d} 12:00 UTC" in entry.detail


def test_it_adds_a_customer_without_a_callback_time(sim, supervisor, board, campaign):
    data = {"customer_id": "1000021", "date": "", "time": "", "key": "a"}
    logged_in(supervisor).post(url("add_customer", board, campaign), data)
    assert sim_state(sim)["customers"]["1000021"] == "queued"


@pytest.mark.parametrize(
    ("shift", "words"),
    [(timedelta(hours=-1), "in the past"), (timedelta(days=8), "more than 7 days ahead")],
)
def test_it_refuses_a_callback_time_before_sending(sim, supervisor, board, campaign, tenant, shift, words):
    before = requests_seen(sim)
    response = logged_in(supervisor).post(url("add_customer", board, campaign), local_form(tenant, timezone.now() + shift))
    assert response.status_code == 400
    assert words in response.content.decode()
    assert requests_seen(sim) == before and not CampaignAction.objects.exists()


def test_it_refuses_a_local_time_that_does_not_exist(sim, supervisor, board, campaign):
    data = {"customer_id": "1000022", "date": "2027-03-14", "time": "02:30", "key": "k"}  # New York springs forward
    response = logged_in(supervisor).post(url("add_customer", board, campaign), data)
    assert response.status_code == 400
    assert "does not exist" in response.content.decode()


def test_it_refuses_half_a_callback_time(sim, supervisor, board, campaign):
    data = {"customer_id": "1000022", "date": "2027-03-14", "time": "", "key": "k"}
    response = logged_in(supervisor).post(url("add_customer", board, campaign), data)
    assert response.status_code == 400 and "both a date and a time" in response.content.decode()


def test_it_shows_8x8s_message_for_a_refused_customer(sim, supervisor, board, campaign):
    data = {"customer_id": "1000901", "date": "", "time": "", "key": "d"}
    response = logged_in(supervisor).post(url("add_customer", board, campaign), data, follow=True)
    assert any("Duplicate customer" in m for m in messages_of(response))
    assert CampaignAction.objects.get().outcome == "refused"


def test_it_shows_8x8s_message_for_a_callback_outside_the_campaign_schedule(sim, supervisor, board, campaign, tenant):
    at = next_noon_utc() + timedelta(hours=10)  # 22:00 UTC: outside the simulator's 08-20 window
    response = logged_in(supervisor).post(url("add_customer", board, campaign), local_form(tenant, at), follow=True)
    assert any("outside the campaign schedule" in m for m in messages_of(response))


def test_it_removes_a_customer(sim, supervisor, board, campaign):
    client = logged_in(supervisor)
    client.post(url("add_customer", board, campaign), {"customer_id": "1000023", "date": "", "time": "", "key": "a"})
    response = client.post(url("remove_customer", board, campaign), {"customer_id": "1000023", "key": "b"}, follow=True)
    assert any("removed" in m for m in messages_of(response))
    assert "1000023" not in sim_state(sim)["customers"]


def test_it_tells_why_a_customer_cannot_be_removed(sim, supervisor, board, campaign):
    response = logged_in(supervisor).post(url("remove_customer", board, campaign), {"customer_id": "1000900", "key": "b"}, follow=True)
    assert any("not available for deletion" in m for m in messages_of(response))


@pytest.mark.parametrize("customer", ["", "a/b", "x" * 65])
def test_it_refuses_a_bad_customer_id_before_sending(sim, supervisor, board, campaign, customer):
    before = requests_seen(sim)
    response = logged_in(supervisor).post(url("remove_customer", board, campaign), {"customer_id": customer, "key": "b"})
    assert response.status_code == 400
    assert requests_seen(sim) == before


# --- the board and admin ------------------------------------------------------------------------------------


def test_an_action_republishes_the_boards_that_show_the_campaign(sim, supervisor, board, campaign, tenant):
    sim.campaigns.configure("101", status="RUNNING")
    assert poll_tenant(tenant.pk).outcome == "ok"
    seq = store.load(board.slug).seq
    assert store.load(board.slug).data["campaigns"][0]["state"] == "unknown"

    press(logged_in(supervisor), board, campaign, "pause")

    stored = store.load(board.slug)
    assert stored.seq > seq
    [badge] = stored.data["campaigns"]
    assert (badge["id"], badge["state"], badge["source"], badge["by"]) == ("101", "paused", "person", "sam")


def test_the_admin_test_action_checks_each_campaign_without_changing_it(sim, admin_user, campaign, other_campaign):
    client = logged_in(admin_user)
    before = sim_state(sim)

    response = client.post(
        reverse("admin:campaigns_campaign_changelist"),
        {"action": "test_campaigns", "_selected_action": [campaign.pk, other_campaign.pk]},
        follow=True,
    )

    text = " ".join(messages_of(response))
    assert "exists, accepts dynamic campaign calls" in text
    assert "does not have dynamic campaign enabled" in text
    assert sim_state(sim) == before
    assert CampaignAction.objects.filter(action="test").count() == 2


def test_the_admin_test_action_reports_a_wrong_action_token(sim, admin_user, campaign, tenant):
    tenant.action_token = "wrong-token-123"
    tenant.save()
    response = logged_in(admin_user).post(
        reverse("admin:campaigns_campaign_changelist"), {"action": "test_campaigns", "_selected_action": [campaign.pk]}, follow=True
    )
    text = response.content.decode()
    assert "refused this tenant name and action token" in text and "wrong-token-123" not in text


def test_the_audit_log_is_read_only_in_admin(sim, admin_user, supervisor, board, campaign):
    press(logged_in(supervisor), board, campaign, "run")
    entry = CampaignAction.objects.get()
    client = logged_in(admin_user)

    assert client.get(reverse("admin:campaigns_campaignaction_changelist")).status_code == 200
    change = client.get(reverse("admin:campaigns_campaignaction_change", args=[entry.pk]))
    assert change.status_code == 200 and 'name="_save"' not in change.content.decode()
    assert client.post(reverse("admin:campaigns_campaignaction_change", args=[entry.pk]), {"actor": "x"}).status_code == 403
    assert client.post(reverse("admin:campaigns_campaignaction_delete", args=[entry.pk]), {"post": "yes"}).status_code == 403
    assert client.get(reverse("admin:campaigns_campaignaction_add")).status_code == 403
    assert CampaignAction.objects.get().actor == "sam"


def test_the_audit_log_outlives_its_campaign(sim, supervisor, board, campaign):
    press(logged_in(supervisor), board, campaign, "run")
    campaign.delete()
    entry = CampaignAction.objects.get()
    assert entry.campaign is None and "Renewals callbacks (101)" in entry.campaign_label


def test_the_admin_refuses_boards_of_another_tenant(sim, admin_user, board, tenant):
    other = Tenant.objects.create(name="Other", base_url=sim.base_url, tenant_name="demo", token="t")
    response = logged_in(admin_user).post(reverse("admin:campaigns_campaign_add"), {
        "tenant": other.pk, "campaign_id": "101", "name": "X", "boards": [board.pk], "blend_queue_ids": "",
        "blend_metric": "queue_size", "blend_threshold": "10", "blend_breach_cycles": "3", "blend_calm_cycles": "6",
        "blend_min_dwell": "300",
    })
    assert response.status_code == 200 and "belong to another tenant" in response.content.decode()
    assert not Campaign.objects.exists()


def tenant_form_data(**changes: str) -> dict:
    """The tenant form as an administrator would post it: its defaults, plus a valid tenant."""
    form = TenantForm()
    defaults = {name: form[name].value() for name in form.fields if form[name].value() not in (None, "")}
    return {**defaults, **tenant_post(**changes)}


def test_the_tenant_form_stores_the_action_token_encrypted_and_never_shows_it(admin_user):
    client = logged_in(admin_user)
    response = client.post(reverse("admin:boards_tenant_add"), tenant_form_data(action_token="act-s3cret-token"))
    assert response.status_code == 302, response.content.decode()[:2000]
    tenant = Tenant.objects.get(name="Acme")
    assert tenant.action_token == "act-s3cret-token"
    with connection.cursor() as cursor:
        cursor.execute("SELECT action_token FROM boards_tenant WHERE id = %s", [tenant.pk])
        stored = cursor.fetchone()[0]
    assert stored and "act-s3cret-token" not in stored
    page = client.get(reverse("admin:boards_tenant_change", args=[tenant.pk])).content.decode()
    assert "act-s3cret-token" not in page and "Action token" in page
    # Saving again with the field left empty keeps the stored token.
    client.post(reverse("admin:boards_tenant_change", args=[tenant.pk]), tenant_form_data(token="", action_token=""))
    tenant.refresh_from_db()
    assert tenant.action_token == "act-s3cret-token"


def test_the_campaign_id_must_be_a_number(sim, admin_user, tenant):
    response = logged_in(admin_user).post(reverse("admin:campaigns_campaign_add"), {
        "tenant": tenant.pk, "campaign_id": "12a", "name": "X", "blend_queue_ids": "", "blend_metric": "queue_size",
        "blend_threshold": "10", "blend_breach_cycles": "3", "blend_calm_cycles": "6", "blend_min_dwell": "300",
    })
    assert response.status_code == 200 and "campaign id is a number" in response.content.decode()


def test_the_action_token_is_not_the_statistics_token(sim, tenant):
    # The simulator keeps the two apart, as 8x8 does: the data request token opens no campaign.
    assert tenant.action_token == ACTION_TOKEN != tenant.token


def test_an_unreadable_action_token_is_never_sent(sim, supervisor, board, campaign, tenant):
    lost = crypto.PREFIX + Fernet(Fernet.generate_key()).encrypt(b"lost-action-token").decode()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE boards_tenant SET action_token = %s WHERE id = %s", [lost, tenant.pk])
    before = requests_seen(sim)

    response = logged_in(supervisor).post(url("action", board, campaign), {"action": "run", "key": "u"}, follow=True)

    assert any("action token cannot be read" in m for m in messages_of(response))
    assert requests_seen(sim) == before
    assert CampaignAction.objects.get().outcome == "error"

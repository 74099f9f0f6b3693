"""ContactNow in admin: the account (write-only token, Test), the hours editor, no duplicates, the audit.

Against the simulator's database.php over real HTTP; the token is checked absent from every page.
"""

from __future__ import annotations

import logging

import pytest
from django.contrib.auth.models import Permission, User
from django.core.exceptions import ValidationError

from tests.tod_helpers import contactnow_sim
from wallboard.boards.models import Board, BoardQueue, ContactNowAccount, Tenant, TodAudit

TOKEN = "cn-admin-s3cret-77"


@pytest.fixture
def sim():
    with contactnow_sim(TOKEN) as server:
        yield server


@pytest.fixture
def account(db, sim):
    return ContactNowAccount.objects.create(name="Dxi", base_url=sim.base_url, token=TOKEN, time_zone="Europe/London")


@pytest.fixture(autouse=True)
def no_token_in_logs(caplog):
    caplog.set_level(logging.DEBUG)
    yield
    text = "\n".join(r.getMessage() for phase in ("setup", "call") for r in caplog.get_records(phase))
    assert TOKEN not in text


def page(response) -> str:
    body = response.content.decode()
    assert TOKEN not in body
    return body


def editor(account, policy="2164"):
    return f"/admin/boards/contactnowaccount/{account.pk}/hours/{policy}/"


def rule_post(**changes):
    data = {"rule": "9", "days": ["fri"], "ranges": "00:00-24:00", "action": "hangup", "on_date": "2026-12-25"}
    data.update(changes)
    return data


def holiday_records(sim, number="9"):
    return [r for r in sim.contactnow.rules if r["policy"] == "2164" and r["rule"] == number]


# --- the account ---------------------------------------------------------------------------


def test_it_creates_an_account_with_an_encrypted_write_only_token(admin_client, sim):
    data = {"name": "Dxi", "base_url": sim.base_url + "/database.php", "token": TOKEN, "time_zone": "Europe/London",
            "response_format": "xml", "refresh_interval": "300", "enabled": "on"}
    response = admin_client.post("/admin/boards/contactnowaccount/add/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    account = ContactNowAccount.objects.get()
    assert account.token == TOKEN and account.base_url == sim.base_url
    body = page(admin_client.get(f"/admin/boards/contactnowaccount/{account.pk}/change/"))
    assert 'type="password"' in body
    page(admin_client.get("/admin/boards/contactnowaccount/"))
    # Blank keeps the stored token.
    response = admin_client.post(f"/admin/boards/contactnowaccount/{account.pk}/change/", {**data, "token": ""})
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.token == TOKEN


def test_it_refuses_an_account_without_token_or_with_a_bad_url(admin_client):
    data = {"name": "Dxi", "base_url": "http://api-106.dxi.eu", "token": "", "time_zone": "Mars/Base",
            "response_format": "json", "refresh_interval": "300"}
    response = admin_client.post("/admin/boards/contactnowaccount/add/", data)
    errors = response.context["adminform"].form.errors
    assert {"token", "base_url", "time_zone"} <= set(errors)
    assert not ContactNowAccount.objects.exists()


def test_it_tests_an_account(admin_client, account):
    response = admin_client.post("/admin/boards/contactnowaccount/",
                                 {"action": "test_account", "_selected_action": [account.pk]}, follow=True)
    assert "2 time-of-day policies and 3 rules found" in page(response)


@pytest.mark.parametrize(("grant", "words"), [
    ({"ttl": -5}, "expired"),
    ({"ttl": 3600, "address": "198.51.100.7"}, "another internet address"),
])
def test_it_reports_a_refused_token_in_the_test(admin_client, account, sim, grant, words):
    sim.contactnow.issue_token(TOKEN, **grant)
    response = admin_client.post("/admin/boards/contactnowaccount/",
                                 {"action": "test_account", "_selected_action": [account.pk]}, follow=True)
    assert words in page(response)


def test_it_offers_the_test_and_the_editor_only_with_the_change_permission(client, account, sim):
    viewer = User.objects.create_user("viewer", password="pw-pw-pw-12", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_contactnowaccount"))
    client.force_login(viewer)
    body = page(client.get(f"/admin/boards/contactnowaccount/{account.pk}/change/"))
    assert "Stored encrypted; never shown." in body
    changelist = page(client.get("/admin/boards/contactnowaccount/"))
    assert "test_account" not in changelist
    assert client.get(editor(account)).status_code == 403
    assert client.post(editor(account), rule_post(save="1")).status_code == 403
    assert holiday_records(sim) == []


# --- the editor ----------------------------------------------------------------------------


def test_it_shows_the_rules_the_week_grid_and_14_days(admin_client, account):
    body = page(admin_client.get(editor(account)))
    assert body.count('<tr data-day="') == 7 + 14
    assert 'data-rule="2"' in body and "jump:301" in body
    assert 'data-state="redirect"' in body and 'data-state="open"' in body
    policies = page(admin_client.get(f"/admin/boards/contactnowaccount/{account.pk}/hours/"))
    assert "Außer Haus" in policies


def test_it_previews_without_sending(admin_client, account, sim):
    before = list(sim.contactnow.rules)
    body = page(admin_client.post(editor(account), rule_post(on_date="2026-12-05")))
    assert 'data-tod="proposed"' in body and 'name="save"' in body
    assert sim.contactnow.rules == before
    assert not TodAudit.objects.exists()


def test_it_creates_a_holiday_rule_and_audits_it(admin_client, account, sim):
    response = admin_client.post(editor(account), rule_post(save="1"), follow=True)
    assert "Rule 9: created in ContactNow" in page(response)
    assert holiday_records(sim) == [{"policy": "2164", "rule": "9", "year": "2026", "month": "12", "date": "25",
                                     "days": "fri", "range": "00:00-24:00", "action": "hangup"}]
    audit = TodAudit.objects.get()
    assert (audit.username, audit.operation, audit.success, audit.before) == ("admin", "create", True, None)
    assert audit.after["ranges"] == [["00:00", "24:00"]] and audit.answer["key"]


def test_it_never_creates_a_rule_twice(admin_client, account, sim):
    admin_client.post(editor(account), rule_post(save="1"))
    response = admin_client.post(editor(account), rule_post(save="1"), follow=True)
    assert "already says exactly this" in page(response)
    admin_client.post(editor(account), rule_post(save="1", ranges="08:00-20:00"))
    assert [r["range"] for r in holiday_records(sim)] == ["08:00-20:00"]
    assert [a.operation for a in TodAudit.objects.order_by("at", "id")] == ["create", "update"]
    assert TodAudit.objects.order_by("-id").first().before[0]["ranges"] == [["00:00", "24:00"]]


def test_it_updates_a_rule_number_added_elsewhere_since_the_page_loaded(admin_client, account, sim):
    page(admin_client.get(editor(account)))
    sim.contactnow.add_rule("2164", "9", "sat", "9:0-10:0", "queue")  # in ContactNow's own console
    admin_client.post(editor(account), rule_post(save="1"))
    assert len(holiday_records(sim)) == 1 and holiday_records(sim)[0]["action"] == "hangup"
    assert ("tod_rules.create", "POST") not in sim.contactnow.requests
    assert TodAudit.objects.get().operation == "update"


@pytest.mark.parametrize(("changes", "words"), [
    ({"days": []}, "This field is required"),
    ({"ranges": "9-17"}, "write ranges as"),
    ({"ranges": "09:00-25:00"}, "not a time of day"),
    ({"ranges": "10:00-10:00"}, "is empty"),
    ({"action": "jump", "jump_queue": ""}, "needs the id"),
    ({"action": "transfer"}, "Select a valid choice"),
    ({"on_date": "2026-02-30"}, "Enter a valid date"),
    ({"rule": "0"}, "greater than or equal to 1"),
])
def test_it_validates_before_sending(admin_client, account, sim, changes, words):
    before = list(sim.contactnow.rules)
    body = page(admin_client.post(editor(account), rule_post(save="1", **changes)))
    assert words in body
    assert sim.contactnow.rules == before and not TodAudit.objects.exists()


def test_it_sends_nothing_once_the_token_has_expired(admin_client, account, sim):
    admin_client.post(editor(account), rule_post(save="1"))
    sim.contactnow.issue_token(TOKEN, ttl=-1)
    response = admin_client.post(editor(account), rule_post(save="1", ranges="10:00-11:00"), follow=True)
    assert "expired" in page(response)
    assert [r["range"] for r in holiday_records(sim)] == ["00:00-24:00"]
    assert TodAudit.objects.count() == 1


def test_it_records_an_answer_that_refuses_the_write(admin_client, account, sim):
    sim.contactnow.refuse_writes = "Record locked"
    sim.contactnow.add_rule("2164", "9", "fri", "1:0-2:0", "queue")
    response = admin_client.post(editor(account), rule_post(save="1"), follow=True)
    assert "refused the update" in page(response) and "Record locked" in response.content.decode()
    audit = TodAudit.objects.get()
    assert (audit.success, audit.operation) == (False, "update") and "Record locked" in audit.answer["error"]
    page(admin_client.get("/admin/boards/todaudit/"))


def test_it_reports_an_unreachable_account_on_the_editor(admin_client, account, sim):
    sim.contactnow.fail_status = 500
    assert "server error" in page(admin_client.get(editor(account)))


# --- a queue's schedule source -------------------------------------------------------------


def test_it_lets_a_queue_follow_an_8x8_schedule_or_a_policy_not_both(db, account):
    tenant = Tenant.objects.create(name="Acme", base_url="https://vcc-na4.8x8.com", tenant_name="acme", token="t")
    board = Board.objects.create(slug="b", title="B", tenant=tenant)
    row = BoardQueue(board=board, queue_id="1", schedule_id="122", contactnow_account=account, tod_policy="2164")
    with pytest.raises(ValidationError, match="not both"):
        row.full_clean()
    with pytest.raises(ValidationError, match="needs both"):
        BoardQueue(board=board, queue_id="1", contactnow_account=account).full_clean()
    BoardQueue(board=board, queue_id="1", contactnow_account=account, tod_policy="2164").full_clean()

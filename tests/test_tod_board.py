"""A queue that follows a ContactNow policy: open, closed or redirected on its tile, with the countdown.

The whole path over real HTTP: the simulator's database.php, the refresh task's service, a
poll cycle, the board state in Redis.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from wallboard.boards.models import Board, BoardQueue, ContactNowAccount, Tenant, Threshold
from wallboard.live import store
from wallboard.polling import tod
from wallboard.polling.clients import client_for
from wallboard.polling.cycle import poll_tenant
from wallboard.schedules import tod as engine
from wallboard.simulator.server import SimulatorServer

pytestmark = pytest.mark.django_db(transaction=True)
ZONE = "America/New_York"


@pytest.fixture
def sim(redis_client):
    server = SimulatorServer(port=0, agents=5, queues=4, seed=3)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def setup(sim):
    """Policies 10 (open now until a known time), 11 (closed), 12 (redirected to the second queue)."""
    cn = sim.contactnow
    now = datetime.now(ZoneInfo(ZONE)).replace(second=0, microsecond=0)
    start, end = now - timedelta(hours=1), now + timedelta(hours=2)
    cn.add_policy("10", "Support", "voicemail")
    cn.add_rule("10", "1", "mon,tue,wed,thu,fri,sat,sun", f"{start:%H:%M}-{end:%H:%M}", "queue")
    cn.add_policy("11", "Closed all day", "hangup")
    tenant = Tenant.objects.create(name="Sim", base_url=sim.base_url, tenant_name="demo", token="demo-token")
    queues = [q.queue_id for q in client_for(tenant).queues()]
    cn.add_policy("12", "Overflow", "jump:" + queues[1])
    account = ContactNowAccount.objects.create(name="Dxi", base_url=sim.base_url, token="cn-demo-token", time_zone=ZONE)
    board = Board.objects.create(slug="cn", title="CN", tenant=tenant)
    for position, policy in enumerate(["10", "11", "12"]):
        BoardQueue.objects.create(board=board, queue_id=queues[position], position=position,
                                  contactnow_account=account, tod_policy=policy)
    BoardQueue.objects.create(board=board, queue_id=queues[3], position=3, schedule_id="101")
    Threshold.objects.create(board=board, metric="queue_size", warn=-2, alert=-1)  # always alert unless muted
    return tenant, board, account, queues, end.astimezone(UTC)


def tiles(board):
    return store.load(board.slug).data["queues"]


def test_it_shows_open_closed_and_redirected_with_the_countdown(setup):
    tenant, board, account, queues, closes_at = setup
    assert tod.refresh_account(account.pk) == "ok"
    poll_tenant(tenant.pk)
    shown = tiles(board)
    open_, closed, redirected = (shown[q]["schedule"] for q in queues[:3])
    assert (open_["state"], open_["label"], open_["name"], open_["source"]) == ("open", "OPEN", "Support", "contactnow")
    assert datetime.fromisoformat(open_["next_change"]) == closes_at
    assert open_["next_state"] == "closed"
    assert (closed["state"], closed["next_change"]) == ("closed", None)
    assert redirected["state"] == "redirect"
    assert redirected["label"].startswith("Redirected to ") and redirected["label"] != f"Redirected to queue {queues[1]}"
    # Alarms: muted while closed only.
    assert shown[queues[0]]["states"]["queue_size"] == "alert"
    assert shown[queues[1]]["states"]["queue_size"] == "ok"
    assert shown[queues[2]]["states"]["queue_size"] == "alert"
    # The 8x8 schedule of the fourth queue was never fetched: unknown, not "missing".
    assert shown[queues[3]]["schedule"] is None


def test_it_agrees_with_the_engine(setup):
    tenant, board, account, queues, _ = setup
    tod.refresh_account(account.pk)
    poll_tenant(tenant.pk)
    data = tod.stored(account.pk)
    expected = engine.evaluate("voicemail", data.rules["10"], datetime.now(UTC), ZONE)
    assert tiles(board)[queues[0]]["schedule"]["state"] == expected.state


def test_it_shows_nothing_before_the_first_refresh_and_missing_for_a_deleted_policy(setup, sim):
    tenant, board, account, queues, _ = setup
    poll_tenant(tenant.pk)
    assert tiles(board)[queues[0]]["schedule"] is None
    sim.contactnow.policies.pop("11")
    tod.refresh_account(account.pk)
    poll_tenant(tenant.pk)
    assert tiles(board)[queues[1]]["schedule"]["state"] == "missing"
    assert tiles(board)[queues[0]]["schedule"]["state"] == "open"


def test_it_keeps_the_last_good_policies_when_a_refresh_fails(setup, sim):
    tenant, board, account, queues, _ = setup
    tod.refresh_account(account.pk)
    sim.contactnow.issue_token("cn-demo-token", ttl=-1)
    assert tod.refresh_account(account.pk) == "unauthorised"
    poll_tenant(tenant.pk)
    assert tiles(board)[queues[0]]["schedule"]["state"] == "open"
    assert account.pk not in tod.claim_due_refreshes()  # backing off, not retrying every tick


def test_it_refreshes_each_followed_account_once_per_interval(setup, redis_client):
    _, _, account, _, _ = setup
    unused = ContactNowAccount.objects.create(name="Unused", base_url="https://api-106.dxi.eu", token="x")
    assert tod.claim_due_refreshes() == [account.pk]
    assert tod.claim_due_refreshes() == []
    assert unused.pk not in tod.claim_due_refreshes()


def test_it_sees_a_change_saved_in_admin_at_the_next_refresh(setup, sim, admin_user):
    tenant, board, account, queues, _ = setup
    tod.refresh_account(account.pk)
    rule = tod.rule_from_form("11", {"rule": 5, "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                                     "ranges": [["00:00", "24:00"]], "action": "queue"})
    assert tod.save_rule(account, rule, admin_user).success
    assert account.pk in tod.claim_due_refreshes()
    tod.refresh_account(account.pk)
    poll_tenant(tenant.pk)
    assert tiles(board)[queues[1]]["schedule"]["state"] == "open"

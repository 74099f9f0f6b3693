"""Housekeeping of the delivery log: retention (ALERTS_KEEP_DAYS) and re-sending deliveries whose
worker died in the middle of sending."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.utils import timezone

from tests.alerts_helpers import webhook_fixture  # noqa: F401 - the fixture
from tests.helpers import wait_for
from wallboard.alerts import outbox, retention, tasks
from wallboard.alerts.models import AlertEvent, AlertRule, Delivery, NotificationChannel
from wallboard.boards.models import Board, Tenant

ROOT = Path(__file__).resolve().parent.parent
NOW = timezone.now()
OLD = NOW - timedelta(days=91)
RECENT = NOW - timedelta(days=89)


@pytest.fixture
def channel(db, webhook):
    return NotificationChannel.objects.create(name="hook", url=webhook.url())


@pytest.fixture
def alert_rule(db, channel):
    tenant = Tenant.objects.create(name="Acme", base_url="http://127.0.0.1:9", tenant_name="acme", token="tok-123")
    board = Board.objects.create(slug="ops", title="Operations", tenant=tenant)
    made = AlertRule.objects.create(board=board, name="feed", kind="feed")
    made.channels.set([channel])
    return made


def event(rule: AlertRule, key: str, started, cleared=None) -> AlertEvent:
    return AlertEvent.objects.create(rule=rule, key=key, subject=key, started=started, created=started, cleared=cleared)


def delivery(channel, outcome: str, finished=None, created=OLD, **fields) -> Delivery:
    return Delivery.objects.create(channel=channel, kind="start", title=f"{outcome} {finished}", body="b",
                                   outcome=outcome, finished=finished, created=created, **fields)


# --- Retention -----------------------------------------------------------------------------------


def test_it_prunes_finished_deliveries_and_closed_events_older_than_the_setting(alert_rule, channel, settings):
    settings.ALERTS_KEEP_DAYS = 90
    old_closed = event(alert_rule, "old closed", OLD - timedelta(hours=1), OLD)
    old_open = event(alert_rule, "old open", OLD)
    recent_closed = event(alert_rule, "recent closed", RECENT - timedelta(hours=1), RECENT)
    gone = [
        delivery(channel, "sent", OLD, event=old_closed), delivery(channel, "failed", OLD),
        delivery(channel, "sent", OLD, event=old_open),  # a delivery goes by its own age
    ]
    kept = [
        delivery(channel, "sent", RECENT), delivery(channel, "failed", RECENT),
        delivery(channel, "pending"), delivery(channel, "retrying"), delivery(channel, "sending", sending_since=OLD),
    ]
    pruned = retention.prune(NOW, batch=1)  # one row at a time: every batch path is walked
    assert (pruned.deliveries, pruned.events) == (3, 1)
    assert set(Delivery.objects.values_list("pk", flat=True)) == {d.pk for d in kept}
    assert not Delivery.objects.filter(pk__in=[d.pk for d in gone]).exists()
    assert set(AlertEvent.objects.values_list("pk", flat=True)) == {old_open.pk, recent_closed.pk}
    assert retention.prune(NOW) == retention.Pruned(0, 0)  # nothing left to do


def test_it_keeps_an_old_closed_event_that_a_delivery_still_waits_to_announce(alert_rule, channel, settings):
    settings.ALERTS_KEEP_DAYS = 90
    waiting = event(alert_rule, "waiting", OLD - timedelta(hours=1), OLD)
    in_digest = event(alert_rule, "in a digest", OLD - timedelta(hours=1), OLD)
    delivery(channel, "retrying", event=waiting)
    digest = delivery(channel, "pending")
    digest.events.set([in_digest])
    assert retention.prune(NOW) == retention.Pruned(0, 0)
    assert AlertEvent.objects.count() == 2


def test_it_follows_alerts_keep_days(alert_rule, channel, settings):
    settings.ALERTS_KEEP_DAYS = 30
    delivery(channel, "sent", NOW - timedelta(days=31))
    delivery(channel, "sent", NOW - timedelta(days=29))
    assert retention.prune(NOW).deliveries == 1
    assert tasks.prune_log() == 0  # the beat's task: the same service, nothing more to prune
    assert Delivery.objects.count() == 1


@pytest.mark.parametrize(("raw", "words"), [("ninety", "must be an integer"), ("0", "must be at least 1")])
def test_it_refuses_to_start_with_a_bad_alerts_keep_days(raw, words):
    env = {**os.environ, "ALERTS_KEEP_DAYS": raw, "DJANGO_SETTINGS_MODULE": "wallboard.settings"}
    done = subprocess.run([sys.executable, "-c", "import django; django.setup()"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert f"ALERTS_KEEP_DAYS {words}" in done.stderr


def test_it_keeps_ninety_days_by_default():
    from django.conf import settings

    assert settings.ALERTS_KEEP_DAYS == 90  # the test environment sets none
    assert {"alerts-prune-log", "alerts-requeue-stuck"} <= set(settings.CELERY_BEAT_SCHEDULE)


# --- Deliveries stuck in `sending` ---------------------------------------------------------------


def test_it_requeues_a_delivery_whose_worker_died_while_sending_and_sends_it_once(channel, webhook, redis_client):
    # What a killed worker leaves: claimed (attempt 1 counted), never finished.
    stuck = delivery(channel, "sending", attempts=1, created=NOW - timedelta(minutes=10),
                     sending_since=NOW - retention.STUCK_AFTER - timedelta(seconds=1))
    assert retention.requeue_stuck(NOW) == [stuck.pk]
    stuck.refresh_from_db()
    assert stuck.outcome == "retrying" and stuck.sending_since is None
    assert stuck.detail == "attempt 1 was interrupted (worker stopped while sending); queued again"
    assert retention.requeue_stuck(NOW) == []  # a second sweep finds nothing: queued once
    # The queued task runs (here, in the test's process): one message, attempt 2.
    assert outbox.deliver_one(stuck.pk) == "sent"
    assert outbox.deliver_one(stuck.pk) == "skipped"
    stuck.refresh_from_db()
    assert (stuck.outcome, stuck.attempts, stuck.sending_since) == ("sent", 2, None)
    assert len(webhook.received) == 1


def test_it_leaves_a_delivery_alone_while_its_send_may_still_be_running(channel):
    assert retention.STUCK_AFTER.total_seconds() > outbox.DELIVER_TIME_LIMIT
    assert tasks.deliver.time_limit == outbox.DELIVER_TIME_LIMIT
    live = delivery(channel, "sending", attempts=1, sending_since=NOW - retention.STUCK_AFTER + timedelta(seconds=1))
    assert retention.requeue_stuck(NOW) == []
    live.refresh_from_db()
    assert live.outcome == "sending" and live.detail == ""


def test_it_fails_a_stuck_delivery_that_has_no_attempt_left(channel):
    last = delivery(channel, "sending", attempts=outbox.MAX_ATTEMPTS, sending_since=NOW - timedelta(hours=1))
    assert retention.requeue_stuck(NOW) == []
    last.refresh_from_db()
    assert last.outcome == "failed" and last.finished is not None
    assert last.detail.startswith(f"attempt {outbox.MAX_ATTEMPTS} was interrupted") and "no attempts left" in last.detail


def test_it_records_when_each_attempt_was_claimed(channel, webhook):
    sent = delivery(channel, "pending")
    assert outbox.deliver_one(sent.pk) == "sent"
    sent.refresh_from_db()
    assert sent.sending_since is None and sent.finished is not None  # cleared once the attempt ends
    assert tasks.requeue_stuck() == 0


class HeldReceiver:
    """A webhook that holds each request until released, and says when one has arrived."""

    def __init__(self) -> None:
        self.arrived, self.release = threading.Event(), threading.Event()
        self.titles: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the http.server API)
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                receiver.arrived.set()
                receiver.release.wait(60)
                receiver.titles.append(body.get("title", ""))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.server.server_address[1]}/"


@pytest.fixture
def held_receiver():
    receiver = HeldReceiver()
    yield receiver
    receiver.release.set()
    receiver.server.shutdown()
    receiver.server.server_close()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_it_resends_once_what_a_killed_worker_was_sending(subprocess_env, redis_client, held_receiver, tmp_path):
    """A real worker, killed (SIGKILL) while the receiver holds its request: at least once."""
    channel = NotificationChannel.objects.create(name="slow hook", url=held_receiver.url)
    log = open(tmp_path / "worker.log", "w")  # noqa: SIM115 (closed below)
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "wallboard", "worker", "--pool", "solo", "--loglevel", "INFO",
         "--without-gossip", "--without-mingle", "--hostname", f"killed-{os.getpid()}@%h"],
        cwd=ROOT, env=subprocess_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        sent = Delivery.objects.create(channel=channel, kind="start", title="ALERT once", body="b")
        outbox.enqueue([sent.pk])
        assert held_receiver.arrived.wait(90), "the worker never reached the receiver"
        os.killpg(worker.pid, signal.SIGKILL)  # in the middle of sending
        worker.wait(10)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(10)
        log.close()
    held_receiver.release.set()  # the killed attempt's message lands after all
    assert Delivery.objects.get(pk=sent.pk).outcome == "sending"  # nobody left to finish it
    assert retention.requeue_stuck() == []  # not yet: for all we know it is still running
    # Its time comes (moved rather than waited for).
    Delivery.objects.filter(pk=sent.pk).update(sending_since=timezone.now() - retention.STUCK_AFTER - timedelta(seconds=1))
    assert retention.requeue_stuck() == [sent.pk]
    assert retention.requeue_stuck() == []
    assert outbox.deliver_one(sent.pk) == "sent"  # the queued task, run here
    sent.refresh_from_db()
    assert (sent.outcome, sent.attempts) == ("sent", 2)
    assert "attempt 1 was interrupted" not in sent.detail  # the last attempt's words now
    # The killed attempt had reached the receiver: it got the message twice, and no more.
    wait_for(lambda: len(held_receiver.titles) == 2, timeout=30, what="both requests recorded")
    assert held_receiver.titles == ["ALERT once", "ALERT once"]

"""Alert deliveries through real Celery workers: two of them, one webhook, each message once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.alerts_helpers import webhook_fixture  # noqa: F401 - the fixture
from tests.helpers import wait_for
from wallboard.alerts import outbox
from wallboard.alerts.models import Delivery, NotificationChannel

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def workers(subprocess_env, redis_client, tmp_path):
    """Two Celery worker processes on the test's Redis and database."""
    procs = []
    for n in range(2):
        log = open(tmp_path / f"worker{n}.log", "w")  # noqa: SIM115 (closed with the process)
        procs.append((subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "wallboard", "worker", "--pool", "solo", "--loglevel", "INFO",
             "--without-gossip", "--without-mingle", "--hostname", f"alerts{n}-{os.getpid()}@%h"],
            cwd=ROOT, env=subprocess_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        ), log))
    yield procs
    for proc, log in procs:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
        log.close()


def test_it_delivers_each_message_once_with_two_workers_even_when_queued_twice(workers, webhook):
    channel = NotificationChannel.objects.create(name="hook", url=webhook.url())

    def make(title: str) -> int:
        return Delivery.objects.create(channel=channel, kind="start", title=title, body="b").pk

    ids = [make(f"ALERT {n}") for n in range(6)]
    outbox.enqueue(ids + ids)  # every task twice, at once: two workers race for each
    wait_for(lambda: Delivery.objects.filter(pk__in=ids, outcome="sent").count() == len(ids), timeout=90,
             what="every delivery sent by the workers")
    # Queued again later (a redelivered message), then markers behind them in the queue.
    markers = [make(f"MARKER {n}") for n in range(2)]
    outbox.enqueue(ids + markers)
    wait_for(lambda: Delivery.objects.filter(pk__in=markers, outcome="sent").count() == 2, timeout=90,
             what="the markers sent")
    titles = sorted(r["body"]["title"] for r in webhook.received)
    assert titles == sorted([f"ALERT {n}" for n in range(6)] + ["MARKER 0", "MARKER 1"])
    assert set(Delivery.objects.filter(pk__in=ids).values_list("attempts", flat=True)) == {1}

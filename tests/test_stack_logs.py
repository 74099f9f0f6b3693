"""At the default level the log says what changes, not that a second went by.

Per-tick and per-task lines (beat's "Sending due task", the worker's "received" and "succeeded
in") show at LOG_LEVEL=DEBUG only; a tenant's change of state is one line naming it, and each
admin action one line naming the display or tenant and who acted.
"""

from __future__ import annotations

import logging
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.helpers import wait_for
from tests.stack_fixtures import sim, stack_rows, start_stack
from wallboard.boards.models import Board, Display, DisplayBoard, Tenant
from wallboard.devstack.stack import BASE_DIR
from wallboard.live import publish
from wallboard.polling.health import record_failure, record_success
from wallboard.vcc.errors import UnauthorisedError

PER_TICK = ("Sending due task", " received", " succeeded in")
DEMO_TENANT = "'Demo (simulator)'"


def read(path: Path, start: int = 0) -> str:
    return path.read_bytes()[start:].decode(errors="replace")


def lines_with(text: str, *needles: str) -> list[str]:
    return [line for line in text.splitlines() if all(n in line for n in needles)]


@pytest.fixture(scope="module")
def stack():
    # Retry refused credentials every 2 s, so the test sees several failed polls (one line).
    stack = start_stack(LOG_LEVEL="INFO", WALLBOARD_UNAUTHORISED_RETRY="2")
    try:
        yield stack
    finally:
        stack.stop()


def refused(stack) -> int:
    """How many polls the simulator refused (bad credentials)."""
    return sim(stack, "/_sim/state")["responses"].get("403", 0)


def health_state(stack) -> str | None:
    """The demo tenant's polling state, as the worker recorded it in the stack's database."""
    rows = stack_rows(stack, "SELECT state FROM boards_tenanthealth")
    return rows[0][0] if rows else None


@pytest.mark.slow
def test_it_logs_a_tenant_change_once_and_no_ticks_at_info(stack):
    worker_log, beat_log = stack.run_dir / "worker.log", stack.run_dir / "beat.log"
    wait_for(lambda: health_state(stack) == "ok", 60, "the first poll")
    started = time.monotonic()

    sim(stack, "/_sim/revoke", {})
    before = refused(stack)
    wait_for(lambda: refused(stack) >= before + 3, 30, "three refused polls")
    sim(stack, "/_sim/restore", {})
    wait_for(lambda: health_state(stack) == "ok", 30, "a good poll again")
    time.sleep(max(1.0, 15 - (time.monotonic() - started)))  # at least 15 s of ticks and polls

    worker, beat = read(worker_log), read(beat_log)
    for line in PER_TICK:
        assert line not in worker and line not in beat, f"{line!r} is logged at INFO"
    assert len(lines_with(worker, DEMO_TENANT, "ok -> unauthorised")) == 1, worker[-3000:]
    assert len(lines_with(worker, DEMO_TENANT, "unauthorised -> ok")) == 1, worker[-3000:]
    assert re.search(r" (WARNING|INFO) wallboard\.polling\.health: tenant 'Demo \(simulator\)' \(id \d+\): "
                     r"ok -> unauthorised: bad credentials", worker), "one line at the default level, naming the tenant"


@pytest.mark.slow
def test_it_logs_every_tick_and_task_at_debug(stack):
    worker_log, beat_log = stack.run_dir / "worker.log", stack.run_dir / "beat.log"
    worker_from, beat_from = worker_log.stat().st_size, beat_log.stat().st_size
    stack.env_extra["LOG_LEVEL"] = "DEBUG"
    stack.restart("beat")
    stack.restart("worker")

    wait_for(lambda: "Sending due task dispatch-polls" in read(beat_log, beat_from), 60, "beat's per-tick line")
    wait_for(lambda: lines_with(read(worker_log, worker_from), "polling.tasks.tick[", " received"), 60, "received")
    wait_for(lambda: lines_with(read(worker_log, worker_from), "polling.tasks.tick[", " succeeded in"), 60, "done")


def test_it_follows_log_level_in_worker_and_beat_and_their_settings(tmp_path):
    from wallboard.devstack.stack import Stack

    stack = Stack(tmp_path, web_port=1, sim_port=2, env_extra={"LOG_LEVEL": "debug"})
    assert stack.log_level == "DEBUG"
    script = (
        "import logging, django; django.setup(); "
        "print(*[logging.getLogger(n).getEffectiveLevel() for n in "
        "('celery.beat', 'celery.worker.strategy', 'celery.app.trace', 'wallboard')])"
    )
    levels = {}
    for level in ("INFO", "DEBUG", "ERROR"):
        out = subprocess.run(
            [sys.executable, "-c", script], cwd=BASE_DIR, capture_output=True, text=True, check=True,
            env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "wallboard.settings", "LOG_LEVEL": level},
        ).stdout.split()
        levels[level] = [int(n) for n in out]
    assert levels["INFO"] == [logging.WARNING] * 3 + [logging.INFO]
    assert levels["DEBUG"] == [logging.DEBUG] * 4
    assert levels["ERROR"] == [logging.ERROR] * 4


# --- Lines without a stack ---------------------------------------------------------------------


@pytest.fixture
def tenant(db):
    return Tenant.objects.create(name="Acme", base_url="https://vcc-na4.8x8.com", tenant_name="acme", token="t0ken")


@pytest.fixture
def display(tenant):
    board = Board.objects.create(slug="support", title="Support", tenant=tenant)
    Board.objects.create(slug="sales", title="Sales", tenant=tenant)
    display = Display(name="Lobby TV")
    display.issue_token()
    display.save()
    DisplayBoard.objects.create(display=display, board=board)
    return display


def test_it_logs_each_health_change_once_with_the_tenant_name(tenant, caplog):
    refused = UnauthorisedError("HTTP 403", status=403)
    now = datetime.now(UTC)
    with caplog.at_level(logging.DEBUG, logger="wallboard"):
        record_success(tenant, 10, now)
        for _ in range(3):
            record_success(tenant, 10, now)
        for _ in range(3):
            record_failure(tenant, refused, 10, now)
        record_success(tenant, 10, now)
    lines = [r.getMessage() for r in caplog.records if r.name == "wallboard.polling.health"]
    assert lines == [
        f"tenant 'Acme' (id {tenant.pk}): pending -> ok",
        f"tenant 'Acme' (id {tenant.pk}): ok -> unauthorised: bad credentials: HTTP 403",
        f"tenant 'Acme' (id {tenant.pk}): unauthorised -> ok",
    ]


def test_it_logs_admin_actions_with_the_user_and_the_display(admin_client, admin_user, display, monkeypatch, caplog):
    monkeypatch.setattr(publish, "send_display_control", lambda display_id, action, **kw: None)
    sales = Board.objects.get(slug="sales")
    selected = {"_selected_action": [display.pk]}
    with caplog.at_level(logging.INFO, logger="wallboard.boards"):
        admin_client.post("/admin/boards/display/", {"action": "issue_new_url", **selected})
        admin_client.post("/admin/boards/display/", {"action": "reload_now", **selected})
        admin_client.post("/admin/boards/display/", {"action": "switch_board", "apply": "Switch", "board": sales.pk,
                                                     "seconds": "60", **selected})
        admin_client.post("/admin/boards/display/", {"action": "revoke", **selected})
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    named = f"display 'Lobby TV' (id {display.pk})"
    by = f"by '{admin_user.username}'"
    for done in ("new URL issued", "asked to reload", "switched to board 'sales'", "revoked"):
        assert [line for line in lines if line.startswith(f"{named}: {done}") and by in line], (done, lines)
    assert not [line for line in lines if display.token_hash in line], "never the token or its hash"


def test_it_logs_a_connection_test_with_the_user_and_the_tenant(admin_client, admin_user, tenant, monkeypatch, caplog):
    from wallboard.boards import admin as boards_admin

    monkeypatch.setattr(boards_admin, "test_tenant_connection", lambda t: (False, f"{t}: connection failed: refused"))
    with caplog.at_level(logging.INFO, logger="wallboard.boards"):
        admin_client.post(f"/admin/boards/tenant/{tenant.pk}/test-connection/")
    assert [r.getMessage() for r in caplog.records if r.name == "wallboard.boards.admin"] == [
        f"tenant 'Acme' (id {tenant.pk}): connection tested by '{admin_user.username}'; connection failed: refused"
    ]

"""`manage.py notify_test URL`: one line on success, `error: …` on stderr and exit status 1 on failure."""

from __future__ import annotations

import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.alerts_helpers import Smtp, Webhook, free_port

ROOT = Path(__file__).resolve().parent.parent
SECRET = "s3cretPassw0rd"


@pytest.fixture
def webhook():
    hook = Webhook().start()
    yield hook
    hook.stop()


def run(*args: str) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("notify_test", *args, stdout=out, stderr=err)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def test_it_delivers_to_a_webhook_and_says_where(webhook):
    code, out, err = run(webhook.url(auth=f"bot:{SECRET}"))
    assert (code, err) == (0, "")
    assert out.strip() == "delivered to json://127.0.0.1"
    assert webhook.received[0]["body"]["title"] == "Wallboard test notification"


def test_it_delivers_an_email():
    smtp = Smtp().start()
    try:
        code, out, _ = run(smtp.url())
    finally:
        smtp.stop()
    assert code == 0 and out.strip() == "delivered to mailto://127.0.0.1"
    assert len(smtp.messages) == 1


@pytest.mark.parametrize("status", [401, 404, 500])
def test_it_fails_with_one_line_when_the_receiver_refuses(webhook, status):
    webhook.status = status
    code, out, err = run(webhook.url(auth=f"bot:{SECRET}"))
    assert code == 1 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: json://127.0.0.1: ") and f"error={status}" in lines[0]
    assert SECRET not in err


def test_it_fails_when_nothing_listens():
    code, _, err = run(f"json://127.0.0.1:{free_port()}/")
    assert code == 1 and "Connection error" in err and len(err.strip().splitlines()) == 1


def test_it_fails_on_a_slow_receiver_after_its_timeout(webhook):
    webhook.delay = 3
    code, _, err = run(webhook.url(), "--timeout", "1")
    assert code == 1 and "timed out after 1 s" in err


@pytest.mark.parametrize("url", ["nosuchservice://x", "not a url", "slack://only-one-part"])
def test_it_fails_on_a_url_apprise_cannot_use(url):
    code, _, err = run(url)
    assert code == 1 and err.startswith("error: ") and len(err.strip().splitlines()) == 1


def test_it_exits_with_status_1_as_a_real_process():
    result = subprocess.run(
        [sys.executable, "manage.py", "notify_test", f"json://bot:{SECRET}@127.0.0.1:{free_port()}/"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert result.stderr.startswith("error: json://127.0.0.1: ") and SECRET not in result.stderr

"""A tenant whose stored token no key decrypts: the TV says in words that it must be entered again.

The status message (for supervisors) says what admin must do; a TV says only that the token
must be entered again and who can do it.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect
from wb_harness import Session, make_board_state

from wallboard.boards.crypto import unreadable_message
from wallboard.polling.health import failure_message

pytestmark = pytest.mark.browser

STATE = "unreadable_secret"
# The message exactly as the poller writes it.
MESSAGE = failure_message(STATE, unreadable_message(["token"]))
WORDS = "The wallboard's 8x8 token must be entered again — ask your administrator"


def open_with_status(conn) -> None:
    session = Session()
    conn.send(session.snapshot(make_board_state(queues=2, agents=3)))
    conn.send(session.status(STATE, MESSAGE))


def test_it_tells_the_tv_the_token_must_be_entered_again(kiosk_page, page):
    conn = kiosk_page()
    open_with_status(conn)

    banner = page.locator('[data-banner="status"]')
    expect(banner).to_be_visible()
    expect(banner).to_have_text(WORDS)
    expect(page.locator(".wb")).to_have_attribute("data-upstream", STATE)
    assert "current keys" not in page.locator(".wb").text_content()


def test_it_gives_the_supervisor_what_admin_must_do(harness, page):
    conn = harness.supervisor_page(page, user=User(username="sam"))
    open_with_status(conn)

    banner = page.locator('[data-banner="status"]')
    expect(banner).to_contain_text(WORDS)
    expect(banner.locator(".banner-detail")).to_have_text(MESSAGE)
    assert "the stored token cannot be read with the current keys: enter it again" in MESSAGE

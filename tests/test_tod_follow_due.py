"""An account newly followed (or enabled) is refreshed at the next tick, not within a minute.

The ContactNow due set learns new accounts from the database once a minute; the admin's saves
tell it at once. Real Redis; saves inside a transaction, as admin makes them.
"""

from __future__ import annotations

import pytest
from django.db import transaction

from wallboard.boards.models import Board, BoardQueue, ContactNowAccount, Tenant
from wallboard.polling import tasks, tod

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def board(redis_client) -> Board:
    # Port 9 (discard): nothing answers, and nothing here calls it.
    tenant = Tenant.objects.create(name="T", base_url="http://127.0.0.1:9", tenant_name="t", token="x")
    board = Board.objects.create(slug="cn", title="CN", tenant=tenant)
    tasks.tick()  # the due sets are built and reconciled: the next rebuild is a minute away
    tod.claim_due_refreshes()
    return board


def follow(board: Board, account: ContactNowAccount) -> None:
    with transaction.atomic():
        BoardQueue.objects.create(board=board, queue_id="1000", contactnow_account=account, tod_policy="10")


def test_it_refreshes_a_newly_followed_account_at_the_next_tick(board):
    account = ContactNowAccount.objects.create(name="A", base_url="http://127.0.0.1:9", token="x")
    assert account.pk not in tod.claim_due_refreshes()  # nobody follows it yet
    follow(board, account)
    assert tod.claim_due_refreshes() == [account.pk]


def test_it_refreshes_an_account_enabled_again_at_the_next_tick(board):
    account = ContactNowAccount.objects.create(name="A", base_url="http://127.0.0.1:9", token="x", enabled=False)
    follow(board, account)
    assert account.pk not in tod.claim_due_refreshes()
    with transaction.atomic():
        account.enabled = True
        account.save()
    assert tod.claim_due_refreshes() == [account.pk]


def test_it_stops_refreshing_an_account_disabled_in_admin(board):
    account = ContactNowAccount.objects.create(name="A", base_url="http://127.0.0.1:9", token="x")
    follow(board, account)
    tod.rebuild_due_set()  # the minute's rebuild: in the set whatever made it so
    assert tod.claim_due_refreshes() == [account.pk]
    with transaction.atomic():
        account.enabled = False
        account.save()
    tod.refresh_now(account.pk)  # its rules were edited: due now, were it still in the set
    assert tod.claim_due_refreshes() == []

"""Reconciling the local status with the one 8x8's /status endpoint gave."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from wallboard.schedules.engine import evaluate, reconcile

OFFICE = {
    "id": "5", "name": "office", "time_zone": "UTC", "exceptions": [],
    "week_days": [{"day": 1, "properties": [{"status": 0, "start_time": "09:00", "end_time": "17:00"}]}],
}
MONDAY_10 = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)


def test_it_uses_the_local_status_when_both_agree():
    result = reconcile(evaluate(OFFICE, MONDAY_10, "UTC"), 0, MONDAY_10)
    assert (result.status, result.source, result.agree, result.reason) == (0, "local", True, "agree")


def test_it_lets_the_api_win_a_disagreement_until_the_next_refresh():
    local = evaluate(OFFICE, MONDAY_10, "UTC")
    result = reconcile(local, "CHOICE #2", datetime(2026, 6, 1, 9, 58, tzinfo=UTC))
    assert (result.status, result.label, result.state, result.source, result.agree) == (2, "CHOICE #2", "choice", "api", False)
    assert (result.local_status, result.api_status) == (0, 2)


def test_it_drops_an_api_answer_older_than_the_latest_scheduled_change():
    # 8x8 said CLOSED at 08:59; the schedule opened at 09:00: that answer is about before.
    local = evaluate(OFFICE, datetime(2026, 6, 1, 9, 0, 5, tzinfo=UTC), "UTC")
    result = reconcile(local, -1, datetime(2026, 6, 1, 8, 59, tzinfo=UTC))
    assert (result.status, result.source, result.agree) == (0, "local", False)
    assert "predates" in result.reason


def test_it_keeps_both_answers_for_logs_and_health():
    result = reconcile(evaluate(OFFICE, MONDAY_10, "UTC"), -1, MONDAY_10)
    assert result.to_dict() == {
        "status": -1, "label": "CLOSED", "state": "closed", "source": "api", "agree": False,
        "local_status": 0, "api_status": -1, "checked_at": "2026-06-01T10:00:00+00:00",
        "reason": "disagree: API wins until the next refresh",
    }
    assert "local OPEN" in result.log_line() and "api CLOSED" in result.log_line()


def test_it_uses_the_local_status_without_an_api_answer():
    result = reconcile(evaluate(OFFICE, MONDAY_10, "UTC"), None, None)
    assert (result.status, result.source, result.agree, result.api_status) == (0, "local", None, None)
    assert "api none" in result.log_line()


def test_it_rejects_a_garbage_api_status():
    with pytest.raises(ValueError):
        reconcile(evaluate(OFFICE, MONDAY_10, "UTC"), "MAYBE", MONDAY_10)

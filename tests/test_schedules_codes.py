"""Status codes: the spellings 8x8 sends and the labels we show."""

from __future__ import annotations

import json

import pytest

from wallboard.schedules.engine import parse_status, status_label
from wallboard.vcc.errors import MalformedError
from wallboard.vcc.parse import parse_schedule_status


@pytest.mark.parametrize(
    "value, code",
    [
        (0, 0), (-1, -1), ("0", 0), ("-1", -1), ("OPEN", 0), ("CLOSED", -1), ("open", 0), (" Closed ", -1),
        ("CHOICE #3", 3), ("Choice #3", 3), ("CHOICE3", 3), ("choice 3", 3), ("3", 3), (6, 6), (1.0, 1),
    ],
)
def test_it_parses_the_documented_spellings(value, code):
    assert parse_status(value) == code


@pytest.mark.parametrize(
    "value", [None, "", "OPENED", "CHOICE #7", "CHOICE #0", 7, -2, "7", True, 0.5, [0], "CHOICE", "0_0", "-1_0"]
)
def test_it_rejects_garbage_statuses(value):
    with pytest.raises(ValueError):
        parse_status(value)


def test_it_labels_every_code():
    assert [status_label(c) for c in (0, -1, 1, 2, 3, 4, 5, 6)] == [
        "OPEN", "CLOSED", "CHOICE #1", "CHOICE #2", "CHOICE #3", "CHOICE #4", "CHOICE #5", "CHOICE #6",
    ]


def test_it_refuses_to_label_an_unknown_code():
    with pytest.raises(ValueError):
        status_label(9)


def test_it_round_trips_labels_through_parse_status():
    for code in (0, -1, 1, 2, 3, 4, 5, 6):
        assert parse_status(status_label(code)) == code


@pytest.mark.parametrize("value", [0, "0", " -1 ", "CLOSED", "choice 3", "0_0", "1_0", "OPENED", 7, "7", True, None])
def test_it_reads_statuses_as_the_8x8_client_does(value):
    # One rule: a status the engine reads is one the client reads from /status, and the same.
    body = json.dumps({"schedule-status": {"status": value}}).encode()
    try:
        engine = parse_status(value)
    except ValueError:
        with pytest.raises(MalformedError):
            parse_schedule_status(body)
    else:
        assert parse_schedule_status(body).status == engine

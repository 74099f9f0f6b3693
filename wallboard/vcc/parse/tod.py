"""ContactNow `database.php` answers (tod_rules, tod_policies) -> records.

The document's quirks are all tolerated (../shared/api/NOTES.md): values as strings, minutes
and hours of one digit (`14:0-16:0`), XML declared ISO-8859-1, XML answers without their
closing `</result>`, and a read answer shaped as policies where rules were asked for (the
items say which they are). `success` false/0 under HTTP 200 is returned here as it is; the
client turns it into a typed error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ..errors import MalformedError
from . import sniff
from .load import as_list, element_value, load_json, load_xml

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_DAYS = {name: name[:3] for name in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")}
_TIME = re.compile(r"^(\d{1,2}):(\d{1,2})$")
_CLOSING = re.compile(rb"</result>\s*\Z")


@dataclass(frozen=True)
class TodPolicy:
    """A time-of-day policy: its id, name and the action when no rule matches."""

    uid: str
    description: str
    default: str

    def to_dict(self) -> dict[str, Any]:
        return {"uid": _number(self.uid), "description": self.description, "default": self.default}


@dataclass(frozen=True)
class TodRule:
    """One numbered rule of a policy, normalised: day names, zero-padded HH:MM ranges."""

    policy: str
    rule: int
    year: int = 0
    month: int = 0
    date: int = 0
    days: tuple[str, ...] = ()
    ranges: tuple[tuple[str, str], ...] = ()
    action: str = "queue"

    def to_dict(self) -> dict[str, Any]:
        """The shape `vcc tod rules` prints and the engine reads."""
        return {
            "policy": _number(self.policy),
            "rule": self.rule,
            "year": self.year,
            "month": self.month,
            "date": self.date,
            "days": list(self.days),
            "ranges": [list(pair) for pair in self.ranges],
            "action": self.action,
        }

    def wire(self) -> dict[str, str]:
        """The payload record: every value a string, as the document shows."""
        return {
            "policy": self.policy,
            "rule": str(self.rule),
            "year": str(self.year),
            "month": str(self.month),
            "date": str(self.date),
            "days": ",".join(self.days),
            "range": ",".join(f"{start}-{end}" for start, end in self.ranges),
            "action": self.action,
        }

    def same_content(self, other: TodRule) -> bool:
        """True if both say the same thing (the editor never creates such a rule twice)."""
        return self.to_dict() == other.to_dict()


@dataclass(frozen=True)
class TodAnswer:
    """A database.php answer: success, counts, create's key, error, and any records listed."""

    success: bool
    error: str | None = None
    total: int | None = None
    bad: int | None = None
    key: str | None = None
    account_id: str | None = None
    rules: tuple[TodRule, ...] = field(default=())
    policies: tuple[TodPolicy, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """What `vcc tod create|update` prints."""
        return {"success": self.success, "key": _number(self.key) if self.key else None,
                "total": self.total, "bad": self.bad}


# Values -------------------------------------------------------------------------------------


def parse_time(text: str) -> str:
    """"14:0" -> "14:00"; ValueError for anything that is not a time of day (24:00 allowed)."""
    m = _TIME.match(text.strip())
    if not m:
        raise ValueError(f"not a time of day: {text.strip()[:20]!r}")
    hours, minutes = int(m.group(1)), int(m.group(2))
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise ValueError(f"not a time of day: {text.strip()[:20]!r}")
    return f"{hours:02d}:{minutes:02d}"


def parse_ranges(text: str) -> tuple[tuple[str, str], ...]:
    """"09:00-12:00,13:15-17:45" -> (("09:00", "12:00"), ("13:15", "17:45"))."""
    out = []
    for part in text.split(","):
        if not part.strip():
            continue
        start, sep, end = part.partition("-")
        if not sep:
            raise ValueError(f"not a time range: {part.strip()[:30]!r}")
        out.append((parse_time(start), parse_time(end)))
    return tuple(out)


def parse_days(text: str) -> tuple[str, ...]:
    """"mon,tue" (also "Monday", " MON ") -> ("mon", "tue"); ValueError for other words."""
    out: list[str] = []
    for part in text.split(","):
        word = part.strip().lower()
        if not word:
            continue
        day = _FULL_DAYS.get(word, word)
        if day not in DAY_NAMES:
            raise ValueError(f"not a day name: {part.strip()[:20]!r}")
        if day not in out:
            out.append(day)
    return tuple(out)


def rule_problems(rule: TodRule) -> list[str]:
    """What is wrong with a rule before it is sent (the admin editor asks the same)."""
    problems = []
    if rule.rule < 1:
        problems.append("the rule number must be 1 or more")
    if not rule.days:
        problems.append("name at least one day")
    if not rule.ranges:
        problems.append("give at least one time range, e.g. 09:00-17:00 (00:00-24:00 for the whole day)")
    for start, end in rule.ranges:
        if start == "24:00" or (start == end and start != "00:00"):
            problems.append(f"the range {start}-{end} is empty")
    action = rule.action
    if action not in ("queue", "voicemail", "hangup") and not (action.startswith("jump:") and action[5:].isdigit()):
        problems.append("the action must be queue, voicemail, hangup or jump:<queue id>")
    if rule.year and not 2000 <= rule.year <= 2100:
        problems.append("the year must be 0 (any) or a year such as 2026")
    if not 0 <= rule.month <= 12:
        problems.append("the month must be 0 (any) or 1-12")
    if not 0 <= rule.date <= 31:
        problems.append("the date must be 0 (any) or 1-31")
    if rule.year and rule.month and rule.date:
        try:
            date(rule.year, rule.month, rule.date)
        except ValueError:
            problems.append(f"{rule.year}-{rule.month:02d}-{rule.date:02d} is not a date")
    return problems


def _int(value: Any, name: str) -> int:
    text = "" if value is None else str(value).strip()
    if text == "":
        return 0
    try:
        return int(text)
    except ValueError:
        raise MalformedError(f"{name} is not a number: {text[:20]!r}") from None


def _number(value: str | None) -> int | str | None:
    """An id printed as a number when it is one."""
    return int(value) if value is not None and value.isdigit() else value


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def rule_from(item: dict[str, Any]) -> TodRule:
    """A rule from one listed record (JSON object or XML <tod_rule>)."""
    try:
        days = parse_days(_text(item.get("days")))
        ranges = parse_ranges(_text(item.get("range", item.get("ranges"))))
    except ValueError as exc:
        raise MalformedError(f"rule {_text(item.get('rule'))[:10]} of policy {_text(item.get('policy'))[:12]}: {exc}") from None
    return TodRule(
        policy=_text(item.get("policy")),
        rule=_int(item.get("rule"), "rule"),
        year=_int(item.get("year"), "year"),
        month=_int(item.get("month"), "month"),
        date=_int(item.get("date"), "date"),
        days=days,
        ranges=ranges,
        action=_text(item.get("action")).lower(),
    )


def policy_from(item: dict[str, Any]) -> TodPolicy:
    return TodPolicy(
        uid=_text(item.get("uid")),
        description=_text(item.get("description")),
        default=_text(item.get("default")).lower() or "queue",
    )


# Answers ------------------------------------------------------------------------------------


def parse_answer(body: bytes) -> TodAnswer:
    """Any tod_rules/tod_policies answer, JSON or XML, as a TodAnswer."""
    data = _load(body)
    if not isinstance(data, dict):
        raise MalformedError("expected an object with success")
    if "success" not in data:
        raise MalformedError("the answer has no success field")
    items = _items(data.get("list"))
    rules, policies = [], []
    for item in items:
        if not isinstance(item, dict):
            raise MalformedError("a listed record is not an object")
        if "rule" in item:
            rules.append(rule_from(item))
        elif "uid" in item:
            policies.append(policy_from(item))
        else:
            raise MalformedError("a listed record is neither a rule nor a policy")
    total = _optional_int(data.get("total"))
    answer = TodAnswer(
        success=_success(data.get("success")),
        error=_text(data.get("error")) or None,
        total=total,
        bad=_optional_int(data.get("bad")),
        key=_text(data.get("key")) or None,
        account_id=_text(data.get("account_id")) or None,
        rules=tuple(rules),
        policies=tuple(policies),
    )
    if answer.success and "list" in data and total is not None and total != len(items):
        # A read answer names its count: fewer records means a cut-off answer.
        raise MalformedError(f"the answer says {total} records but lists {len(items)}")
    return answer


def _success(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = _text(value).lower()
    if text in ("1", "true"):
        return True
    if text in ("0", "false", ""):
        return False
    raise MalformedError(f"success is neither true nor false: {text[:10]!r}")


def _optional_int(value: Any) -> int | None:
    text = _text(value)
    return _int(text, "a count") if text else None


def _items(value: Any) -> list[Any]:
    """The records under `list`: a JSON list, or the XML <tod_rule>/<tod_policy> children."""
    if isinstance(value, dict):
        found: list[Any] = []
        for tag in ("tod_rule", "tod_policy"):
            found += as_list(value.get(tag))
        if not found and value:
            raise MalformedError(f"unexpected records: {', '.join(sorted(value))[:60]}")
        return found
    return as_list(value)


def _load(body: bytes) -> Any:
    """JSON (UTF-8, else ISO-8859-1) or XML (the root may be left unclosed) as plain data."""
    if sniff.kind(body) == "json":
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            body = body.decode("iso-8859-1").encode("utf-8")  # as its XML answers are
        return load_json(body)
    if b"<result" in body[:200] and not _CLOSING.search(body):
        body = body.rstrip() + b"\n</result>"  # the document's create/update answers stop there
    root = load_xml(body)
    value = element_value(root)
    return value if isinstance(value, dict) else {}

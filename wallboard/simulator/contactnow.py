"""A stand-in ContactNow `database.php`: time-of-day policies and rules, as the document shows them.

    cn = ContactNowSim(clock=time.time)
    cn.issue_token("cn-token", ttl=3600, address="127.0.0.1")   # None: any address
    cn.add_policy("2164", "MyTOD", "voicemail")

The answers copy the document (../shared/api/contactnow-tod-rules-api.txt), quirks included:
every value a string, one-digit minutes as stored (`14:0-16:0`), XML declared ISO-8859-1 and
encoded so, the create and update XML answers without their closing `</result>`, failures as
`success: false` (JSON) or `<success>0</success>` (XML) with an `error` under HTTP 200, and
`create` adding the same rule again as a duplicate. Tokens expire and may be bound to the
address that asked for them. `quirk_policies_on_read` makes a rule read answer with policies, as
the document's read example does. Nothing here comes from wallboard.vcc or wallboard.schedules.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs
from xml.etree import ElementTree
from xml.sax.saxutils import escape

ACCOUNT_ID = "10278"
FIELDS = ("policy", "rule", "year", "month", "date", "days", "range", "action")
DAYS = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
MAX_BODY = 65536


@dataclass
class Grant:
    expires: float
    address: str | None


class ContactNowSim:
    """Policies, rules and tokens of one ContactNow account; handle() answers a request."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.tokens: dict[str, Grant] = {}
        self.policies: dict[str, dict[str, str]] = {}
        self.rules: list[dict[str, str]] = []
        self.next_key = 212603
        self.requests: list[tuple[str, str]] = []  # (method.action, HTTP verb), for tests
        self.quirk_policies_on_read = False
        self.fail_status: int | None = None  # answer every request with this HTTP status
        self.raw_body: bytes | None = None  # answer every request with these bytes
        # Refuse every create and update with this error text (as ContactNow does for a locked
        # record): the write fails in the answer, not at the HTTP level.
        self.refuse_writes: str | None = None
        self._lock = threading.Lock()
        self.issue_token("cn-demo-token", ttl=10 * 365 * 86400)
        self.add_policy("2164", "MyTOD", "voicemail")
        self.add_policy("2178", "Außer Haus", "hangup")  # not ASCII: ISO-8859-1 on the wire
        self.add_rule("2164", "1", "mon,tue,wed,thu,fri", "8:0-18:0", "queue")
        self.add_rule("2164", "2", "sat", "9:0-12:30", "jump:301")
        self.add_rule("2178", "1", "mon,tue,wed,thu,fri", "14:0-16:0", "queue")

    # Set-up -----------------------------------------------------------------------------------

    def issue_token(self, token: str, ttl: float = 3600, address: str | None = None) -> None:
        self.tokens[token] = Grant(self.clock() + ttl, address)

    def add_policy(self, uid: str, description: str, default: str) -> None:
        self.policies[uid] = {"uid": uid, "description": description, "default": default}

    def add_rule(self, policy: str, rule: str, days: str, ranges: str, action: str,
                 year: str = "0", month: str = "0", date: str = "0") -> None:
        self.rules.append({"policy": policy, "rule": rule, "year": year, "month": month, "date": date,
                           "days": days, "range": ranges, "action": action})

    def rules_of(self, policy: str) -> list[dict[str, str]]:
        return [r for r in self.rules if r["policy"] == policy]

    # Requests ---------------------------------------------------------------------------------

    def handle(self, verb: str, query: str, body: bytes, client_address: str) -> tuple[int, bytes, str]:
        """(HTTP status, body, content type) for one request to /database.php."""
        args = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
        if verb == "POST" and body and not _is_payload(body):
            # Arguments may come as POST variables too.
            args |= {k: v[-1] for k, v in parse_qs(body.decode("latin-1")).items()}
            body = b""
        fmt = "xml" if args.get("format", "json").lower() == "xml" else "json"
        with self._lock:
            self.requests.append((f"{args.get('method', '')}.{args.get('action', '')}", verb))
            if self.fail_status is not None:
                return self.fail_status, b"<html>Service unavailable</html>", "text/html"
            if self.raw_body is not None:
                return 200, self.raw_body, _ctype(fmt)
            problem = self._token_problem(args.get("token", ""), client_address)
            if problem:
                return self._answer(fmt, {"success": False, "error": problem})
            try:
                result, closed = self._dispatch(verb, args, body, fmt)
            except ValueError as exc:
                return self._answer(fmt, {"success": False, "error": str(exc)})
        return self._answer(fmt, result, closed=closed)

    def _token_problem(self, token: str, address: str) -> str | None:
        if not token:
            return "Missing token"
        grant = self.tokens.get(token)
        if grant is None:
            # Echoes what it was given, as some APIs do: the client must not pass it on.
            return f"Invalid token {token}"
        if grant.expires <= self.clock():
            return "Token expired"
        if grant.address is not None and grant.address != address:
            return f"Token not valid from this IP address ({address})"
        return None

    def _dispatch(self, verb: str, args: dict[str, str], body: bytes, fmt: str) -> tuple[dict[str, Any], bool]:
        method, action = args.get("method", ""), args.get("action", "")
        if method == "tod_policies" and action == "read":
            items = [dict(p) for p in self.policies.values()]
            return {"success": True, "total": len(items), "list": items, "_tag": "tod_policy"}, True
        if method != "tod_rules":
            raise ValueError(f"Bad argument: method {method[:20]}")
        if action == "read":
            return self._read(args), True
        if action in ("create", "update"):
            if verb != "POST":
                raise ValueError(f"Bad request: {action} needs POST")
            records = _records(body, fmt)
            if self.refuse_writes:
                raise ValueError(self.refuse_writes)
            if action == "create":
                return self._create(records), False
            return self._update(records), False
        raise ValueError(f"Bad argument: action {action[:20]}")

    def _read(self, args: dict[str, str]) -> dict[str, Any]:
        if self.quirk_policies_on_read:
            items = [dict(p) for p in self.policies.values() if not args.get("policy") or p["uid"] == args["policy"]]
            return {"success": True, "total": len(items), "list": items, "_tag": "tod_policy"}
        items = [dict(r) for r in self.rules
                 if all(not args.get(f) or r[f] == args[f] for f in ("policy", "rule"))]
        return {"success": True, "total": len(items), "list": items, "_tag": "tod_rule"}

    def _create(self, records: list[dict[str, str]]) -> dict[str, Any]:
        key = None
        for record in records:
            self._check(record)
            # No deduplication, as the document warns: the same rule twice is two records.
            self.rules.append({f: record[f] for f in FIELDS})
            key, self.next_key = self.next_key, self.next_key + 1
        return {"success": True, "account_id": ACCOUNT_ID, "total": len(records), "bad": 0, "key": key}

    def _update(self, records: list[dict[str, str]]) -> dict[str, Any]:
        total = 0
        for record in records:
            self._check(record)
            matching = [r for r in self.rules if r["policy"] == record["policy"] and r["rule"] == record["rule"]]
            if not matching:
                raise ValueError(f"No such rule: policy {record['policy']} rule {record['rule']}")
            for r in matching:
                r.update({f: record[f] for f in FIELDS})
            total += len(matching)
        return {"success": True, "account_id": ACCOUNT_ID, "total": total, "bad": 0}

    def _check(self, record: dict[str, str]) -> None:
        missing = [f for f in ("policy", "rule") if not record.get(f)]
        if missing:
            raise ValueError(f"Missing field: {', '.join(missing)}")
        if record["policy"] not in self.policies:
            raise ValueError(f"Unknown policy {record['policy'][:20]}")
        for name in ("rule", "year", "month", "date"):
            record.setdefault(name, "0")
            if not str(record[name]).isdigit():
                raise ValueError(f"Bad argument: {name}")
        if not set(record.get("days", "").split(",")) <= DAYS:
            raise ValueError("Bad argument: days")
        action = record.get("action", "")
        if action not in ("queue", "voicemail", "hangup") and not (action.startswith("jump:") and action[5:].isdigit()):
            raise ValueError("Bad argument: action")
        record.setdefault("range", "")

    # Answers ----------------------------------------------------------------------------------

    def _answer(self, fmt: str, result: dict[str, Any], closed: bool = True) -> tuple[int, bytes, str]:
        tag = result.pop("_tag", "tod_rule")
        if fmt == "json":
            return 200, json.dumps(result, ensure_ascii=False).encode("utf-8"), _ctype(fmt)
        parts = ['<?xml version="1.0" encoding="ISO-8859-1"?>\n<result>\n']
        for name, value in result.items():
            if name == "list":
                items = "".join(
                    f"    <{tag}>\n" + "".join(f"      <{k}>{escape(str(v))}</{k}>\n" for k, v in item.items()) + f"    </{tag}>\n"
                    for item in value
                )
                parts.append(f"  <list>\n{items}  </list>\n")
            else:
                text = ("1" if value else "0") if isinstance(value, bool) else escape(str(value))
                parts.append(f"  <{name}>{text}</{name}>\n")
        if closed:
            parts.append("</result>\n")  # create and update answers stop without it, as documented
        return 200, "".join(parts).encode("iso-8859-1", errors="replace"), _ctype(fmt)


def _ctype(fmt: str) -> str:
    return "application/xml; charset=ISO-8859-1" if fmt == "xml" else "application/json"


def _is_payload(body: bytes) -> bool:
    return body.lstrip()[:1] in (b"[", b"{", b"<")


def _records(body: bytes, fmt: str) -> list[dict[str, str]]:
    """The posted records: a JSON list of objects or one XML <dxi> record."""
    if len(body) > MAX_BODY:
        raise ValueError("Payload too large")
    text = body.strip()
    if text[:1] in (b"[", b"{"):
        try:
            data = json.loads(text)
        except ValueError:
            raise ValueError("Bad payload: not JSON") from None
        data = data if isinstance(data, list) else [data]
        if not all(isinstance(d, dict) for d in data):
            raise ValueError("Bad payload")
        return [{k: str(v) for k, v in d.items()} for d in data]
    if text[:1] == b"<":
        if b"<!DOCTYPE" in text or b"<!ENTITY" in text:
            raise ValueError("Bad payload")
        try:
            root = ElementTree.fromstring(text)
        except ElementTree.ParseError:
            raise ValueError("Bad payload: not XML") from None
        return [{child.tag: (child.text or "").strip() for child in root}]
    raise ValueError("Bad payload: empty")

"""Wire bodies (XML and JSON) in the shapes of docs/api-shapes.md.

Statistics bodies are rendered once per cache refresh, item by item: the list bodies join the
item fragments, a single-item body wraps one fragment, so a request only concatenates bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from .schedules import Interval, Schedule, Status

XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n'


def _xml_fields(record: dict[str, Any]) -> str:
    parts = []
    for name, value in record.items():
        if value is None or value == "":
            parts.append(f"<{name}/>")  # "no value", as the vendor sends it
        else:
            parts.append(f"<{name}>{escape(str(value))}</{name}>")
    return "".join(parts)


def _json(data: object) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class StatsBodies:
    """Every statistics answer for one cache window, as bytes, keyed by (kind, fmt[, id])."""

    lists: dict[tuple[str, str], bytes]
    items: dict[tuple[str, str], dict[str, str]]  # (kind, fmt) -> id -> fragment

    def body(self, kind: str, fmt: str, item_id: str | None = None) -> bytes | None:
        """The list body, or the single-item body (None for an unknown id)."""
        if item_id is None:
            return self.lists[(kind, fmt)]
        fragment = self.items[(kind, fmt)].get(item_id)
        if fragment is None:
            return None
        if fmt == "xml":
            return f"{XML_DECL}<{kind}s>{fragment}</{kind}s>".encode()
        return f'{{"{kind}":{fragment}}}'.encode()


def render_stats(agents: list[dict[str, Any]], queues: list[dict[str, Any]]) -> StatsBodies:
    """Render agents and queues in both formats."""
    lists: dict[tuple[str, str], bytes] = {}
    items: dict[tuple[str, str], dict[str, str]] = {}
    for kind, records in (("agent", agents), ("queue", queues)):
        key = f"{kind}-id"
        xml_items = {r[key]: f"<{kind}>{_xml_fields(r)}</{kind}>" for r in records}
        json_items = {r[key]: _json(r) for r in records}
        items[(kind, "xml")] = xml_items
        items[(kind, "json")] = json_items
        lists[(kind, "xml")] = f"{XML_DECL}<{kind}s>{''.join(xml_items.values())}</{kind}s>".encode()
        lists[(kind, "json")] = f'{{"{kind}":[{",".join(json_items.values())}]}}'.encode()
    return StatsBodies(lists, items)


# --- schedules --------------------------------------------------------------------------------


def _interval_dict(iv: Interval) -> dict[str, Any]:
    return {"status": iv.status, "start-time": iv.start, "end-time": iv.end}


def _one_or_list(items: list[Any]) -> object:
    # The vendor's serialiser turns a one-element list into a bare object; clients must cope.
    return items[0] if len(items) == 1 else items


def schedule_dict(s: Schedule) -> dict[str, Any]:
    """A schedule as JSON-ready data (wire names)."""
    week_days = [{"day": wd.day, "properties": _one_or_list([_interval_dict(iv) for iv in wd.properties])} for wd in s.week_days]
    exceptions = []
    for exc in s.exceptions:
        item: dict[str, Any] = {"name": exc.name, "date": exc.date}
        if exc.properties:
            item["properties"] = _one_or_list([_interval_dict(iv) for iv in exc.properties])
        exceptions.append(item)
    data: dict[str, Any] = {"id": int(s.id) if s.id.isdigit() else s.id, "name": s.name, "time-zone": s.time_zone}
    data["week-days"] = {"week-day": week_days}
    data["exceptions"] = {"exception": exceptions} if exceptions else ""
    return data


def _schedule_xml(s: Schedule) -> str:
    def props(intervals: tuple[Interval, ...]) -> str:
        return "".join(
            f"<properties><status>{escape(str(iv.status))}</status><start-time>{iv.start}</start-time>"
            f"<end-time>{iv.end}</end-time></properties>"
            for iv in intervals
        )

    week = "".join(f"<week-day><day>{wd.day}</day>{props(wd.properties)}</week-day>" for wd in s.week_days)
    exceptions = "".join(
        f"<exception><name>{escape(e.name)}</name><date>{e.date}</date>{props(e.properties)}</exception>"
        for e in s.exceptions
    )
    return (
        f"<schedule><id>{escape(s.id)}</id><name>{escape(s.name)}</name><time-zone>{escape(s.time_zone)}</time-zone>"
        f"<week-days>{week}</week-days>" + (f"<exceptions>{exceptions}</exceptions>" if exceptions else "<exceptions/>")
        + "</schedule>"
    )


def schedules_body(schedules: list[Schedule], fmt: str) -> bytes:
    """/schedules and /schedulesbyname/{name}."""
    if fmt == "xml":
        return f"{XML_DECL}<schedules>{''.join(_schedule_xml(s) for s in schedules)}</schedules>".encode()
    return _json({"schedules": {"schedule": [schedule_dict(s) for s in schedules]}}).encode()


def schedule_body(schedule: Schedule, fmt: str) -> bytes:
    """/schedules/{id}."""
    if fmt == "xml":
        return f"{XML_DECL}{_schedule_xml(schedule)}".encode()
    return _json({"schedule": schedule_dict(schedule)}).encode()


def status_body(status: Status, fmt: str) -> bytes:
    """/schedules/{id}/status."""
    if fmt == "xml":
        return f"{XML_DECL}<schedule-status><status>{escape(str(status))}</status></schedule-status>".encode()
    return _json({"schedule-status": {"status": status}}).encode()


def next_status_body(status: Status, next_status: Status, change_ms: int, fmt: str) -> bytes:
    """/schedules/{id}/nextstatus (next-change-utctime -1: no change ahead)."""
    if fmt == "xml":
        return (
            f"{XML_DECL}<schedule-next-status><status>{escape(str(status))}</status>"
            f"<next-status>{escape(str(next_status))}</next-status>"
            f"<next-change-utctime>{change_ms}</next-change-utctime></schedule-next-status>"
        ).encode()
    body = {"status": status, "next-status": next_status, "next-change-utctime": change_ms}
    return _json({"schedule-next-status": body}).encode()

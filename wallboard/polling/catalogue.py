"""What a tenant has (queues, agent groups, schedules), as last seen upstream.

Admin forms offer these as choices so nobody types ids. The poller refreshes it; it lives in
Redis and survives nothing more than that: an empty catalogue just means "not polled yet".
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TypedDict

from wallboard.live.redis import get_redis
from wallboard.polling.keys import catalogue_key

if TYPE_CHECKING:
    from wallboard.vcc.records import Agent, Queue


class CatalogueQueue(TypedDict):
    """A queue as admin forms offer it."""

    id: str
    name: str  # its name, else its id
    media_type: str | None


def empty_catalogue() -> dict[str, Any]:
    return {"queues": [], "agent_groups": [], "schedules": [], "as_of": None}


def get_catalogue(tenant_id: int) -> dict[str, Any]:
    """Return {"queues": [{"id", "name", "media_type"}], "agent_groups": [{"id", "name"}],
    "schedules": [{"id", "name"}], "as_of": ISO or None}."""
    raw = get_redis().get(catalogue_key(tenant_id))
    if not raw:
        return empty_catalogue()
    catalogue = empty_catalogue()
    catalogue.update(json.loads(raw))
    return catalogue


def update_catalogue(tenant_id: int, **parts: Any) -> None:
    """Replace the given parts (queues, agent_groups, schedules, as_of), keeping the others."""
    catalogue = get_catalogue(tenant_id)
    catalogue.update(parts)
    get_redis().set(catalogue_key(tenant_id), json.dumps(catalogue, separators=(",", ":")))


def catalogue_from_records(agents: Iterable[Agent], queues: Iterable[Queue]) -> dict[str, Any]:
    """Build the queue and agent-group parts from normalised records."""
    queue_items = sorted(
        (CatalogueQueue(id=q.queue_id, name=q.queue_name or q.queue_id, media_type=q.media_type) for q in queues),
        key=lambda item: (item["name"].lower(), item["id"]),
    )
    # The Analytics API names each agent's group (`group_name`); the statistics API gives ids only.
    names = {a.group_id: a.extra.get("group_name") for a in agents if a.group_id}
    group_ids = sorted(names, key=lambda g: (len(g), g))
    return {
        "queues": queue_items,
        "agent_groups": [{"id": g, "name": names[g] or f"Group {g}"} for g in group_ids],
    }

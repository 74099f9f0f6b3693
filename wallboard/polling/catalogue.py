"""What a tenant has (queues, agent groups, schedules), as last seen upstream.

Admin forms offer these as choices so nobody types ids. The poller refreshes it; it lives in
Redis and survives nothing more than that: an empty catalogue just means "not polled yet".
"""

from __future__ import annotations

import json

from wallboard.live.redis import get_redis
from wallboard.polling.keys import catalogue_key


def empty_catalogue() -> dict:
    return {"queues": [], "agent_groups": [], "schedules": [], "as_of": None}


def get_catalogue(tenant_id: int) -> dict:
    """Return {"queues": [{"id", "name", "media_type"}], "agent_groups": [{"id", "name"}],
    "schedules": [{"id", "name"}], "as_of": ISO or None}."""
    raw = get_redis().get(catalogue_key(tenant_id))
    if not raw:
        return empty_catalogue()
    catalogue = empty_catalogue()
    catalogue.update(json.loads(raw))
    return catalogue


def update_catalogue(tenant_id: int, **parts) -> None:
    """Replace the given parts (queues, agent_groups, schedules, as_of), keeping the others."""
    catalogue = get_catalogue(tenant_id)
    catalogue.update(parts)
    get_redis().set(catalogue_key(tenant_id), json.dumps(catalogue, separators=(",", ":")))


def catalogue_from_records(agents, queues) -> dict:
    """Build the queue and agent-group parts from normalised records."""
    queue_items = sorted(
        ({"id": q.queue_id, "name": q.queue_name or q.queue_id, "media_type": q.media_type} for q in queues),
        key=lambda item: (item["name"].lower(), item["id"]),
    )
    group_ids = sorted({a.group_id for a in agents if a.group_id}, key=lambda g: (len(g), g))
    return {
        "queues": queue_items,
        "agent_groups": [{"id": g, "name": f"Group {g}"} for g in group_ids],
    }

"""How the suite runs in parallel (pytest-xdist): which process does what, and in what order.

`make test` runs `pytest -n 2`: a controlling process hands whole files to worker processes
(`--dist loadfile`, set in pyproject.toml) and runs no test itself. Each worker is a test
session of its own with its own Redis (tests/conftest.py), database and temporary folders.
"""

from __future__ import annotations

from collections import Counter
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
import redis.connection


def xdist_controller(config: pytest.Config) -> bool:
    """True in the process that hands tests to xdist workers and runs none itself."""
    if hasattr(config, "workerinput"):
        return False
    collect_only = config.getoption("collectonly", False)  # then xdist collects in this process
    return config.getoption("dist", "no") != "no" and bool(config.getoption("tx", None)) and not collect_only


def xdist_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def worker_number(worker: str) -> int:
    """gw3 -> 3."""
    return int(worker.removeprefix("gw"))


def worker_database_url(url: str, offset: int) -> str:
    """The same Redis URL with its database number moved up by `offset` (redis://h/2 -> redis://h/5)."""
    database = int(redis.connection.parse_url(url).get("db", 0)) + offset
    parts = urlsplit(url)
    query = [(key, value) for key, value in parse_qsl(parts.query) if key != "db"]
    if parts.scheme == "unix":
        # The path is the socket's: the database goes in the query (and urlunsplit would drop the "//").
        return f"unix://{parts.netloc}{parts.path}?{urlencode([*query, ('db', str(database))])}"
    # redis://, rediss://: in the path, where Celery's broker (kombu) also reads it.
    return urlunsplit(parts._replace(path=f"/{database}", query=urlencode(query)))


def heavy_files_first(items: list[pytest.Item]) -> None:
    """Put the files with the most `slow` tests first, keeping the order within each file.

    xdist hands out files in the order collected (`--no-loadscope-reorder`), so the longest
    ones (a whole stack each) start at once instead of leaving one worker running alone at the
    end. Every worker must collect the very same order: it depends on the marks only.
    """
    slow = Counter(item.location[0] for item in items if item.get_closest_marker("slow") is not None)
    items.sort(key=lambda item: -slow[item.location[0]])  # stable

"""glibc malloc settings for the web process, which holds a thousand idle screens for weeks.

Every screen that connects gets a snapshot of its board: about a megabyte of text, encoded,
compressed and queued per connection. glibc serves such blocks with mmap and gives them back
on free, but after the first few frees it raises its mmap threshold to their size
(the "dynamic threshold"), and from then on they come from the heap, where a burst of a
thousand of them (a reconnect storm) leaves holes the heap never returns: resident memory
stays at the burst's peak. A fixed threshold keeps every such block on mmap, and two arenas
instead of eight per core keep the database and executor threads from holding their own
half-empty heaps. Measured with bench/fanout.py (docs/performance.md, "Fan-out").

Only the web process: in a worker, which reads a few megabytes from 8x8 every cycle, a fixed
threshold turns each body into fresh mmapped pages to fault in, and bench/parse.py measured
3-7 ms more CPU per cycle for it, while its memory stayed flat without (bench/soak.py).

Nothing happens on a libc without mallopt (musl, macOS): the settings are an optimisation.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger(__name__)

# From glibc's malloc.h.
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
MMAP_THRESHOLD = 128 * 1024  # glibc's default, now fixed
ARENA_MAX = 2


def tune() -> bool:
    """Apply the settings to this process; False where the C library does not have mallopt."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    done: bool = mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1 and mallopt(M_ARENA_MAX, ARENA_MAX) == 1
    if not done:
        log.warning("mallopt refused the allocator settings; memory per connection may be higher")
    return done

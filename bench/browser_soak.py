"""Browser soak: the kiosk page in Chromium against a scripted websocket server that sends one
snapshot and then N realistic patches as fast as it can (queue metrics, threshold states, agent
status changes, history add/remove, agents leaving and joining).

Measures the page's JS heap (CDP Performance.getMetrics JSHeapUsedSize, after a forced GC with
HeapProfiler.collectGarbage), DOM nodes and event listeners at the start and at the end, and
checks that the state the page ends with equals the state the server side ended with.
Target: end heap <= start heap + 10 %.

    .venv/bin/python bench/browser_soak.py [--patches 10000] [--queues 12] [--groups 3] [--agents 60]

Uses Debian's /usr/bin/chromium only (never a downloaded browser).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "browser"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wallboard.settings")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def metrics(cdp) -> dict:
    cdp.send("HeapProfiler.collectGarbage")
    cdp.send("HeapProfiler.collectGarbage")
    values = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    return {
        "heap_used": int(values["JSHeapUsedSize"]),
        "heap_total": int(values["JSHeapTotalSize"]),
        "nodes": int(values["Nodes"]),
        "listeners": int(values["JSEventListeners"]),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patches", type=int, default=10_000)
    parser.add_argument("--warmup", type=int, default=200, help="patches applied before the start figure")
    parser.add_argument("--queues", type=int, default=12)
    parser.add_argument("--groups", type=int, default=3)
    parser.add_argument("--agents", type=int, default=60)
    parser.add_argument("--settle", type=float, default=3.0, help="seconds of ticking after the last patch")
    args = parser.parse_args()

    # After parsing the arguments (--help answers at once); the harness needs Django set up.
    import django

    django.setup()
    from playwright.sync_api import sync_playwright
    from wb_harness import (
        CHROMIUM,
        BoardHarness,
        PageServer,
        PatchStream,
        ScriptedWSServer,
        Session,
        launch_chromium,
        make_board_state,
    )

    from wallboard.boards.models import DEFAULT_QUEUE_METRICS as FULL_METRICS  # a board's default tiles

    chromium_version = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True).stdout.strip()
    pages = PageServer().start()
    ws = ScriptedWSServer().start()
    harness = BoardHarness(pages, ws)
    state = make_board_state(args.queues, args.groups, args.agents, metrics=FULL_METRICS, page_seconds=5)
    stream = PatchStream(state)
    session = Session()

    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        conn = harness.kiosk_page(page)
        cdp = page.context.new_cdp_session(page)
        cdp.send("Performance.enable")
        cdp.send("HeapProfiler.enable")

        conn.send(session.snapshot(state))
        page.wait_for_selector("[data-queue-id]")

        def send(n: int) -> float:
            started = time.perf_counter()
            for _ in range(n):
                conn.send(session.patch(stream.next_ops()))
            page.wait_for_function(
                "seq => window.wallboard && window.wallboard.seq === seq", arg=session.seq, timeout=600_000
            )
            return time.perf_counter() - started

        send(args.warmup)
        page.wait_for_timeout(1000)
        start = metrics(cdp)
        elapsed = send(args.patches)
        page.wait_for_timeout(int(args.settle * 1000))
        end = metrics(cdp)

        final = page.evaluate("JSON.stringify(window.wallboard.state)")
        same_state = json.loads(final) == stream.state
        resyncs = 0
        while not conn.inbox.empty():
            resyncs += json.loads(conn.inbox.get_nowait()).get("type") == "resync"
        browser.close()
    ws.stop()
    pages.stop()

    growth = (end["heap_used"] - start["heap_used"]) / start["heap_used"] * 100
    ok = growth <= 10 and same_state and not errors and resyncs == 0
    print(f"command: {' '.join(['python', *sys.argv])}")
    print(f"machine: nproc {os.cpu_count()}, {cpu_model()}, {chromium_version}")
    print(f"date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}")
    print(
        f"board: {args.queues} queues, {args.groups} groups, {args.agents} agents, {len(FULL_METRICS)} metrics, 1920x1080"
    )
    print(
        f"patches: {args.patches} after {args.warmup} warm-up, applied in {elapsed:.1f} s ({args.patches / elapsed:.0f}/s)"
    )
    print(f"heap used: start {start['heap_used'] / 1e6:.2f} MB, end {end['heap_used'] / 1e6:.2f} MB ({growth:+.1f} %)")
    print(f"heap total: start {start['heap_total'] / 1e6:.2f} MB, end {end['heap_total'] / 1e6:.2f} MB")
    print(
        f"DOM nodes: start {start['nodes']}, end {end['nodes']}; listeners: start {start['listeners']}, end {end['listeners']}"
    )
    print(f"final state equals the server's: {same_state}; resyncs asked: {resyncs}; page errors: {len(errors)}")
    print("result:", "PASS (end heap <= start + 10 %)" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

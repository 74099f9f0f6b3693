"""Renderer CPU: how much of a weak device's CPU the kiosk page itself uses (issue 20).

The kiosk page at 1920x1080 in Chromium with the CPU throttled through CDP
(Emulation.setCPUThrottlingRate, 4x and 6x: a Raspberry Pi or a TV's own browser), fed by a
scripted websocket server: one snapshot of a board with 300 queues and 2,000 agents, then one
patch per poll cycle as the real server would send it (metrics of a fifth of the queues, a tenth
of the agents changing state, a new history minute every sixth cycle). The page's own work is
the main thread's task time (CDP Performance.getMetrics TaskDuration; ScriptDuration, layout and
style shown beside it) over a window after a warm-up, as a share of one throttled core:
task seconds / wall seconds. Each rate is measured in the normal mode and in light mode
(`?lite=1`, the mode for weak devices). Target: light mode under 10 % at every rate (exit
status 0); the normal mode's figures are shown beside it.

    .venv/bin/python bench/renderer.py [--rates 4 6] [--window 60] [--cycle 10]

Uses Debian's /usr/bin/chromium only (never a downloaded browser). The figures depend on the
machine and on what else runs on it: note both with the result.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "browser"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wallboard.settings")

METRICS = [
    "queue_size",
    "longest_wait_time",
    "sla_activity",
    "agent_count_wait_transact",
    "agent_count_busy",
    "day_accepted",
]
STATES = ["available", "offered", "busy", "post_processing", "on_break", "offline"]
TARGET_PERCENT = 10.0


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


class Cycles:
    """One patch per poll cycle for a big board, keeping its own copy of the state in step."""

    def __init__(self, state: dict, seed: int = 5):
        self.state = state
        self.rng = random.Random(seed)
        self.n = 0
        self.minute = max(int(k) for q in state["queues"].values() for k in q["history"]["queue_size"])

    def next_ops(self) -> list:
        rng, queues, agents = self.rng, self.state["queues"], self.state["agents"]
        self.n += 1
        ops: list = []
        for qid in rng.sample(sorted(queues), k=len(queues) // 5):
            for metric in ("queue_size", "longest_wait_time", "agent_count_wait_transact"):
                value = rng.randint(0, 900 if metric == "longest_wait_time" else 12)
                ops.append({"op": "replace", "path": f"/queues/{qid}/metrics/{metric}", "value": value})
            level = rng.choice(["ok", "ok", "ok", "warn", "alert"])
            ops.append({"op": "replace", "path": f"/queues/{qid}/states/queue_size", "value": level})
        now = int(time.time())
        for aid in rng.sample(sorted(agents), k=len(agents) // 10):
            ops.append({"op": "replace", "path": f"/agents/{aid}/state", "value": rng.choice(STATES)})
            ops.append({"op": "replace", "path": f"/agents/{aid}/status_since", "value": now - rng.randint(0, 9)})
        if self.n % 6 == 0:
            old, self.minute = str(self.minute - 59 * 60), self.minute + 60
            for qid in queues:
                for metric in ("queue_size", "longest_wait_time"):
                    ops.append({"op": "add", "path": f"/queues/{qid}/history/{metric}/{self.minute}", "value": rng.randint(0, 9)})
                    ops.append({"op": "remove", "path": f"/queues/{qid}/history/{metric}/{old}"})
        return ops


def task_metrics(cdp) -> dict:
    values = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    keys = ("TaskDuration", "ScriptDuration", "LayoutDuration", "RecalcStyleDuration")
    return {k: float(values.get(k, 0.0)) for k in keys}


def measure(browser, harness, args, rate: float, lite: bool) -> dict:
    """One run: a fresh page, snapshot, warm-up, then `window` seconds of cycles measured."""
    from wb_harness import Session, make_board_state

    state = make_board_state(args.queues, args.groups, args.agents, metrics=METRICS, page_seconds=12)
    cycles = Cycles(state)
    session = Session()
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    cdp = page.context.new_cdp_session(page)
    cdp.send("Performance.enable")
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": rate})
    conn = harness.kiosk_page(page, query="?lite=1" if lite else "", timeout=60)
    conn.send(session.snapshot(state))
    page.wait_for_selector("[data-queue-id]", timeout=120_000)

    def run(seconds: float) -> None:
        end = time.monotonic() + seconds
        next_cycle = time.monotonic()
        while time.monotonic() < end:
            if time.monotonic() >= next_cycle:
                conn.send(session.patch(cycles.next_ops()))
                next_cycle += args.cycle
            time.sleep(min(0.2, max(0.0, end - time.monotonic())))

    run(args.warmup)
    start, t0 = task_metrics(cdp), time.monotonic()
    run(args.window)
    end, t1 = task_metrics(cdp), time.monotonic()
    wall = t1 - t0
    seq_ok = page.evaluate("seq => window.wallboard && window.wallboard.seq === seq", session.seq)
    page.close()
    delta = {k: end[k] - start[k] for k in start}
    return {
        "rate": rate,
        "lite": lite,
        "wall": wall,
        "task_pct": delta["TaskDuration"] / wall * 100,
        "script_pct": delta["ScriptDuration"] / wall * 100,
        "layout_pct": delta["LayoutDuration"] / wall * 100,
        "style_pct": delta["RecalcStyleDuration"] / wall * 100,
        "errors": len(errors),
        "in_step": bool(seq_ok),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rates", type=float, nargs="+", default=[4.0, 6.0], help="CPU throttling rates")
    parser.add_argument("--window", type=float, default=60.0, help="seconds measured per run")
    parser.add_argument("--warmup", type=float, default=12.0, help="seconds of cycles before the window")
    parser.add_argument("--cycle", type=float, default=10.0, help="seconds between patches (the poll cycle)")
    parser.add_argument("--queues", type=int, default=300)
    parser.add_argument("--groups", type=int, default=6)
    parser.add_argument("--agents", type=int, default=2000)
    args = parser.parse_args()

    # After parsing the arguments (--help answers at once); the harness needs Django set up.
    import django

    django.setup()
    from playwright.sync_api import sync_playwright
    from wb_harness import CHROMIUM, BoardHarness, PageServer, ScriptedWSServer, launch_chromium

    chromium_version = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True).stdout.strip()
    pages = PageServer().start()
    ws = ScriptedWSServer().start()
    harness = BoardHarness(pages, ws)
    load_before = load_average()
    results = []
    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        for rate in args.rates:
            for lite in (False, True):
                results.append(measure(browser, harness, args, rate, lite))
                r = results[-1]
                print(f"  measured {rate:g}x {'lite' if lite else 'normal'}: {r['task_pct']:.1f} %", file=sys.stderr)
        browser.close()
    ws.stop()
    pages.stop()

    print(f"command: {' '.join(['python', *sys.argv])}")
    print(f"machine: nproc {os.cpu_count()}, {cpu_model()}, {chromium_version}")
    print(f"load average before / after: {load_before} / {load_average()}")
    print(f"date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}")
    print(
        f"board: {args.queues} queues, {args.groups} groups, {args.agents} agents, {len(METRICS)} metrics, "
        f"1920x1080; one patch every {args.cycle:g} s; {args.window:g} s measured after {args.warmup:g} s"
    )
    print("rate  mode     task %  script %  layout %  style %")
    ok = True
    for r in results:
        print(
            f"{r['rate']:>3g}x  {'lite' if r['lite'] else 'normal':<7} {r['task_pct']:>7.1f} {r['script_pct']:>9.1f}"
            f" {r['layout_pct']:>9.1f} {r['style_pct']:>8.1f}"
        )
        ok = ok and (r["task_pct"] < TARGET_PERCENT or not r["lite"]) and not r["errors"] and r["in_step"]
    print(f"page errors: {sum(r['errors'] for r in results)}; every page applied every patch: {all(r['in_step'] for r in results)}")
    verdict = f"light mode's task time under {TARGET_PERCENT:g} % of one throttled core at every rate"
    print("result:", f"PASS ({verdict})" if ok else f"FAIL (wanted: {verdict})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

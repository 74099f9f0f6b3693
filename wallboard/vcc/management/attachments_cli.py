"""`manage.py vcc attachments`: save the files attached to a case, follow-up or FAQ.

    vcc attachments case|followup|faq ID [--output DIR] [--max-bytes N] [--keep-zip]
                    --base-url URL --tenant T --token K

Prints `[{"path": "...", "bytes": N}, ...]` for the files it saved (a ZIP answer unpacked,
unless --keep-zip). The vcc command registers this subcommand and prints what run() returns;
any failure raises, and the command turns it into exit status 1 and one line on stderr.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import CommandParser, OutputWrapper

from wallboard.vcc.attachments import DEFAULT_MAX_BYTES, KINDS, Limits, download

HELP = "save the files attached to a case, follow-up or FAQ (Case and Contact Management API)"


def attachments_parser(
    actions: argparse._SubParsersAction[CommandParser], connection_flags: Callable[[CommandParser], None]
) -> None:
    """The `attachments` subcommand and its flags, connection flags included."""
    parser = actions.add_parser("attachments", help=HELP)
    parser.add_argument("owner", choices=KINDS, help="what the files are attached to")
    parser.add_argument("id", help="case id (38), follow-up id (<case>.<follow-up>, e.g. 38.1) or FAQ id")
    parser.add_argument(
        "--output", "-o", default=".", help="existing folder to save into (default: the current folder)"
    )
    connection_flags(parser)
    parser.add_argument(
        "--max-bytes",
        type=_positive,
        default=DEFAULT_MAX_BYTES,
        help=f"refuse an answer larger than this many bytes (default {DEFAULT_MAX_BYTES})",
    )
    parser.add_argument(
        "--keep-zip", action="store_true", help="save a ZIP answer as it is instead of unpacking it"
    )


def run_attachments(options: dict[str, Any], stdout: OutputWrapper, stderr: OutputWrapper) -> list[dict[str, object]]:
    """Download into --output; the saved files as the JSON-ready list the contract prints."""
    token = options.get("token") or os.environ.get("VCC_TOKEN", "")
    if not options.get("base_url"):
        raise ValueError("missing --base-url (e.g. https://vcc-na4.8x8.com)")
    if not options.get("tenant"):
        raise ValueError("missing --tenant")
    if not token:
        raise ValueError("missing token: set VCC_TOKEN or pass --token")
    owner, ident = options["owner"], options["id"]
    bar = ProgressBar(stderr, f"{owner} {ident}") if stdout.isatty() and stderr.isatty() else None
    try:
        result = download(
            options["base_url"],
            options["tenant"],
            token,
            owner,
            ident,
            Path(options.get("output") or "."),
            connect_timeout=settings.VCC_CONNECT_TIMEOUT,
            read_timeout=settings.VCC_READ_TIMEOUT,
            limits=Limits(max_bytes=options.get("max_bytes") or DEFAULT_MAX_BYTES),
            unpack=not options.get("keep_zip"),
            progress=bar,
        )
    except KeyboardInterrupt:  # Ctrl-C: the download has already removed what it wrote
        raise ValueError("interrupted; nothing was saved") from None
    finally:
        if bar is not None:
            bar.finish()
    for item in result.skipped:
        stderr.write(f"warning: skipped {item} in the ZIP; it was not written")
    return [saved.to_dict() for saved in result.saved]


class ProgressBar:
    """One line on a terminal, redrawn at most ten times a second; a newline when done."""

    def __init__(self, stream: OutputWrapper, label: str, width: int = 30) -> None:
        self.stream, self.label, self.width = stream, label, width
        self._drawn_at: float | None = None

    def __call__(self, done: int, total: int | None) -> None:
        now = time.monotonic()
        finished = total is not None and done >= total
        if self._drawn_at is not None and now - self._drawn_at < 0.1 and not finished:
            return
        self._drawn_at = now
        if total:
            filled = min(self.width, self.width * done // total)
            line = f"{self.label} [{'#' * filled}{'.' * (self.width - filled)}] {_size(done)} / {_size(total)}"
        else:
            line = f"{self.label} {_size(done)}"
        self.stream.write("\r" + line, ending="")
        self.stream.flush()

    def finish(self) -> None:
        if self._drawn_at is not None:
            self.stream.write("", ending="\n")
            self.stream.flush()


def _size(count: int) -> str:
    value = float(count)
    for unit in ("B", "KiB", "MiB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value

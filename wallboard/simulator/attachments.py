"""The Case and Contact Management attachments API of the simulator, with hostile samples.

    GET /api/ccm/attachments/{case|followup|faq}/{id}     basic auth: tenant, token

One attached file comes back as itself (`Content-Disposition: attachment; filename="…"`, the
name percent-encoded as the vendor says), several as one ZIP. Besides ordinary samples it
serves the attacks a client must survive, each under a documented case id (docs/simulator.md,
"Case attachments"): traversal and reserved names, a ZIP bomb, a ZIP with a link, a ZIP with
traversal entries, a cut or stalled body, a body that is not the ZIP it claims to be, and
bodies larger than any sane cap. Big bodies are generated while sending, never held.

Requests count in their tenant's in-flight total for both 503 rules, like the other APIs;
a `revoke` fault with target `both` refuses them too (401).
"""

from __future__ import annotations

import functools
import hmac
import io
import random
import re
import socket
import stat
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

ATTACHMENTS_RE = re.compile(r"^/api/ccm/attachments/(case|followup|faq)/([^/]*)/?$")
VALID_ID = {"case": r"[0-9]+", "faq": r"[0-9]+", "followup": r"[0-9]+\.[0-9]+"}
HUGE = 512 * 1024 * 1024  # what the oversized samples send at most
BOMB_BYTES = 256 * 1024 * 1024  # the bomb's inflated size; about 250 KB on the wire
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class Sample:
    """One answer: a body (built on first use), its headers, and how it is sent."""

    body: Callable[[], bytes] = lambda: b""
    content_type: str = "application/octet-stream"
    disposition: str | None = None  # the whole Content-Disposition header, already encoded
    status: int = 200
    how: str = "whole"  # whole | truncated | stall | hang | huge | huge_unannounced | trickle


def handles_attachments(path: str) -> bool:
    """Whether a request path belongs to this API (the server's dispatch hook asks)."""
    return ATTACHMENTS_RE.match(path) is not None


def serve_attachments(sim: Any, h: Any, method: str, path: str, creds: tuple[str, str] | None) -> None:
    """Answer one request: auth, the 503 rules, then the sample (or 400/404)."""
    if method != "GET":
        _send(h, 405, b"Method not allowed\n", "text/plain")
        return
    if not _authorised(sim, creds):
        _send(h, 401, b"Unauthorized\n", "text/plain", {"WWW-Authenticate": 'Basic realm="8x8"'})
        return
    assert creds is not None
    slot = sim._enter(creds[0])
    try:
        with sim._lock:
            rule = sim._busy_rule(creds[0])
            if rule is not None:
                sim._busy[rule] += 1
        if rule is not None:
            _send(h, 503, b"Server busy\n", "text/plain")
            return
        match = ATTACHMENTS_RE.match(path)
        assert match is not None
        kind, ident = match.groups()
        if not re.fullmatch(VALID_ID[kind], ident):
            _send(h, 400, b"Bad request: malformed id\n", "text/plain")
            return
        sample = SAMPLES.get((kind, ident))
        if sample is None:
            _send(h, 404, f"No attachments for {kind} {ident}\n".encode(), "text/plain")
            return
        _answer(sim, h, sample, slot)
    finally:
        slot.release()


def _authorised(sim: Any, creds: tuple[str, str] | None) -> bool:
    if creds is None:
        return False
    expected = sim.tenants.get(creds[0])
    if expected is None or not hmac.compare_digest(expected.encode(), creds[1].encode()):
        return False
    return not sim.faults.revoked("ccm")


def _answer(sim: Any, h: Any, sample: Sample, slot: Any) -> None:
    if sample.status != 200:
        _send(h, sample.status, f"HTTP {sample.status}\n".encode(), "text/plain")
        return
    headers = {"Content-Disposition": sample.disposition} if sample.disposition else {}
    if sample.how == "whole":
        slot.release()  # as the server does: the client's next request must not find this one in flight
        _send(h, 200, sample.body(), sample.content_type, headers)
    elif sample.how in ("truncated", "stall"):
        body = sample.body()
        _head(h, 200, sample.content_type, len(body), headers)
        h.wfile.write(body[: len(body) // 2])
        h.wfile.flush()
        if sample.how == "stall":
            sim._hang(h, 120)
        h.close_connection = True
        _shutdown(h.connection)
    elif sample.how == "hang":
        sim._hang(h, 120)
    elif sample.how in ("huge", "huge_unannounced"):
        _send_huge(sim, h, sample, headers, announced=sample.how == "huge")
    elif sample.how == "trickle":
        _send_trickle(sim, h, sample, headers)


def _send_huge(sim: Any, h: Any, sample: Sample, headers: dict[str, str], *, announced: bool) -> None:
    """HUGE bytes, generated while sending, until done, the client hangs up or the simulator stops."""
    if announced:
        _head(h, 200, sample.content_type, HUGE, headers)
    else:
        _head(h, 200, sample.content_type, None, {**headers, "Connection": "close"})
    h.close_connection = True
    chunk, left = b"\0" * _CHUNK, HUGE
    while left > 0 and not sim._stop.is_set():
        h.wfile.write(chunk[: min(left, _CHUNK)])
        left -= _CHUNK


def _send_trickle(sim: Any, h: Any, sample: Sample, headers: dict[str, str]) -> None:
    """A byte every 50 ms: each wait is short, the whole takes far longer than any deadline."""
    body = sample.body()
    _head(h, 200, sample.content_type, len(body), headers)
    h.close_connection = True
    for index in range(len(body)):
        if sim._stop.wait(0.05):
            return
        h.wfile.write(body[index : index + 1])
        h.wfile.flush()


# ---------------------------------------------------------------------------------------------
# Writing.


def _head(h: Any, status: int, ctype: str, length: int | None, headers: dict[str, str]) -> None:
    h.send_response(status)
    h.send_header("Content-Type", ctype)
    if length is not None:
        h.send_header("Content-Length", str(length))
    for name, value in headers.items():
        h.send_header(name, value)
    h.end_headers()


def _send(h: Any, status: int, body: bytes, ctype: str, headers: dict[str, str] | None = None) -> None:
    _head(h, status, ctype, len(body), headers or {})
    h.wfile.write(body)


def _shutdown(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


# ---------------------------------------------------------------------------------------------
# Sample bodies: deterministic, built on first use.


def _bytes(seed: int, size: int, head: bytes = b"") -> Callable[[], bytes]:
    return functools.cache(lambda: head + random.Random(seed).randbytes(size - len(head)))


def _text(text: str) -> Callable[[], bytes]:
    return lambda: text.encode()


def _zip(entries: list[tuple[str, bytes]]) -> Callable[[], bytes]:
    """A ZIP of (raw entry name, content); duplicate names are kept, as 8x8 might send them."""

    @functools.cache
    def build() -> bytes:
        buffer = io.BytesIO()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "Duplicate name": on purpose
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
                for name, content in entries:
                    bundle.writestr(_info(name), content)
        return buffer.getvalue()

    return build


def _info(name: str, mode: int = stat.S_IFREG | 0o644) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(2026, 3, 4, 10, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3  # Unix, so the mode bits below mean what they say
    info.external_attr = mode << 16
    return info


@functools.cache
def _bomb() -> bytes:
    """One entry of BOMB_BYTES zeros: about a thousand times its compressed size."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as bundle:
        with bundle.open(_info("zeros.bin"), "w", force_zip64=True) as entry:
            block = bytes(1024 * 1024)
            for _ in range(BOMB_BYTES // len(block)):
                entry.write(block)
    return buffer.getvalue()


@functools.cache
def _many_entries() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as bundle:
        for index in range(2000):
            bundle.writestr(f"f{index:04}.txt", b"x")
    return buffer.getvalue()


@functools.cache
def _understated() -> bytes:
    """8 MiB of zeros whose headers claim 1,000 bytes: sizes a client must not trust."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr(_info("small.txt"), bytes(8 * 1024 * 1024))
    data = bytearray(buffer.getvalue())
    local = data.index(b"PK\x03\x04")
    central = data.index(b"PK\x01\x02")
    data[local + 22 : local + 26] = (1000).to_bytes(4, "little")
    data[central + 24 : central + 28] = (1000).to_bytes(4, "little")
    return bytes(data)


@functools.cache
def _with_symlink() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr(_info("readme.txt"), b"the link next to me points at /etc/passwd\n")
        bundle.writestr(_info("passwd-link", stat.S_IFLNK | 0o777), b"/etc/passwd")
    return buffer.getvalue()


def _named(name: str) -> str:
    """A Content-Disposition with a percent-encoded name, as the vendor sends them."""
    return f'attachment; filename="{quote(name, safe="")}"'


PDF = b"%PDF-1.4\n"
PNG = b"\x89PNG\r\n\x1a\n"
TRAVERSAL_ENTRIES = [
    ("../../evil.txt", b"traversal with ../\n"),
    ("/abs/evil2.txt", b"absolute path\n"),
    ("..\\..\\evil3.bat", b"traversal with backslashes\n"),
    ("C:\\Windows\\evil4.txt", b"a drive letter\n"),
    ("%2E%2E%2Fencoded.txt", b"percent-encoded traversal\n"),
    ("ok.txt", b"an ordinary entry\n"),
]

SAMPLES: dict[tuple[str, str], Sample] = {
    # Ordinary attachments.
    ("case", "38"): Sample(_bytes(38, 200_000, PDF), "application/pdf", _named("Quarterly report.pdf")),
    ("case", "39"): Sample(
        _zip([
            ("notes.txt", b"Customer called twice about the invoice.\n"),
            ("screenshot.png", PNG + b"\0" * 64),
            ("%C3%9Cberweisung%20M%C3%A4rz.pdf", PDF + b"transfer\n"),
            ("photo.jpg", b"\xff\xd8\xff first photo"),
            ("photo.jpg", b"\xff\xd8\xff second photo"),
        ]),
        "application/zip",
        'attachment; filename="case_39_attachments.zip"',
    ),
    ("case", "40"): Sample(
        _text("an RFC 5987 name\n"), "text/plain", "attachment; filename*=UTF-8''r%C3%A9sum%C3%A9%20%E2%82%AC.txt"
    ),
    ("case", "41"): Sample(_text("sent without a name\n"), "text/plain"),
    ("followup", "38.1"): Sample(_text("Called back, left a message.\n"), "text/plain", _named("call notes.txt")),
    ("followup", "38.2"): Sample(
        _zip([("transcript.txt", b"Agent: hello\nCustomer: hi\n"), ("invoice.pdf", PDF + b"invoice\n")]),
        "application/zip",
        'attachment; filename="followup_38.2.zip"',
    ),
    ("faq", "7"): Sample(_bytes(7, 5_000, PDF), "application/pdf", _named("Reset password guide.pdf")),
    # Hostile names.
    ("case", "9001"): Sample(_text("traversal\n"), "text/plain", _named("../../etc/passwd")),
    ("case", "9002"): Sample(_text("@echo off\n"), "application/octet-stream", _named("..\\evil.bat")),
    ("case", "9003"): Sample(_text("absolute\n"), "text/plain", _named("/abs")),
    ("case", "9004"): Sample(_text("a device name\n"), "text/plain", _named("CON.txt")),
    ("case", "9005"): Sample(_text("invisible characters\n"), "text/plain", _named("invoice\x1b[2J\u202egpj.exe\n")),
    # Hostile ZIPs.
    ("case", "9010"): Sample(_bomb, "application/zip", 'attachment; filename="bomb.zip"'),
    ("case", "9011"): Sample(_many_entries, "application/zip", 'attachment; filename="many.zip"'),
    ("case", "9012"): Sample(_understated, "application/zip", 'attachment; filename="understated.zip"'),
    ("case", "9013"): Sample(_with_symlink, "application/zip", 'attachment; filename="link.zip"'),
    ("case", "9014"): Sample(_zip(TRAVERSAL_ENTRIES), "application/zip", 'attachment; filename="slip.zip"'),
    # Broken bodies.
    ("case", "9020"): Sample(_bytes(9020, 100_000, PDF), "application/pdf", _named("cut.pdf"), how="truncated"),
    ("case", "9021"): Sample(
        _text("<html><body>Internal error</body></html>\n"), "application/zip", 'attachment; filename="case_9021.zip"'
    ),
    ("case", "9022"): Sample(content_type="application/pdf", disposition=_named("huge.pdf"), how="huge"),
    ("case", "9023"): Sample(content_type="application/pdf", disposition=_named("huge.pdf"), how="huge_unannounced"),
    ("case", "9024"): Sample(_bytes(9024, 100_000, PDF), "application/pdf", _named("stalled.pdf"), how="stall"),
    ("case", "9025"): Sample(how="hang"),
    ("case", "9026"): Sample(_bytes(9026, 1_000, PDF), "application/pdf", _named("slow.pdf"), how="trickle"),
    # Error statuses.
    ("case", "9400"): Sample(status=400),
    ("case", "9500"): Sample(status=500),
    ("case", "9503"): Sample(status=503),
}

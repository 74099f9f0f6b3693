"""Files attached to 8x8 cases, follow-ups and FAQs (Case and Contact Management API).

    GET {base}/api/ccm/attachments/{case|followup|faq}/{id}    basic auth: tenant, Data Request Token

One attached file comes back as itself, several as one ZIP, names percent-encoded
(../shared/api/NOTES.md). `download()` streams the answer into a hidden temporary file in the
target folder (capped in size and time, https only but for loopback, no redirects), then
either places it under its decoded, made-safe name or unpacks the ZIP within caps
(safe_files.py). On any failure the folder is left as it was.

Whether an answer is "the ZIP of several files" is read from its type or name (application/zip,
`*.zip`); a single attached file that is itself a ZIP looks the same on the wire and is
unpacked too, unless the caller keeps ZIPs whole.
"""

from __future__ import annotations

import mimetypes
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote, urlsplit

import requests
import urllib3

from .client import check_credentials, validate_base_url
from .errors import MalformedError, TimedOutError, TooLargeError, UnreachableError, VccError
from .http import new_session, raise_for_status, send
from .safe_files import LocalFileError, Saved, Staging, ZipLimits, name_from_disposition, safe_name

CCM_PATH = "/api/ccm/attachments"
KINDS = ("case", "followup", "faq")
DEFAULT_MAX_BYTES = 100 * 1024 * 1024
DEFAULT_TOTAL_SECONDS = 900.0
ZIP_TYPES = {"application/zip", "application/x-zip-compressed", "application/x-zip"}
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a ZIP with entries, an empty ZIP
_CHUNK = 64 * 1024
_ID = {
    "case": re.compile(r"[0-9]{1,18}"),
    "faq": re.compile(r"[0-9]{1,18}"),
    "followup": re.compile(r"[0-9]{1,18}\.[0-9]{1,18}"),
}
_ID_RULE = {
    "case": "a case id is a number, e.g. 38",
    "faq": "an FAQ id is a number, e.g. 7",
    "followup": "a follow-up id is <case id>.<follow-up id>, e.g. 38.1",
}

Progress = Callable[[int, int | None], None]  # (bytes so far, bytes announced or None)


@dataclass(frozen=True)
class Limits:
    """How much one download may take: bytes on the wire, time in all, and ZIP caps."""

    max_bytes: int = DEFAULT_MAX_BYTES
    total_seconds: float = DEFAULT_TOTAL_SECONDS
    zip: ZipLimits = field(default_factory=ZipLimits)


@dataclass(frozen=True)
class Result:
    """What a download left in the folder, and the ZIP entries it would not write."""

    saved: list[Saved]
    skipped: list[str]


@dataclass(frozen=True)
class _Answer:
    size: int
    content_type: str
    disposition: str | None


def check_id(kind: str, ident: str) -> str:
    """The id as sent, or ValueError saying what a valid one looks like."""
    if kind not in KINDS:
        raise ValueError(f"unknown attachment owner {kind!r}; one of {', '.join(KINDS)}")
    text = (ident or "").strip()
    if not _ID[kind].fullmatch(text):
        raise ValueError(f"{text!r} is not a valid {kind} id: {_ID_RULE[kind]}")
    return text


def attachment_url(base_url: str, kind: str, ident: str) -> str:
    """{root}/api/ccm/attachments/{kind}/{id} for any base URL validate_base_url accepts."""
    root = validate_base_url(base_url)
    path = root + CCM_PATH if not urlsplit(root).path.lower().endswith(CCM_PATH) else root
    return f"{path}/{kind}/{quote(check_id(kind, ident), safe='')}"


def download(
    base_url: str,
    tenant: str,
    token: str,
    kind: str,
    ident: str,
    directory: Path,
    *,
    connect_timeout: float,
    read_timeout: float,
    limits: Limits | None = None,
    unpack: bool = True,
    progress: Progress | None = None,
) -> Result:
    """Save the attachments of one case, follow-up or FAQ into directory; see the module doc.

    Raises a VccError (LocalFileError for the folder's own trouble) or ValueError for a bad
    id or URL; then nothing new is in the folder.
    """
    limits = limits or Limits()
    url = attachment_url(base_url, kind, ident)
    what = f"{kind} {ident.strip()}"
    folder = _folder(directory)
    session = new_session(accept="*/*", auth=(tenant, token), headers={"Accept-Encoding": "identity"})
    with session, Staging(folder) as staging:
        out, temp = staging.new_temp()
        with out:
            answer = _fetch(session, url, out, what, connect_timeout, read_timeout, limits, progress)
        name = name_from_disposition(answer.disposition)
        if unpack and _is_zip(answer, name, temp):
            staging.unpack_zip(temp, limits.zip)
        else:
            staging.add(temp, safe_name(name or "", fallback=_fallback(kind, ident, answer.content_type)), answer.size)
        saved = staging.commit()
        return Result([Saved(directory / item.path.name, item.bytes) for item in saved], list(staging.skipped))


def _folder(directory: Path) -> Path:
    """The folder to write into, which must exist: a typo should not scatter files elsewhere."""
    if not directory.is_dir():
        raise LocalFileError(f"{directory} is not an existing folder")
    return directory.resolve()


def _is_zip(answer: _Answer, name: str | None, temp: Path) -> bool:
    """True for a ZIP answer: said so by type or name (then it must be one), or nameless and shaped like one."""
    with temp.open("rb") as body:
        magic = body.read(4)
    said = answer.content_type in ZIP_TYPES or (name or "").lower().endswith(".zip")
    if said and magic not in ZIP_MAGIC:
        raise MalformedError(
            f"the answer says it is a ZIP ({answer.content_type or 'no type'}) but is not one; nothing was saved"
        )
    return said or (name is None and magic in ZIP_MAGIC)


def _fallback(kind: str, ident: str, content_type: str) -> str:
    """A name for a file sent without one: case-38.pdf."""
    extension = (mimetypes.guess_extension(content_type) if content_type else None) or ""
    return f"{kind}-{ident.strip()}{extension}"


# ---------------------------------------------------------------------------------------------
# The streamed GET.


def _fetch(
    session: requests.Session,
    url: str,
    out: BinaryIO,
    what: str,
    connect_timeout: float,
    read_timeout: float,
    limits: Limits,
    progress: Progress | None,
) -> _Answer:
    """GET url into out, or raise the VccError that says why not (http.send's rules, streamed)."""
    host = urlsplit(url).hostname or "?"
    check_credentials(session)
    with send(session, "GET", url, connect_timeout=connect_timeout, read_timeout=read_timeout) as response:
        raise_for_status(response, url, what, "tenant name and token")
        announced = _announced(response)
        if announced is not None and announced > limits.max_bytes:
            raise TooLargeError(f"{host} announced {announced} bytes, more than the limit of {limits.max_bytes}", url=url)
        size = _stream(response, out, url, host, announced, limits, read_timeout, progress)
        content_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        return _Answer(size, content_type, response.headers.get("Content-Disposition"))


def _announced(response: requests.Response) -> int | None:
    """The Content-Length of an unencoded body (an encoded one's length is not the file's)."""
    declared = response.headers.get("Content-Length", "")
    if not declared.isdigit() or response.headers.get("Content-Encoding", "identity").lower() != "identity":
        return None
    return int(declared)


def _stream(
    response: requests.Response,
    out: BinaryIO,
    url: str,
    host: str,
    announced: int | None,
    limits: Limits,
    read_timeout: float,
    progress: Progress | None,
) -> int:
    """Copy the body into out, counting: the cap, the overall deadline and a short body all fail.

    read1 hands over whatever has arrived, so a server trickling a byte at a time meets the
    deadline within a read timeout rather than after a whole chunk.
    """
    deadline = time.monotonic() + limits.total_seconds
    size = 0
    try:
        while chunk := response.raw.read1(_CHUNK, decode_content=True):
            size += len(chunk)
            if size > limits.max_bytes:
                raise TooLargeError(f"{host} sent more than the limit of {limits.max_bytes} bytes", url=url)
            if time.monotonic() > deadline:
                raise TimedOutError(f"{host} did not finish within {limits.total_seconds:g} s", url=url)
            _write(out, chunk)
            if progress is not None:
                progress(size, announced)
    except urllib3.exceptions.ReadTimeoutError:
        raise TimedOutError(f"{host} stopped sending for more than {read_timeout:g} s", url=url) from None
    except urllib3.exceptions.ProtocolError:
        raise _cut_short(host, size, announced, url) from None
    except VccError:
        raise
    except Exception as exc:  # the class name only, as in http.send
        raise MalformedError(f"the answer from {host} could not be read ({type(exc).__name__})", url=url) from None
    if announced is not None and size < announced:
        raise _cut_short(host, size, announced, url)
    return size


def _write(out: BinaryIO, chunk: bytes) -> None:
    try:
        out.write(chunk)
    except OSError as exc:
        raise LocalFileError(f"could not write the download ({_why(exc)})") from None


def _why(exc: OSError) -> str:
    return os.strerror(exc.errno) if isinstance(exc.errno, int) and exc.errno > 0 else type(exc).__name__


def _cut_short(host: str, size: int, announced: int | None, url: str) -> UnreachableError:
    of = f" of {announced}" if announced is not None else ""
    return UnreachableError(f"{host} cut the answer short after {size}{of} bytes; nothing was saved", url=url)

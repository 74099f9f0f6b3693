"""Untrusted files from 8x8 onto the local disk: safe names, safe unpacking, no overwrites.

Attachment names and ZIP entry names come from whoever attached the file to a case, so they
are hostile until proven otherwise: `../../etc/passwd`, `/abs`, `..\\evil.bat`, `CON.txt`,
control characters, right-to-left overrides. Every name is reduced to one harmless path
component (`safe_name`), every ZIP is unpacked within caps on entries, total size and
compression ratio counted on the bytes actually produced (`Staging.unpack_zip`), links are
never created, and files land in the folder under a new name or a numbered one, never over an
existing file (`Staging.commit`). Until the commit everything lives in hidden temporary files
in the same folder; any failure removes them, so nothing half-written is left behind.
"""

from __future__ import annotations

import os
import re
import secrets
import stat
import struct
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from email.message import Message
from email.utils import collapse_rfc2231_value
from pathlib import Path
from types import TracebackType
from typing import IO, BinaryIO, cast
from urllib.parse import unquote

from .errors import MalformedError, TooLargeError, UnsafeError, VccError

MAX_NAME_BYTES = 200  # below the usual 255-byte limit, with room for " (9999)" and our temp names
FALLBACK_NAME = "attachment"
TEMP_PREFIX = ".vcc-"
TEMP_SUFFIX = ".part"
MAX_NUMBERED = 9999
MAX_DIRECTORY_ENTRY = 1024  # central directory bytes allowed per permitted entry (name and extras)
_EOCD = struct.Struct("<4s4H2LH")  # end of central directory record
_LOCATOR = struct.Struct("<4sLQL")  # ZIP64 end of central directory locator
_EOCD64 = struct.Struct("<4sQ2H2L4Q")  # ZIP64 end of central directory record
_CHUNK = 256 * 1024

# Windows refuses these as file names whatever follows the first dot (NUL.txt, con.tar.gz).
_RESERVED = {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$", "CLOCK$"} | {
    f"{device}{digit}" for device in ("COM", "LPT") for digit in "0123456789\u00b9\u00b2\u00b3"
}
# Characters Windows forbids in names; "/" and "\\" never reach this point.
_FORBIDDEN = re.compile(r'[<>:"|?*]')
# Control, format (bidi overrides, zero-width), surrogate and line/paragraph separator characters.
_INVISIBLE = {"Cc", "Cf", "Cs", "Zl", "Zp"}


class LocalFileError(VccError):
    """The answer was fine, but it could not be written into the folder."""

    kind = "local_file"
    prefix = "cannot save"


# ---------------------------------------------------------------------------------------------
# Names.


def decode_name(raw: str) -> str:
    """A percent-encoded name as the vendor sends it ("Quarterly%20report.pdf"), decoded once.

    Only once: a name that decodes to another encoding ("%252e" -> "%2e") stays literal.
    """
    return unquote(raw, encoding="utf-8", errors="replace")


def name_from_disposition(header: str | None) -> str | None:
    """The file name a Content-Disposition header carries, decoded, or None.

    RFC 6266: an RFC 5987 `filename*=UTF-8''r%C3%A9sum%C3%A9.pdf` wins over a plain `filename`
    and is decoded by its own rules (never percent-decoded twice); a plain `filename` is
    percent-decoded, because that is how 8x8 sends names (../shared/api/NOTES.md). Parsing is
    the standard library's (RFC 2231 continuations and quoting included).
    """
    if not header:
        return None
    message = Message()
    message["Content-Disposition"] = header
    # typeshed says (str, str); an RFC 2231/5987 value really comes back as a 3-tuple.
    params = cast(list[tuple[str, object]], message.get_params(header="content-disposition") or [])
    for key, value in params:
        if key.lower() == "filename" and isinstance(value, tuple) and len(value) == 3:
            charset = value[0] if isinstance(value[0], str) else None
            return collapse_rfc2231_value((charset, None, str(value[2])), errors="replace", fallback_charset="utf-8")
    for key, value in params:
        if key.lower() == "filename" and isinstance(value, str):
            return decode_name(_utf8_if_mojibake(value))
    return None


def _utf8_if_mojibake(value: str) -> str:
    """A name in raw UTF-8 bytes reaches us decoded as latin-1 (http.client): undo that."""
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


def safe_name(name: str, fallback: str = FALLBACK_NAME) -> str:
    """One harmless path component for name, or `fallback` when nothing usable is left.

    Keeps the last component of any path (either separator), drops invisible characters,
    replaces those Windows forbids, strips leading dots and spaces (no `..`, no hidden files)
    and trailing ones (Windows drops them), defuses reserved device names (CON, NUL.txt,
    COM1...) with a leading underscore and cuts the result to MAX_NAME_BYTES, keeping the
    extension. The result of a safe name is itself (idempotent).
    """
    cleaned = _clean(name)
    if not cleaned:
        cleaned = _clean(fallback) or FALLBACK_NAME
    return cleaned


def _clean(name: str) -> str:
    text = "".join(char for char in name if unicodedata.category(char) not in _INVISIBLE)
    text = unicodedata.normalize("NFC", text)
    text = re.split(r"[/\\]", text)[-1]
    text = _FORBIDDEN.sub("_", text)
    text = _trim(text)
    if not text:
        return ""
    if text.split(".")[0].rstrip(" ").upper() in _RESERVED:
        text = "_" + text
    return _trim(_cap(text, MAX_NAME_BYTES))


def _trim(text: str) -> str:
    return text.lstrip(". ").rstrip(". ")


def _cap(text: str, limit: int) -> str:
    """text cut to at most limit UTF-8 bytes, on a character boundary, extension kept."""
    if len(text.encode("utf-8")) <= limit:
        return text
    stem, dot, ext = text.rpartition(".")
    if not dot or not stem or len(ext.encode("utf-8")) > 20:
        return _cut(text, limit)
    return _cut(stem, limit - len(ext.encode("utf-8")) - 1).rstrip(". ") + "." + ext


def _cut(text: str, limit: int) -> str:
    return text.encode("utf-8")[:limit].decode("utf-8", errors="ignore")


def numbered(name: str, number: int) -> str:
    """`report.pdf` -> `report (1).pdf`: the name used when `report.pdf` is taken."""
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        return f"{name} ({number})"
    return f"{stem} ({number}).{ext}"


# ---------------------------------------------------------------------------------------------
# Files: staged under temporary names, placed all at once.


@dataclass(frozen=True)
class Saved:
    """A file placed in the folder: its path (as the folder was given) and size."""

    path: Path
    bytes: int

    def to_dict(self) -> dict[str, object]:
        return {"path": str(self.path), "bytes": self.bytes}


@dataclass(frozen=True)
class ZipLimits:
    """What a ZIP answer may unpack to; beyond any of these it is refused as a whole.

    The ratio applies to entries past `ratio_floor` only: a small file of blanks may
    compress a thousandfold and harm nobody.
    """

    max_entries: int = 1000
    max_total_bytes: int = 1024 * 1024 * 1024
    max_ratio: int = 100
    ratio_floor: int = 1024 * 1024


@dataclass(frozen=True)
class Staged:
    temp: Path
    name: str
    size: int


class Staging:
    """Temporary files in one folder, placed under their real names only by commit().

    Use it as a context manager: leaving it removes every temporary file it made, and when
    the block fails, the files it had already placed too, so the folder ends as it began.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._temps: list[Path] = []
        self._placed: list[Path] = []
        self._pending: list[Staged] = []
        self.skipped: list[str] = []

    def __enter__(self) -> Staging:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if kind is not None:
            for path in self._placed:
                _remove(path)
            self._placed = []
        for path in self._temps:
            _remove(path)
        self._temps = []

    def new_temp(self) -> tuple[BinaryIO, Path]:
        """A new hidden file in the folder, opened for writing; removed on exit unless placed.

        Created exclusively (never an existing file or a link planted under that name), with
        the permissions of any new file (the umask applies).
        """
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
        for _ in range(100):
            path = self.directory / f"{TEMP_PREFIX}{secrets.token_hex(8)}{TEMP_SUFFIX}"
            try:
                fd = os.open(path, flags, 0o666)
            except FileExistsError:
                continue
            except OSError as exc:
                raise _local(exc, self.directory) from None
            self._temps.append(path)
            return os.fdopen(fd, "wb"), path
        raise LocalFileError(f"could not create a temporary file in {self.directory}")

    def add(self, temp: Path, name: str, size: int) -> None:
        """Place temp under name at commit; name must come from safe_name()."""
        self._pending.append(Staged(temp, name, size))

    def commit(self) -> list[Saved]:
        """Place every added file under its name, or a numbered one when it is taken."""
        saved = []
        for staged in self._pending:
            path = self._place(staged.temp, staged.name)
            saved.append(Saved(path, staged.size))
        self._pending = []
        return saved

    def _place(self, temp: Path, name: str) -> Path:
        """Link temp to the first free name, then drop the temp: never replaces a file.

        A hard link fails when the name exists, even as a dangling link, so no check-then-write
        race. Where hard links are not supported (some network or FAT mounts) the name is
        claimed by an exclusive create instead, and the temp moved onto that claim.
        """
        if safe_name(name) != name:
            raise UnsafeError(f"refused to write a file named {name!r}")
        for number in range(MAX_NUMBERED + 1):
            candidate = name if number == 0 else numbered(name, number)
            target = self.directory / candidate
            if target.parent != self.directory:  # cannot happen with a safe name; belt and braces
                raise UnsafeError(f"refused to write {candidate!r} outside {self.directory}")
            try:
                _claim(temp, target)
            except FileExistsError:
                continue
            except OSError as exc:
                raise _local(exc, self.directory) from None
            self._placed.append(target)
            _remove(temp)
            self._temps.remove(temp)
            return target
        raise LocalFileError(f"{name} and {MAX_NUMBERED} numbered names are all taken in {self.directory}")

    # ZIP answers --------------------------------------------------------------------------

    def unpack_zip(self, archive: Path, limits: ZipLimits) -> None:
        """Stage every regular file of a ZIP answer, refusing the ZIP as a whole past a limit.

        Entries are flattened into the folder under their safe base names; directories are
        implied and not created; links and other special entries are skipped (noted in
        `skipped`). The caps are checked on the central directory first, then again on the
        bytes actually inflated, because headers can lie.
        """
        _check_directory(archive, limits)
        try:
            with zipfile.ZipFile(archive) as bundle:
                entries = bundle.infolist()
                _check_headers(entries, limits)
                total = 0
                for entry in entries:
                    if _skip(entry, self.skipped):
                        continue
                    total = self._unpack_entry(bundle, entry, limits, total)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, zlib.error, NotImplementedError) as exc:
            raise MalformedError(f"the answer is not a valid ZIP ({_zip_reason(exc)}); nothing was saved") from None

    def _unpack_entry(self, bundle: zipfile.ZipFile, entry: zipfile.ZipInfo, limits: ZipLimits, total: int) -> int:
        out, temp = self.new_temp()
        size = 0
        with out, _open_entry(bundle, entry) as source:
            for chunk in iter(lambda: source.read(_CHUNK), b""):
                size += len(chunk)
                total += len(chunk)
                _check_inflated(entry, size, total, limits)
                try:
                    out.write(chunk)
                except OSError as exc:
                    raise _local(exc, self.directory) from None
        self.add(temp, safe_name(decode_name(entry.filename)), size)
        return total


def _check_directory(archive: Path, limits: ZipLimits) -> None:
    """Refuse a central directory too big to read, before zipfile reads all of it into memory.

    zipfile makes an object per entry of the whole directory first; counting them afterwards
    would be too late for a directory of millions. The end record says how many entries and
    how many bytes the directory has (zipfile reads that many bytes, whatever the count says).
    """
    bounds = _directory_bounds(archive)
    if bounds is None:
        return  # no end record: zipfile will say what is wrong
    entries, size = bounds
    if entries > limits.max_entries:
        raise UnsafeError(f"the ZIP holds {entries} entries, more than the limit of {limits.max_entries}")
    if size > limits.max_entries * MAX_DIRECTORY_ENTRY:
        raise UnsafeError(f"the ZIP's directory takes {size} bytes, more than {limits.max_entries} entries need")


def _directory_bounds(archive: Path) -> tuple[int, int] | None:
    """(entries, directory bytes) from the end of central directory record (ZIP64 too), or None."""
    with archive.open("rb") as source:
        end = source.seek(0, os.SEEK_END)
        source.seek(max(0, end - (_EOCD.size + 65535 + _LOCATOR.size + _EOCD64.size)))
        tail = source.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < _EOCD.size:
        return None
    fields = _EOCD.unpack_from(tail, at)
    entries, size = int(fields[4]), int(fields[5])
    locator, record = at - _LOCATOR.size, at - _LOCATOR.size - _EOCD64.size
    if record >= 0 and tail[locator : locator + 4] == b"PK\x06\x07" and tail[record : record + 4] == b"PK\x06\x06":
        fields = _EOCD64.unpack_from(tail, record)
        entries, size = int(fields[7]), int(fields[8])
    return entries, size


def _check_headers(entries: list[zipfile.ZipInfo], limits: ZipLimits) -> None:
    """Refuse what the central directory already gives away: too many, too big, a bomb."""
    if len(entries) > limits.max_entries:
        raise UnsafeError(f"the ZIP holds {len(entries)} entries, more than the limit of {limits.max_entries}")
    declared = sum(entry.file_size for entry in entries)
    if declared > limits.max_total_bytes:
        raise TooLargeError(
            f"the ZIP would unpack to {declared} bytes, more than the limit of {limits.max_total_bytes}"
        )
    for entry in entries:
        _check_ratio(entry, entry.file_size, limits)


def _check_inflated(entry: zipfile.ZipInfo, size: int, total: int, limits: ZipLimits) -> None:
    if total > limits.max_total_bytes:
        raise TooLargeError(f"the ZIP unpacks to more than the limit of {limits.max_total_bytes} bytes")
    if size > entry.file_size:
        raise MalformedError(f"a ZIP entry inflates beyond its declared size of {entry.file_size} bytes")
    _check_ratio(entry, size, limits)


def _check_ratio(entry: zipfile.ZipInfo, size: int, limits: ZipLimits) -> None:
    if size > limits.ratio_floor and size > max(entry.compress_size, 1) * limits.max_ratio:
        raise UnsafeError(
            f"a ZIP entry inflates more than {limits.max_ratio} times ({entry.compress_size} bytes to "
            f"{size} or more): a zip bomb"
        )


def _skip(entry: zipfile.ZipInfo, skipped: list[str]) -> bool:
    """True for an entry that is not a regular file: directories silently, the rest noted."""
    mode = entry.external_attr >> 16
    if entry.is_dir() or stat.S_ISDIR(mode):
        return True
    shown = safe_name(decode_name(entry.filename))
    if stat.S_ISLNK(mode):
        skipped.append(f"{shown} (a symbolic link)")
        return True
    if stat.S_IFMT(mode) not in (0, stat.S_IFREG):
        skipped.append(f"{shown} (not a regular file)")
        return True
    if entry.flag_bits & 0x1:
        skipped.append(f"{shown} (encrypted)")
        return True
    return False


def _open_entry(bundle: zipfile.ZipFile, entry: zipfile.ZipInfo) -> IO[bytes]:
    try:
        return bundle.open(entry)
    except RuntimeError:  # zipfile's word for "encrypted"; _skip catches the usual flag first
        raise MalformedError(f"the ZIP entry {safe_name(decode_name(entry.filename))} cannot be read") from None


def _zip_reason(exc: BaseException) -> str:
    """Why zipfile refused, in fixed words: its own texts quote entry names, which are hostile."""
    text = str(exc).lower()
    for clue, words in (
        ("crc", "an entry does not match its checksum"),
        ("not a zip file", "no ZIP directory found"),
        ("truncated", "it is truncated"),
        ("overlap", "its entries overlap"),
        ("compression method", "an entry uses an unsupported compression method"),
    ):
        if clue in text:
            return words
    return type(exc).__name__


def _claim(temp: Path, target: Path) -> None:
    """Make temp's content appear at target, or raise FileExistsError when target exists."""
    try:
        os.link(temp, target, follow_symlinks=False)
        return
    except FileExistsError:
        raise
    except (OSError, NotImplementedError):
        pass  # no hard links here: claim the name instead (FileExistsError again when taken)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    os.close(os.open(target, flags, 0o666))
    os.replace(temp, target)


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def _local(exc: OSError, directory: Path) -> LocalFileError:
    """An OSError in our words: the folder and the system's reason, never a file's content."""
    reason = os.strerror(exc.errno) if isinstance(exc.errno, int) and exc.errno > 0 else type(exc).__name__
    return LocalFileError(f"could not write into {directory} ({reason})")


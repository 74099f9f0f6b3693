"""Safe names, no overwrites and guarded ZIP unpacking (wallboard/vcc/safe_files.py)."""

from __future__ import annotations

import io
import os
import stat
import struct
import tempfile
import unicodedata
import zipfile
import zlib
from pathlib import Path, PureWindowsPath

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wallboard.vcc.errors import MalformedError, TooLargeError, UnsafeError
from wallboard.vcc.safe_files import (
    MAX_NAME_BYTES,
    Staging,
    ZipLimits,
    name_from_disposition,
    numbered,
    safe_name,
)

# --- names from Content-Disposition -------------------------------------------------------------


@pytest.mark.parametrize(
    "header, name",
    [
        ('attachment; filename="Quarterly%20report.pdf"', "Quarterly report.pdf"),
        ("attachment; filename*=UTF-8''r%C3%A9sum%C3%A9%20%E2%82%AC.txt", "résumé €.txt"),
        ("attachment; filename=plain.txt; filename*=UTF-8''na%C3%AFve.txt", "naïve.txt"),
        ("attachment; filename*=iso-8859-1''%E9t%E9.txt", "été.txt"),
        ("attachment; filename*=UTF-8''100%2525.txt", "100%25.txt"),  # decoded once, not twice
        ('attachment; filename="100%2525.txt"', "100%25.txt"),
        ('attachment; filename="..%2F..%2Fetc%2Fpasswd"', "../../etc/passwd"),
        ('attachment; filename="a\\"b.txt"', 'a"b.txt'),
        ('attachment; filename="caf\u00c3\u00a9.txt"', "café.txt"),  # raw UTF-8 read as latin-1
        ("attachment", None),
        ("", None),
        (None, None),
    ],
)
def test_it_decodes_the_name_in_content_disposition(header, name):
    assert name_from_disposition(header) == name


# --- safe names ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, safe",
    [
        ("report.pdf", "report.pdf"),
        ("Überweisung März.pdf", "Überweisung März.pdf"),
        ("../../etc/passwd", "passwd"),
        ("..\\evil.bat", "evil.bat"),
        ("/abs", "abs"),
        ("C:\\Windows\\win.ini", "win.ini"),
        ("C:evil.txt", "C_evil.txt"),
        ("\\\\server\\share\\x.txt", "x.txt"),
        ("dir/", "attachment"),
        ("..", "attachment"),
        (".", "attachment"),
        ("", "attachment"),
        ("   ", "attachment"),
        (".bashrc", "bashrc"),
        ("name. . ", "name"),
        ("CON", "_CON"),
        ("con.txt", "_con.txt"),
        ("NUL.tar.gz", "_NUL.tar.gz"),
        ("com1", "_com1"),
        ("LPT9.log", "_LPT9.log"),
        ("COM\u00b9.txt", "_COM\u00b9.txt"),
        ("LPT0", "_LPT0"),
        ("clock$.txt", "_clock$.txt"),
        ("CONIN$", "_CONIN$"),
        ("con .txt", "_con .txt"),
        ("CONSOLE.txt", "CONSOLE.txt"),
        ("a\x00b\x1b[31m.txt", "ab[31m.txt"),
        ("invoice\u202egpj.exe", "invoicegpj.exe"),
        ("line\nbreak\r.txt", "linebreak.txt"),
        ('what<>:"|?*.txt', "what_______.txt"),
        ("e\u0301.txt", "\u00e9.txt"),  # NFC
    ],
)
def test_it_makes_names_safe(raw, safe):
    assert safe_name(raw) == safe


def test_it_uses_the_fallback_when_nothing_is_left():
    assert safe_name("../", fallback="case-38.pdf") == "case-38.pdf"
    assert safe_name("", fallback="../..") == "attachment"


def test_it_cuts_long_names_and_keeps_the_extension():
    name = safe_name("x" * 400 + ".pdf")
    assert name.endswith(".pdf") and len(name.encode()) == MAX_NAME_BYTES
    wide = safe_name("é" * 400)  # two bytes each: cut on a character boundary
    assert len(wide.encode()) <= MAX_NAME_BYTES and set(wide) == {"é"}


@pytest.mark.parametrize(
    "name, number, expected",
    [("report.pdf", 1, "report (1).pdf"), ("README", 2, "README (2)"), ("a.tar.gz", 3, "a.tar (3).gz")],
)
def test_it_numbers_a_taken_name(name, number, expected):
    assert numbered(name, number) == expected


NASTY = st.sampled_from(
    ["..", ".", "/", "\\", "CON", "nul", "com1", ".txt", " ", "\x00", "\x1b", "\u202e", "\u200d", "C:", "%2F",
     "\u0301", "<", "\u0338", "\ud800", "é", "\u2028", "x" * 120]
)
ANY_CHARS = st.text(st.characters(exclude_categories=()), max_size=300)
NAMES = st.lists(NASTY | ANY_CHARS, max_size=8).map("".join)
_FOLDER = Path(tempfile.mkdtemp(prefix="safe-names-"))


@settings(max_examples=400, deadline=None)
@given(NAMES)
def test_it_turns_any_input_into_one_safe_component(raw):
    name = safe_name(raw)

    assert name and name not in (".", "..") and not name.startswith((".", " "))
    assert not name.endswith((".", " "))
    assert "/" not in name and "\\" not in name and os.path.basename(name) == name
    assert not os.path.isabs(name)
    windows = PureWindowsPath(name)
    assert windows.name == name and not windows.drive and not windows.anchor
    assert not any(unicodedata.category(char) in ("Cc", "Cf", "Cs", "Zl", "Zp") for char in name)
    assert not set('<>:"|?*') & set(name)
    assert not windows.is_reserved()
    assert len(name.encode("utf-8")) <= MAX_NAME_BYTES
    assert safe_name(name) == name
    # And the file system agrees: it is one new entry of the folder, nowhere else.
    target = _FOLDER / name
    with open(target, "x"):
        pass
    try:
        assert os.listdir(_FOLDER) == [name]
    finally:
        target.unlink()


# --- staging: never overwrite, nothing left behind -------------------------------------------------


def stage(staging: Staging, name: str, content: bytes) -> None:
    out, temp = staging.new_temp()
    with out:
        out.write(content)
    staging.add(temp, name, len(content))


def test_it_numbers_instead_of_overwriting(tmp_path):
    (tmp_path / "report.pdf").write_bytes(b"mine")
    with Staging(tmp_path) as staging:
        stage(staging, "report.pdf", b"theirs")
        stage(staging, "report.pdf", b"theirs too")
        saved = staging.commit()

    assert [item.path.name for item in saved] == ["report (1).pdf", "report (2).pdf"]
    assert (tmp_path / "report.pdf").read_bytes() == b"mine"
    assert (tmp_path / "report (2).pdf").read_bytes() == b"theirs too"
    assert sorted(os.listdir(tmp_path)) == ["report (1).pdf", "report (2).pdf", "report.pdf"]


def test_it_never_follows_a_link_planted_under_the_name(tmp_path):
    folder, outside = tmp_path / "out", tmp_path / "outside"
    folder.mkdir()
    (folder / "report.pdf").symlink_to(outside / "victim.txt")  # dangling: writing through it would create it
    with Staging(folder) as staging:
        stage(staging, "report.pdf", b"data")
        saved = staging.commit()

    assert saved[0].path.name == "report (1).pdf"
    assert not outside.exists()
    assert (folder / "report.pdf").is_symlink()


def test_it_removes_everything_when_the_block_fails(tmp_path):
    (tmp_path / "keep.txt").write_bytes(b"mine")
    with pytest.raises(RuntimeError), Staging(tmp_path) as staging:
        stage(staging, "a.txt", b"a")
        staging.commit()
        stage(staging, "b.txt", b"b")
        raise RuntimeError("the next step failed")

    assert os.listdir(tmp_path) == ["keep.txt"]


def test_it_refuses_to_place_an_unsafe_name(tmp_path):
    with pytest.raises(UnsafeError), Staging(tmp_path / "") as staging:
        stage(staging, "../x.txt", b"x")
        staging.commit()
    assert os.listdir(tmp_path) == []


# --- ZIP unpacking ----------------------------------------------------------------------------------


def make_zip(*entries: tuple[str, bytes] | zipfile.ZipInfo, contents: list[bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        for index, entry in enumerate(entries):
            if isinstance(entry, zipfile.ZipInfo):
                bundle.writestr(entry, (contents or [])[index] if contents else b"x")
            else:
                bundle.writestr(entry[0], entry[1])
    return buffer.getvalue()


def with_mode(name: str, mode: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = mode << 16
    return info


def unpack(folder: Path, data: bytes, limits: ZipLimits | None = None) -> tuple[list[str], list[str]]:
    """Unpack data into folder as the download does; (saved names, skipped notes)."""
    with Staging(folder) as staging:
        out, temp = staging.new_temp()
        with out:
            out.write(data)
        staging.unpack_zip(temp, limits or ZipLimits())
        saved = staging.commit()
        return [item.path.name for item in saved], staging.skipped


def test_it_flattens_entries_into_the_folder_under_safe_names(tmp_path):
    data = make_zip(
        ("docs/a.txt", b"a"),
        ("../../evil.txt", b"evil"),
        ("/etc/cron.d/job", b"job"),
        ("..\\..\\evil.bat", b"bat"),
        ("%2E%2E%2Fencoded.txt", b"enc"),
        ("docs/", b""),
        ("a.txt", b"second a"),
    )

    names, skipped = unpack(tmp_path, data)

    assert names == ["a.txt", "evil.txt", "job", "evil.bat", "encoded.txt", "a (1).txt"]
    assert skipped == []
    assert sorted(os.listdir(tmp_path)) == sorted(names)
    assert (tmp_path / "a (1).txt").read_bytes() == b"second a"


def test_it_skips_links_and_special_entries(tmp_path):
    data = make_zip(
        with_mode("ok.txt", stat.S_IFREG | 0o644),
        with_mode("link", stat.S_IFLNK | 0o777),
        with_mode("fifo", stat.S_IFIFO | 0o644),
        contents=[b"ok", b"/etc/passwd", b""],
    )

    names, skipped = unpack(tmp_path, data)

    assert names == ["ok.txt"]
    assert skipped == ["link (a symbolic link)", "fifo (not a regular file)"]
    assert os.listdir(tmp_path) == ["ok.txt"]
    assert not any(path.is_symlink() for path in tmp_path.iterdir())


def test_it_skips_encrypted_entries(tmp_path):
    data = bytearray(make_zip(("ok.txt", b"ok"), ("secret.txt", b"locked")))
    local = data.index(b"PK\x03\x04", 1)  # the second entry's headers: set "encrypted"
    central = data.index(b"PK\x01\x02", data.index(b"PK\x01\x02") + 1)
    data[local + 6] |= 0x1
    data[central + 8] |= 0x1

    names, skipped = unpack(tmp_path, bytes(data))

    assert names == ["ok.txt"] and skipped == ["secret.txt (encrypted)"]


def test_it_refuses_a_zip_bomb_and_writes_nothing(tmp_path):
    data = make_zip(("small.txt", b"fine"), ("zeros.bin", bytes(200_000)))
    with pytest.raises(UnsafeError, match="zip bomb"):
        unpack(tmp_path, data, ZipLimits(max_ratio=10, ratio_floor=10_000))
    assert os.listdir(tmp_path) == []


def test_it_lets_small_files_compress_as_much_as_they_like(tmp_path):
    names, _ = unpack(tmp_path, make_zip(("blank.txt", bytes(50_000))), ZipLimits(max_ratio=10, ratio_floor=100_000))
    assert names == ["blank.txt"]


def test_it_refuses_too_many_entries(tmp_path):
    data = make_zip(*[(f"f{i}.txt", b"x") for i in range(11)])
    with pytest.raises(UnsafeError, match="11 entries"):
        unpack(tmp_path, data, ZipLimits(max_entries=10))
    assert os.listdir(tmp_path) == []


def test_it_refuses_too_much_in_total(tmp_path):
    data = make_zip(("a.bin", os.urandom(6000)), ("b.bin", os.urandom(6000)))
    with pytest.raises(TooLargeError):
        unpack(tmp_path, data, ZipLimits(max_total_bytes=10_000))
    assert os.listdir(tmp_path) == []


def test_it_does_not_trust_a_header_that_understates_a_size(tmp_path):
    data = bytearray(make_zip(("small.txt", bytes(500_000))))
    local, central = data.index(b"PK\x03\x04"), data.index(b"PK\x01\x02")
    data[local + 22 : local + 26] = (100).to_bytes(4, "little")
    data[central + 24 : central + 28] = (100).to_bytes(4, "little")

    with pytest.raises(MalformedError, match="checksum"):
        unpack(tmp_path, bytes(data))
    assert os.listdir(tmp_path) == []


def understate(data: bytearray, index: int, size: int, content: bytes) -> None:
    """Make entry `index` declare `size` bytes, with the checksum of its first `size` bytes."""
    local = central = -1
    for _ in range(index + 1):
        local, central = data.index(b"PK\x03\x04", local + 1), data.index(b"PK\x01\x02", central + 1)
    crc = zlib.crc32(content[:size]).to_bytes(4, "little")
    data[local + 14 : local + 18], data[central + 16 : central + 20] = crc, crc
    data[local + 22 : local + 26] = data[central + 24 : central + 28] = size.to_bytes(4, "little")


def test_it_writes_no_more_than_the_headers_declare_whatever_the_streams_hold(tmp_path):
    """Headers that pass every check (total, ratio) over streams that break them all."""
    bomb, noise = bytes(500_000), os.urandom(5000)
    data = bytearray(make_zip(("bomb.bin", bomb), ("noise.bin", noise)))
    understate(data, 0, 100, bomb)  # 500 kB of zeros declared as 100 bytes
    understate(data, 1, 400, noise)  # 5 kB declared as 400 bytes
    limits = ZipLimits(max_total_bytes=1000, max_ratio=10, ratio_floor=50)

    with Staging(tmp_path) as staging:
        out, temp = staging.new_temp()
        with out:
            out.write(bytes(data))
        staging.unpack_zip(temp, limits)
        saved = staging.commit()

    assert [(item.path.name, item.bytes) for item in saved] == [("bomb.bin", 100), ("noise.bin", 400)]
    assert (tmp_path / "bomb.bin").read_bytes() == bomb[:100]
    assert (tmp_path / "noise.bin").read_bytes() == noise[:400]


# Named: a ZIP's bytes hold the time it was made, and xdist needs the same test ids in every worker.
@pytest.mark.parametrize("data", [b"", b"not a zip at all", b"PK\x03\x04" + b"\0" * 40, make_zip(("a", b"a"))[:-30]],
                         ids=["empty", "text", "bare-header", "cut-zip"])
def test_it_refuses_what_is_not_a_zip(tmp_path, data):
    with pytest.raises(MalformedError, match="not a valid ZIP"):
        unpack(tmp_path, data)
    assert os.listdir(tmp_path) == []


def test_it_never_quotes_a_hostile_entry_name_in_an_error(tmp_path):
    data = bytearray(make_zip(("\x1b[2Jbad.txt", bytes(1000))))
    central = data.index(b"PK\x01\x02")
    data[central + 16 : central + 20] = b"\0\0\0\0"  # a wrong CRC: zipfile's message names the entry
    with pytest.raises(MalformedError) as caught:
        unpack(tmp_path, bytes(data))
    assert "\x1b" not in str(caught.value) and "bad.txt" not in str(caught.value)


def test_it_lets_a_thousandfold_file_under_the_floor_through(tmp_path):
    names, _ = unpack(tmp_path, make_zip(("zeros.bin", bytes(500_000))))  # the default limits
    assert names == ["zeros.bin"] and (tmp_path / "zeros.bin").stat().st_size == 500_000


@pytest.mark.parametrize("limits, error", [(ZipLimits(), UnsafeError), (ZipLimits(max_ratio=10_000), MalformedError)],
                         ids=["bomb", "allowed-ratio"])
def test_it_refuses_a_bomb_from_its_headers_before_inflating_anything(tmp_path, limits, error):
    """The stream is broken: a bomb refused as one was refused before any of it was inflated."""
    data = bytearray(make_zip(("zeros.bin", bytes(2_000_000))))  # a thousandfold, past the 1 MiB floor
    stream = 30 + len("zeros.bin")  # after the local header (no extra field)
    data[stream + 10 : stream + 60] = b"\xff" * 50
    with pytest.raises(error):
        unpack(tmp_path, bytes(data), limits)
    assert os.listdir(tmp_path) == []


def test_it_refuses_a_huge_directory_before_reading_it(tmp_path):
    data = make_zip(("x" * 3000 + ".txt", b"x"))  # one entry, but 3 kB of directory
    with pytest.raises(UnsafeError, match="directory takes"):
        unpack(tmp_path, data, ZipLimits(max_entries=2))
    assert os.listdir(tmp_path) == []


def test_it_reads_the_entry_count_of_a_zip64_end_record(tmp_path):
    """A ZIP64 end record claiming 5,000 entries is refused before zipfile parses anything."""
    data = make_zip(("a.txt", b"a"), ("b.txt", b"b"))
    end = data.rindex(b"PK\x05\x06")
    eocd = bytearray(data[end:])
    directory_size = int.from_bytes(eocd[12:16], "little")
    directory_offset = int.from_bytes(eocd[16:20], "little")
    record = struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, 5000, 5000, directory_size, directory_offset)
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, end, 1)
    eocd[8:12] = b"\xff\xff\xff\xff"  # "see the ZIP64 record"
    zip64 = data[:end] + record + locator + bytes(eocd)

    with pytest.raises(UnsafeError, match="5000 entries"):
        unpack(tmp_path, zip64)
    assert os.listdir(tmp_path) == []

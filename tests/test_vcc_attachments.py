"""`vcc attachments` against the simulator over real HTTP: files land safely, or nothing does.

Every test downloads into `out` inside its own tmp_path and then checks the whole of tmp_path,
so a file written outside the folder (or a temporary file left behind) fails it.
"""

from __future__ import annotations

import io
import json
import os
import pty
import resource
import select
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.core.management import call_command
from helpers import wait_for

from wallboard.simulator.attachments import HUGE, SAMPLES
from wallboard.simulator.server import SimulatorServer
from wallboard.vcc.attachments import Limits, attachment_url, check_id, download
from wallboard.vcc.errors import TimedOutError

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "demo-token"


@pytest.fixture(scope="module")
def sim():
    server = SimulatorServer(port=0, agents=5, queues=2)
    server.start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def settled(sim):
    """Each test starts with no request in flight (a hostile answer may still be winding down)."""
    yield
    sim.faults.clear()
    wait_for(lambda: sim.state()["customers_in_flight"] == 0, what="simulator idle")


@pytest.fixture
def out(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def run(sim, *args: str, output: Path | None = None, token: str | None = TOKEN, base_url: str | None = None):
    """call_command in-process; (exit status, stdout, stderr)."""
    stdout, stderr = io.StringIO(), io.StringIO()
    flags = ["--base-url", base_url or sim.base_url, "--tenant", "demo"] + (["--token", token] if token else [])
    if output is not None:
        flags += ["--output", str(output)]
    try:
        call_command("vcc", "attachments", *args, *flags, stdout=stdout, stderr=stderr)
        status = 0
    except SystemExit as exc:
        status = exc.code
    return status, stdout.getvalue(), stderr.getvalue()


def files_under(root: Path) -> list[str]:
    """Every file, link and folder below root, relative, sorted."""
    return sorted(str(path.relative_to(root)) for path in root.rglob("*"))


def saved(out_text: str) -> list[tuple[str, int]]:
    return [(Path(item["path"]).name, item["bytes"]) for item in json.loads(out_text)]


def assert_failed(status: int, stdout: str, stderr: str, words: str) -> None:
    assert status == 1
    assert stdout == ""
    assert stderr.startswith("error: ") and stderr.count("\n") <= 1
    assert words in stderr
    assert "Traceback" not in stderr and TOKEN not in stderr


def body(kind: str, ident: str) -> bytes:
    return SAMPLES[(kind, ident)].body()


# --- ordinary attachments -------------------------------------------------------------------------


def test_it_saves_one_file_under_its_decoded_name(sim, out, tmp_path):
    status, stdout, stderr = run(sim, "case", "38", output=out)

    assert (status, stderr) == (0, "")
    assert json.loads(stdout) == [{"path": str(out / "Quarterly report.pdf"), "bytes": 200_000}]
    assert (out / "Quarterly report.pdf").read_bytes() == body("case", "38")
    assert files_under(tmp_path) == ["out", "out/Quarterly report.pdf"]


def test_it_unpacks_a_zip_of_several_files(sim, out, tmp_path):
    status, stdout, stderr = run(sim, "case", "39", output=out)

    assert (status, stderr) == (0, "")
    names = [name for name, _ in saved(stdout)]
    assert names == ["notes.txt", "screenshot.png", "Überweisung März.pdf", "photo.jpg", "photo (1).jpg"]
    assert (out / "notes.txt").read_bytes() == b"Customer called twice about the invoice.\n"
    assert (out / "photo (1).jpg").read_bytes() == b"\xff\xd8\xff second photo"
    assert files_under(tmp_path) == ["out"] + sorted(f"out/{name}" for name in names)
    assert all(size == (out / name).stat().st_size for name, size in saved(stdout))


def test_it_keeps_a_zip_whole_when_asked(sim, out, tmp_path):
    status, stdout, _ = run(sim, "case", "39", "--keep-zip", output=out)

    assert status == 0
    assert saved(stdout) == [("case_39_attachments.zip", len(body("case", "39")))]
    assert files_under(tmp_path) == ["out", "out/case_39_attachments.zip"]


def test_it_decodes_an_rfc_5987_name(sim, out):
    status, stdout, _ = run(sim, "case", "40", output=out)

    assert status == 0
    assert saved(stdout) == [("résumé €.txt", len(body("case", "40")))]


def test_it_names_a_file_sent_without_a_name(sim, out):
    status, stdout, _ = run(sim, "case", "41", output=out)

    assert status == 0
    assert saved(stdout) == [("case-41.txt", len(body("case", "41")))]


def test_it_saves_a_followup_attachment(sim, out):
    status, stdout, _ = run(sim, "followup", "38.1", output=out)

    assert status == 0
    assert saved(stdout) == [("call notes.txt", len(body("followup", "38.1")))]
    assert (out / "call notes.txt").read_bytes() == body("followup", "38.1")


def test_it_unpacks_a_followup_zip(sim, out):
    status, stdout, _ = run(sim, "followup", "38.2", output=out)

    assert status == 0
    assert [name for name, _ in saved(stdout)] == ["transcript.txt", "invoice.pdf"]


def test_it_saves_an_faq_attachment(sim, out):
    status, stdout, _ = run(sim, "faq", "7", output=out)

    assert status == 0
    assert saved(stdout) == [("Reset password guide.pdf", 5000)]
    assert (out / "Reset password guide.pdf").read_bytes() == body("faq", "7")


def test_it_saves_into_the_current_folder_by_default(sim, out, monkeypatch):
    monkeypatch.chdir(out)

    status, stdout, _ = run(sim, "faq", "7")

    assert status == 0
    assert json.loads(stdout) == [{"path": "Reset password guide.pdf", "bytes": 5000}]
    assert os.listdir(out) == ["Reset password guide.pdf"]


def test_it_takes_the_token_from_the_environment(sim, out, monkeypatch):
    monkeypatch.setenv("VCC_TOKEN", TOKEN)

    status, _, _ = run(sim, "faq", "7", output=out, token=None)

    assert status == 0


# --- never overwrite ------------------------------------------------------------------------------


def test_it_never_overwrites_an_existing_file(sim, out):
    (out / "Quarterly report.pdf").write_bytes(b"the operator's own file")

    first = run(sim, "case", "38", output=out)
    second = run(sim, "case", "38", output=out)

    assert saved(first[1]) == [("Quarterly report (1).pdf", 200_000)]
    assert saved(second[1]) == [("Quarterly report (2).pdf", 200_000)]
    assert (out / "Quarterly report.pdf").read_bytes() == b"the operator's own file"
    assert (out / "Quarterly report (2).pdf").read_bytes() == body("case", "38")


def test_it_never_writes_through_a_link_planted_under_the_name(sim, out, tmp_path):
    (out / "Quarterly report.pdf").symlink_to(tmp_path / "victim.pdf")

    status, stdout, _ = run(sim, "case", "38", output=out)

    assert status == 0
    assert saved(stdout) == [("Quarterly report (1).pdf", 200_000)]
    assert not (tmp_path / "victim.pdf").exists()


# --- hostile names and ZIPs -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "case, name",
    [
        ("9001", "passwd"),  # ../../etc/passwd
        ("9002", "evil.bat"),  # ..\evil.bat
        ("9003", "abs"),  # /abs
        ("9004", "_CON.txt"),  # a Windows device name
        ("9005", "invoice[2Jgpj.exe"),  # an escape sequence, a right-to-left override, a newline
    ],
)
def test_it_makes_a_hostile_name_safe(sim, out, tmp_path, case, name):
    status, stdout, stderr = run(sim, "case", case, output=out)

    assert (status, stderr) == (0, "")
    assert saved(stdout) == [(name, len(body("case", case)))]
    assert files_under(tmp_path) == ["out", f"out/{name}"]


def test_it_keeps_traversal_entries_of_a_zip_inside_the_folder(sim, out, tmp_path):
    status, stdout, _ = run(sim, "case", "9014", output=out)

    assert status == 0
    names = ["evil.txt", "evil2.txt", "evil3.bat", "evil4.txt", "encoded.txt", "ok.txt"]
    assert [name for name, _ in saved(stdout)] == names
    assert files_under(tmp_path) == ["out"] + sorted(f"out/{name}" for name in names)


def test_it_skips_a_link_in_a_zip(sim, out, tmp_path):
    status, stdout, stderr = run(sim, "case", "9013", output=out)

    assert status == 0
    assert [name for name, _ in saved(stdout)] == ["readme.txt"]
    assert stderr.strip() == "warning: skipped passwd-link (a symbolic link) in the ZIP; it was not written"
    assert files_under(tmp_path) == ["out", "out/readme.txt"]
    assert not (out / "readme.txt").is_symlink()


@pytest.mark.parametrize(
    "case, words",
    [
        ("9010", "zip bomb"),
        ("9011", "2000 entries, more than the limit of 1000"),
        ("9012", "not a valid ZIP (an entry does not match its checksum)"),
        ("9021", "says it is a ZIP (application/zip) but is not one"),
    ],
)
def test_it_refuses_a_hostile_zip_and_writes_nothing(sim, out, tmp_path, case, words):
    assert_failed(*run(sim, "case", case, output=out), words)
    assert files_under(tmp_path) == ["out"]


# --- broken, huge and slow answers ----------------------------------------------------------------


def test_it_fails_on_a_body_cut_short_and_leaves_nothing(sim, out, tmp_path):
    assert_failed(*run(sim, "case", "9020", output=out), "cut the answer short after 50000 of 100000 bytes")
    assert files_under(tmp_path) == ["out"]


def test_it_refuses_an_announced_oversized_file(sim, out, tmp_path):
    assert_failed(*run(sim, "case", "9022", output=out), f"announced {HUGE} bytes, more than the limit")
    assert files_under(tmp_path) == ["out"]


def test_it_stops_an_unannounced_oversized_file_at_the_cap(sim, out, tmp_path):
    status, stdout, stderr = run(sim, "case", "9023", "--max-bytes", "2000000", output=out)

    assert_failed(status, stdout, stderr, "sent more than the limit of 2000000 bytes")
    assert files_under(tmp_path) == ["out"]


def test_it_times_out_on_a_stalled_body(sim, out, tmp_path, settings):
    settings.VCC_READ_TIMEOUT = 0.5

    assert_failed(*run(sim, "case", "9024", output=out), "timed out: 127.0.0.1 stopped sending for more than 0.5 s")
    assert files_under(tmp_path) == ["out"]


def test_it_times_out_when_nothing_comes(sim, out, settings):
    settings.VCC_READ_TIMEOUT = 0.5

    assert_failed(*run(sim, "case", "9025", output=out), "did not answer within 0.5 s")


def test_it_gives_up_on_a_trickle_at_the_overall_deadline(sim, out, tmp_path):
    with pytest.raises(TimedOutError, match="did not finish within 0.3 s"):
        download(
            sim.base_url, "demo", TOKEN, "case", "9026", out,
            connect_timeout=2, read_timeout=2, limits=Limits(total_seconds=0.3),
        )
    assert files_under(tmp_path) == ["out"]


# --- HTTP errors and bad input --------------------------------------------------------------------


@pytest.mark.parametrize(
    "case, words",
    [
        ("9400", "bad request: the platform rejected the request (HTTP 400)"),
        ("9500", "server error: the platform failed to answer (HTTP 500)"),
        ("9503", "busy:"),
        ("12345", "not found: case 12345 does not exist on this platform (HTTP 404)"),
    ],
)
def test_it_fails_in_one_line_for_http_errors(sim, out, tmp_path, case, words):
    assert_failed(*run(sim, "case", case, output=out), words)
    assert files_under(tmp_path) == ["out"]


def test_it_fails_on_a_wrong_token(sim, out):
    assert_failed(*run(sim, "case", "38", output=out, token="wrong"), "bad credentials")
    assert os.listdir(out) == []


def test_it_fails_when_the_token_is_revoked(sim, out):
    sim.revoke_token()

    assert_failed(*run(sim, "case", "38", output=out), "bad credentials")


def test_it_is_busy_while_the_tenant_has_a_request_in_flight(out, tmp_path):
    failures: list[Exception] = []

    def hang(base_url: str) -> None:
        try:
            download(base_url, "demo", TOKEN, "case", "9025", tmp_path, connect_timeout=2, read_timeout=30)
        except Exception as exc:  # the simulator stops under it
            failures.append(exc)

    with SimulatorServer(port=0, agents=5, queues=2) as own:
        waiting = threading.Thread(target=hang, args=(own.base_url,), daemon=True)
        waiting.start()
        wait_for(lambda: own.state()["in_flight"].get("demo") == 1, what="the hanging request in flight")

        assert_failed(*run(own, "case", "38", output=out), "busy: the platform is overloaded or already serving")
    waiting.join(30)
    assert len(failures) == 1
    assert files_under(tmp_path) == ["out"]


@pytest.mark.parametrize(
    "kind, ident, rule",
    [
        ("followup", "38", "<case id>.<follow-up id>"),
        ("followup", "38.", "<case id>.<follow-up id>"),
        ("followup", "38.1.2", "<case id>.<follow-up id>"),
        ("followup", "../1", "<case id>.<follow-up id>"),
        ("case", "38.1", "a case id is a number"),
        ("case", "1/2", "a case id is a number"),
        ("faq", "", "an FAQ id is a number"),
        ("case", "\u0663\u0668", "a case id is a number"),  # Arabic-Indic digits are not 8x8 ids
    ],
)
def test_it_refuses_a_malformed_id_before_asking(sim, out, kind, ident, rule):
    assert_failed(*run(sim, kind, ident, output=out), rule)


def test_it_builds_the_documented_urls():
    assert check_id("followup", " 38.1 ") == "38.1"
    assert attachment_url("https://vcc-na4.8x8.com/", "followup", "38.1") == (
        "https://vcc-na4.8x8.com/api/ccm/attachments/followup/38.1"
    )
    assert attachment_url("https://vcc-na4.8x8.com/api/ccm/attachments", "faq", "7") == (
        "https://vcc-na4.8x8.com/api/ccm/attachments/faq/7"
    )


def test_it_refuses_plain_http_to_a_remote_host(sim, out):
    status, stdout, stderr = run(sim, "case", "38", output=out, base_url="http://vcc-na4.8x8.com")

    assert_failed(status, stdout, stderr, "refused as unsafe: plain http to vcc-na4.8x8.com")


def test_it_fails_without_a_token(sim, out, monkeypatch):
    monkeypatch.delenv("VCC_TOKEN", raising=False)

    assert_failed(*run(sim, "case", "38", output=out, token=None), "missing token")


def test_it_fails_when_the_folder_does_not_exist(sim, tmp_path):
    assert_failed(*run(sim, "case", "38", output=tmp_path / "nope"), "is not an existing folder")
    assert files_under(tmp_path) == []


# --- as a real process ----------------------------------------------------------------------------


def manage(sim, *args: str, **kwargs) -> subprocess.CompletedProcess:
    command = [sys.executable, "manage.py", "vcc", "attachments", *args, "--base-url", sim.base_url, "--tenant", "demo"]
    return subprocess.run(command, cwd=ROOT, env={**os.environ, "VCC_TOKEN": TOKEN}, capture_output=True, text=True,
                          timeout=60, **kwargs)


def test_it_works_as_a_process(sim, out):
    done = manage(sim, "case", "39", "--output", str(out))

    assert (done.returncode, done.stderr) == (0, "")
    assert len(json.loads(done.stdout)) == 5


def test_it_fails_as_a_process_with_one_line(sim, out, tmp_path):
    done = manage(sim, "case", "9010", "--output", str(out))

    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith("error: refused as unsafe:") and len(done.stderr.splitlines()) == 1
    assert files_under(tmp_path) == ["out"]


def test_it_reports_a_full_disk_and_leaves_nothing(sim, out, tmp_path):
    """A 100 kB file-size limit on the process: the 200 kB download fails while being written."""

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))

    done = manage(sim, "case", "38", "--output", str(out), preexec_fn=small_files)

    assert done.returncode == 1, done.stdout
    assert done.stderr.strip() == "error: cannot save: could not write the download (File too large)"
    assert files_under(tmp_path) == ["out"]


def test_it_leaves_nothing_when_interrupted(sim, out, tmp_path):
    env = {**os.environ, "VCC_TOKEN": TOKEN, "VCC_READ_TIMEOUT": "30"}
    command = [sys.executable, "manage.py", "vcc", "attachments", "case", "9024", "--output", str(out),
               "--base-url", sim.base_url, "--tenant", "demo"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: any(name.endswith(".part") for name in os.listdir(out)), timeout=30, what="a partial file")
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        process.kill()
        process.wait()

    assert (process.returncode, stdout, stderr) == (1, "", "error: interrupted; nothing was saved\n")
    assert files_under(tmp_path) == ["out"]


def test_it_draws_a_progress_bar_only_on_a_terminal(sim, out):
    leader, follower = pty.openpty()
    command = [sys.executable, "manage.py", "vcc", "attachments", "case", "38", "--output", str(out),
               "--base-url", sim.base_url, "--tenant", "demo"]
    process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, "VCC_TOKEN": TOKEN},
                               stdin=subprocess.DEVNULL, stdout=follower, stderr=follower)
    os.close(follower)
    seen = b""
    try:
        while True:
            ready, _, _ = select.select([leader], [], [], 60)
            if not ready:
                break
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(leader)
        process.wait(timeout=30)

    text = seen.decode()
    assert process.returncode == 0, text
    assert "\rcase 38 [" + "#" * 30 + "] 195.3 KiB / 195.3 KiB" in text
    assert '"bytes": 200000' in text
    assert os.listdir(out) == ["Quarterly report.pdf"]

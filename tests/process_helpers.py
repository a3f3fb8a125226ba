"""Real processes for the outage tests: an app worker in its own process group, waits."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from reflexion.processes import die_with_parent

ROOT = Path(__file__).resolve().parent.parent


def wait_until(predicate, timeout, interval=0.05, message="condition not met"):
    """Poll ``predicate`` until it returns a truthy value; return it, or raise AssertionError."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(message)
        time.sleep(interval)


def app_env(app, redis_url, **extra):
    """The environment for a subprocess of ``app`` (same database, Redis and secret)."""
    config = app.config
    return {
        **os.environ,
        "DATABASE_URL": config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": redis_url,
        "SECRET_KEY": config["SECRET_KEY"],
        "REFLEXION_INSTANCE": config["INSTANCE_DIR"],
        "REFLEXION_NTP_SERVERS": "127.0.0.1",  # never the internet; fails at once
        "REFLEXION_NTP_TIMEOUT": "0.2",
        "PYTHONUNBUFFERED": "1",
        **{key: str(value) for key, value in extra.items()},
    }


class Child:
    """A subprocess in its own process group, its output in a log file."""

    def __init__(self, args, env, log_path):
        self.log_path = Path(log_path)
        self.log = open(self.log_path, "wb")
        self.process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                        start_new_session=True, preexec_fn=die_with_parent)

    @property
    def pid(self):
        return self.process.pid

    def output(self):
        self.log.flush()
        return self.log_path.read_text(errors="replace")[-4000:]

    def signal(self, signum):
        os.killpg(self.process.pid, signum)

    def stop(self):
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGCONT)
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
            except ProcessLookupError:
                pass
        self.log.close()


def start_worker(app, redis_url, log_path, **env):
    """``flask worker`` for ``app``'s database and ``redis_url``."""
    return Child([sys.executable, "-m", "flask", "--app", "wsgi", "worker"], app_env(app, redis_url, **env), log_path)

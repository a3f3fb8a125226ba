"""``make run``: migrate, seed, start a private Redis, the web server and the RQ worker.

Everything runs in the foreground under a small supervisor: a child that dies is restarted
(with back-off) while the others keep serving; Ctrl-C (or SIGTERM) stops all of it and
leaves no process behind.
"""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from flask_migrate import upgrade

from reflexion import create_app
from reflexion.operator.models import Operator
from reflexion.processes import die_with_parent
from reflexion.redis_conn import PrivateRedis
from reflexion.seed import DEMO_EMAIL, seed_if_empty


def main():
    os.umask(0o077)  # the children inherit it
    os.environ.setdefault("REFLEXION_DEMO", "1")  # make run is the demo; REFLEXION_DEMO=0 turns it off

    app = create_app()
    instance = Path(app.config["INSTANCE_DIR"])
    redis = None
    env = dict(os.environ)
    if not os.environ.get("REDIS_URL"):
        redis = PrivateRedis(instance / "redis").start()
        env["REDIS_URL"] = redis.url
        print(f"* private Redis on {redis.url}", flush=True)
    with app.app_context():
        upgrade()
        demo_password = seed_if_empty()

        has_operator = app.extensions["sqlalchemy"].session.query(Operator.id).first() is not None
    demo = instance / "demo-operator.txt"
    port = env.get("PORT", "5000")
    host = env.get("HOST", "127.0.0.1")
    web = [sys.executable, "-m", "gunicorn", "--no-control-socket", "--bind", f"{host}:{port}",
           "--workers", env.get("WEB_WORKERS", "2"), "--threads", "4", "--graceful-timeout", "5",
           "--access-logfile", "-", "--access-logformat", '%(m)s %(U)s %(s)s %(L)ss', "wsgi:app"]
    worker = [sys.executable, "-m", "flask", "--app", "wsgi", "worker"]
    children = [Child("web", lambda: _popen(web, env)), Child("worker", lambda: _popen(worker, env))]
    if redis:
        children.insert(0, Child("redis", lambda: redis.start().process, started=redis.process))
    try:
        for child in children:
            if child.process is None:
                child.start()
        print(f"* Reflexion on http://{host}:{port}/  (operator panel: /operator/)", flush=True)
        if demo_password:  # printed once, when it is made
            print(f"* demo operator login: {DEMO_EMAIL} / {demo_password}  (kept in {demo})", flush=True)
        elif app.config["DEMO_MODE"] and demo.exists():
            print(f"* demo operator login: {DEMO_EMAIL}, password in {demo}", flush=True)
        elif not has_operator:
            print("* no operator yet: flask --app wsgi operator create --email you@example.org", flush=True)
        print("* Ctrl-C stops everything", flush=True)
        supervise(children)
    finally:
        # Redis last: the web server and the worker finish their shutdown while it still answers.
        _stop([child.process for child in children if child.process is not None and child.name != "redis"])
        _stop([child.process for child in children if child.process is not None and child.name == "redis"])
        if redis:
            redis.stop()


def _popen(args, env):
    return subprocess.Popen(args, env=env, preexec_fn=die_with_parent, start_new_session=True)


class Child:
    """One supervised process: restarted when it exits, after a back-off that grows while it
    keeps dying (0.5 s, 1 s, 2 s … at most 30 s) and resets once it ran for a minute."""

    FIRST_DELAY, MAX_DELAY, STABLE_AFTER = 0.5, 30.0, 60.0

    def __init__(self, name, spawn, started=None):
        self.name, self.spawn, self.process = name, spawn, started
        self.delay = self.FIRST_DELAY
        self.started_at = time.monotonic()
        self.restart_at = None
        if started is not None:
            print(f"* {name} started (pid {started.pid})", flush=True)

    def start(self):
        try:
            self.process = self.spawn()
        except Exception as exc:  # noqa: BLE001 - e.g. Redis did not come up: try again later
            print(f"* {self.name} failed to start ({exc}); next try in {self.delay:g} s", flush=True)
            self.process = None
            self._back_off()
            return
        self.started_at, self.restart_at = time.monotonic(), None
        print(f"* {self.name} started (pid {self.process.pid})", flush=True)

    def _back_off(self):
        self.restart_at = time.monotonic() + self.delay
        self.delay = min(self.MAX_DELAY, self.delay * 2)

    def check(self):
        """Notice an exit (and schedule the restart), or restart when the back-off is over."""
        if self.process is not None and self.process.poll() is not None:
            code = self.process.returncode
            _signal_group(self.process, signal.SIGKILL)  # whatever it left of its group
            self.process = None
            if time.monotonic() - self.started_at > self.STABLE_AFTER:
                self.delay = self.FIRST_DELAY
            print(f"* {self.name} exited with code {code}; restarting in {self.delay:g} s", flush=True)
            self._back_off()
        elif self.process is None and self.restart_at is not None and time.monotonic() >= self.restart_at:
            self.start()


def supervise(children):
    """Keep every child running until Ctrl-C, SIGTERM or SIGHUP."""
    stop = {"now": False}

    def handler(signum, frame):
        stop["now"] = True

    # Set explicitly: a shell without job control starts background jobs with SIGINT ignored.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, handler)
    while not stop["now"]:
        for child in children:
            child.check()
        time.sleep(0.2)
    print("* stopping", flush=True)


def _stop(children):
    """Stop each child with its whole process group (gunicorn's and RQ's forked workers too)."""
    for child in children:
        _signal_group(child, signal.SIGTERM)
    deadline = time.monotonic() + 10
    for child in children:
        try:
            child.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
    for child in children:  # whatever is left of a group, however it got stuck
        _signal_group(child, signal.SIGKILL)
        child.wait()


def _signal_group(child, signum):
    try:
        os.killpg(child.pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


if __name__ == "__main__":
    main()

"""``make run``: migrate, seed, start a private Redis, the web server and the RQ worker.

Everything runs in the foreground; Ctrl-C (or SIGTERM) stops all of it and leaves no
process behind.
"""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from reflexion import create_app
from reflexion.processes import die_with_parent
from reflexion.redis_conn import PrivateRedis
from reflexion.seed import seed_if_empty


def main():
    from flask_migrate import upgrade


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
        seed_if_empty()
    demo = instance / "demo-operator.txt"
    port = env.get("PORT", "5000")
    host = env.get("HOST", "127.0.0.1")
    children = []
    try:
        children.append(subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--no-control-socket", "--bind", f"{host}:{port}", "--workers", env.get("WEB_WORKERS", "2"),
             "--threads", "4", "--graceful-timeout", "5", "--access-logfile", "-",
             "--access-logformat", '%(m)s %(U)s %(s)s %(L)ss', "wsgi:app"],
            env=env, preexec_fn=die_with_parent, start_new_session=True))
        children.append(subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker"], env=env,
                                         preexec_fn=die_with_parent, start_new_session=True))
        print(f"* Reflexion on http://{host}:{port}/  (operator panel: /operator/)", flush=True)
        if demo.exists():
            email, password = demo.read_text().split()[:2]
            print(f"* demo operator login: {email} / {password}", flush=True)
        print("* Ctrl-C stops everything", flush=True)
        _wait(children)
    finally:
        _stop(children)
        if redis:
            redis.stop()


def _wait(children):
    """Return on Ctrl-C, SIGTERM or SIGHUP, or as soon as one child exits."""
    stop = {"now": False}

    def handler(signum, frame):
        stop["now"] = True

    # Set explicitly: a shell without job control starts background jobs with SIGINT ignored.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, handler)
    while not stop["now"]:
        for child in children:
            if child.poll() is not None:
                print(f"* a process exited with code {child.returncode}; stopping", flush=True)
                return
        time.sleep(0.3)
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

"""``make run``'s supervisor: starts Redis, web server and worker; a Ctrl-C leaves no process behind."""
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.worker


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _processes_mentioning(*needles):
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:  # the command line, and the environment (the worker's only mention of its instance)
            text = b" ".join(Path(f"/proc/{pid}/{part}").read_bytes() for part in ("cmdline", "environ"))
        except OSError:
            continue
        text = text.replace(b"\0", b" ").decode(errors="replace")
        if any(needle in text for needle in needles) and int(pid) != os.getpid():
            found.append((int(pid), text[:120]))
    return found


def test_run_serves_the_site_and_ctrl_c_stops_everything(tmp_path):
    port = _free_port()
    instance = tmp_path / "instance"
    env = {**os.environ, "PORT": str(port), "REFLEXION_INSTANCE": str(instance), "REFLEXION_NTP_SERVERS": "127.0.0.1:9"}
    env.pop("REDIS_URL", None)
    env.pop("XDG_RUNTIME_DIR", None)
    env["HOME"] = str(tmp_path / "home")  # where gunicorn >= 25 would put its per-user control socket
    runner = subprocess.Popen([sys.executable, "-m", "reflexion.runner"], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        health = None
        while time.monotonic() < deadline:
            try:
                health = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).read())
                if health["worker"]["count"] == 1:
                    break
            except OSError:
                pass
            assert runner.poll() is None, runner.stdout.read()
            time.sleep(0.3)
        assert health and health["ok"] and health["redis"]["ok"], health
        page = urllib.request.urlopen(f"http://127.0.0.1:{port}/sv/", timeout=5).read().decode()
        assert 'lang="sv"' in page
        running = _processes_mentioning(f"127.0.0.1:{port}", str(instance))
        assert len(running) >= 5, running  # runner, Redis, gunicorn master + 2 workers, RQ worker
        # No control socket shared by every instance of the user: a second `make run` cannot take it over.
        assert not (tmp_path / "home" / ".gunicorn").exists()
    finally:
        runner.send_signal(signal.SIGINT)  # what Ctrl-C sends
        output = runner.communicate(timeout=30)[0]
    assert "demo operator login: operator@example.com" in output
    time.sleep(0.5)
    assert _processes_mentioning(f"127.0.0.1:{port}", str(instance)) == []
    # A clean stop: Redis goes last, so neither the worker nor its scheduler loses it mid-shutdown.
    stopped = output.split("* stopping", 1)[1]
    assert "Traceback" not in stopped and " ERROR " not in stopped and "Redis away" not in stopped, stopped


def test_run_restarts_a_child_that_dies_and_keeps_serving(tmp_path):
    """kill -9 of the worker, of gunicorn's master and of the private Redis: each comes back,
    the site answers meanwhile (except while the web server itself restarts), and
    /healthz is all ok again afterwards."""
    import re
    import threading

    port = _free_port()
    instance = tmp_path / "instance"
    env = {**os.environ, "PORT": str(port), "REFLEXION_INSTANCE": str(instance), "REFLEXION_NTP_SERVERS": "127.0.0.1:9",
           "REFLEXION_WORKER_HEARTBEAT": "1", "WEB_WORKERS": "1"}
    env.pop("REDIS_URL", None)
    runner = subprocess.Popen([sys.executable, "-m", "reflexion.runner"], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(iter(runner.stdout.readline, "")), daemon=True)
    reader.start()

    def pid_of(name, other_than=None):
        for line in reversed(lines):
            match = re.match(rf"\* {name} started \(pid (\d+)\)", line)
            if match:
                pid = int(match.group(1))
                return pid if pid != other_than else None
        return None

    def health():
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            with error:
                return json.loads(error.read())
        except OSError:
            return None

    def page_status():
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/de/", timeout=2) as response:
                return response.status
        except urllib.error.HTTPError as error:
            with error:
                return error.code
        except OSError:
            return None

    def wait_healthy(timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            body = health()
            if body and body["ok"]:
                return body
            assert runner.poll() is None, "".join(lines)
            time.sleep(0.1)
        pytest.fail(f"not healthy: {health()} {''.join(lines[-30:])}")

    try:
        wait_healthy()
        for name in ("worker", "redis"):
            old = pid_of(name)
            os.kill(old, signal.SIGKILL)
            assert page_status() == 200  # the site keeps serving
            started = time.monotonic()
            deadline = started + 20
            while pid_of(name, other_than=old) is None:
                assert time.monotonic() < deadline, "".join(lines[-30:])
                time.sleep(0.05)
            assert page_status() == 200
            wait_healthy(20)
            assert time.monotonic() - started < 15
        old = pid_of("web")
        os.killpg(old, signal.SIGKILL)  # the master and its workers
        deadline = time.monotonic() + 20
        while page_status() != 200:
            assert time.monotonic() < deadline, "".join(lines[-30:])
            time.sleep(0.1)
        assert pid_of("web", other_than=old)
        wait_healthy(20)
        assert sum("exited with code" in line for line in lines) == 3
    finally:
        runner.send_signal(signal.SIGINT)
        runner.wait(30)
        reader.join(5)
        runner.stdout.close()
    time.sleep(0.5)
    assert _processes_mentioning(f"127.0.0.1:{port}", str(instance)) == []

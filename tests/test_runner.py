"""``make run``'s supervisor: starts Redis, web server and worker; a Ctrl-C leaves no process behind."""
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
                health = urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).read().decode()
                if '"worker":{"count":1' in health.replace(" ", ""):
                    break
            except OSError:
                pass
            assert runner.poll() is None, runner.stdout.read()
            time.sleep(0.3)
        assert health and '"redis":{"ok":true}' in health.replace(" ", ""), health
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

"""Shared helpers for the benchmark scripts: a throwaway instance, a served app, percentiles."""
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values, pct):
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def temp_instance(prefix="reflexion-bench-"):
    return Path(tempfile.mkdtemp(prefix=prefix))


def start_gunicorn(env, port, app="wsgi:app", workers=2, threads=4, extra_args=(), log_path=None):
    """Serve ``app`` with gunicorn on loopback; return the process once ``/healthz`` answers.

    Output goes to ``log_path`` when given (else errors are kept for the failure message).
    """
    log = open(log_path, "wb") if log_path else subprocess.PIPE
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--no-control-socket", *extra_args, "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
         "--threads", str(threads), "--log-level", "warning", app],
        cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL if not log_path else log,
        stderr=subprocess.STDOUT if log_path else subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).read()
            return process
        except urllib.error.HTTPError:  # it answers: up (/healthz says 503 while no worker runs)
            return process
        except Exception:
            if process.poll() is not None:
                detail = Path(log_path).read_text(errors="replace") if log_path else process.stderr.read().decode()
                raise RuntimeError(detail)
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("gunicorn did not start")


def stop(process):
    if process and process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()

"""Benchmark: the session panel's polled partial against a bare Flask endpoint, same server, same run.

Starts a private Redis and a fresh SQLite instance (migrated, seeded, one paid session an hour
ahead), then ONE gunicorn (as ``make run``: gthread, 2 workers x 4 threads; no access log) serving
  * ``/operator/sessions/<id>`` with ``HX-Request: true`` as a logged-in operator: the partial the
    panel polls every second (login, one booking by primary key, countdowns from the checked clock);
  * ``/bare/``: a Flask app with one view returning a short constant HTML string,
mounted side by side with werkzeug's DispatcherMiddleware. Load: a bounded loop of HTTP/1.1
keep-alive requests on loopback from several client processes, alternating rounds of the two.
Prints requests/s, p50/p99 latency, the server's CPU time per request (gunicorn workers' user +
system time from /proc: steadier than rates on a shared machine) and the partial/bare ratio
(PRODUCT.md §8 wants at least 0.5). For orientation it also measures ``/bench/empty``: a constant
answer from inside our app as the logged-in operator (session cookie, rate limiter, security
headers: the app's own cost before any view) and ``/bench/operator-empty``: the same behind the
panel's login check (what the partial costs before reading the booking); and, outside our app,
``/bare-login/`` (a Flask app with only Flask-Login: signed session cookie, basic session
protection) and ``/bare-session/`` (a Flask app that only reads its signed session cookie),
answering the same constant: what a login in Flask costs at the least.
Production settings (rate limiting on).

Run: ``.venv/bin/python bench/panel_partial.py [--requests 1000] [--clients 4] [--rounds 8]``.
"""
import argparse
import http.client
import http.cookiejar
import json
import os
import re
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from multiprocessing import Pool
from pathlib import Path

import _common as common
from _common import ROOT, free_port, percentile, stop, temp_instance

from reflexion.redis_conn import PrivateRedis

BENCH = Path(__file__).resolve().parent


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def flask_cli(env, *args):
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT,
                            env={**os.environ, **env}, check=True, capture_output=True, text=True)
    return result.stdout


#: One browser: the login session is bound to the client's address and User-Agent.
USER_AGENT = "reflexion-bench/1.0"


def browser(*handlers):
    """A cookie jar and an opener that sends our User-Agent and keeps the jar's cookies."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), *handlers)
    opener.addheaders = [("User-Agent", USER_AGENT)]
    return jar, opener


def cookie_header(jar) -> str:
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def login(base, instance):
    """Log in as the seeded demo operator; return the Cookie header and the opener."""
    email, password = (instance / "demo-operator.txt").read_text().split()[:2]
    jar, opener = browser(NoRedirect)
    html = opener.open(f"{base}/operator/login", timeout=30).read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    data = urllib.parse.urlencode({"csrf_token": token, "email": email, "password": password}).encode()
    try:
        opener.open(f"{base}/operator/login", data=data, timeout=30)
    except urllib.error.HTTPError as redirect:
        assert redirect.code == 303, redirect.code
    return cookie_header(jar), opener


def reference_cookie(base, app) -> str:
    """Log in to one of the reference apps (``/bare-login``, ``/bare-session``); return its Cookie header."""
    jar, opener = browser()
    opener.open(f"{base}{app}/login", timeout=30).read()
    return cookie_header(jar)


def session_path(base, opener, ref) -> str:
    try:
        opener.open(f"{base}/operator/find?ref={ref}", timeout=30)
    except urllib.error.HTTPError as redirect:
        return urllib.parse.urlsplit(redirect.headers["Location"]).path
    raise RuntimeError("no redirect to the session panel")


def hammer(job):
    """One client process: ``count`` requests on one keep-alive connection; return latencies."""
    port, path, headers, count, expect = job
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    latencies = []
    for _ in range(count):
        started = time.perf_counter()
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        body = response.read()
        latencies.append(time.perf_counter() - started)
        if response.status != 200 or expect not in body:
            raise RuntimeError(f"{path}: HTTP {response.status} {body[:200]!r}")
        if response.getheader("Set-Cookie"):
            raise RuntimeError(f"{path}: the session cookie is re-issued on every poll")
    connection.close()
    return latencies


def start_gunicorn(env, port, log_path, app, workers, threads):
    """gunicorn on loopback; wait until it answers.

    Explicit settings only (an empty config file instead of the project's gunicorn.conf.py, whose
    access log and ``max_requests`` worker restarts would be measured too), output to a file so a
    full pipe never stalls it.
    """
    config = Path(log_path).with_name("bench_gunicorn.conf.py")
    config.write_text("# bench/panel_partial.py: settings on the command line\n")
    return common.start_gunicorn(
        env, port, app=app, workers=workers, threads=threads, log_path=log_path,
        extra_args=("--config", str(config), "--worker-class", "gthread", "--keep-alive", "5"))


def server_cpu_seconds(master_pid: int) -> float:
    """CPU time (user + system) used so far by gunicorn's workers (children of the master)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master_pid:  # ppid
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def measure(pool, port, path, headers, total, clients, expect, master_pid):
    """Return requests/s, latencies and the server's CPU milliseconds per request."""
    per_client = total // clients
    cpu_before = server_cpu_seconds(master_pid)
    started = time.perf_counter()
    results = pool.map(hammer, [(port, path, headers, per_client, expect)] * clients)
    elapsed = time.perf_counter() - started
    cpu = server_cpu_seconds(master_pid) - cpu_before
    latencies = [t for chunk in results for t in chunk]
    return len(latencies) / elapsed, latencies, cpu * 1000 / len(latencies)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=1000, help="requests per endpoint per round")
    parser.add_argument("--clients", type=int, default=4, help="client processes (one keep-alive connection each)")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (make run: 2)")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker (make run: 4)")
    args = parser.parse_args()

    instance = temp_instance()
    redis = PrivateRedis(instance / "redis").start()
    port = free_port()
    # Production settings (rate limiting on, its counters in Redis); no NTP check, no internet.
    env = {"REFLEXION_INSTANCE": str(instance), "REDIS_URL": redis.url,
           "SECRET_KEY": "bench", "REFLEXION_NTP_SERVERS": "127.0.0.1",
           "PYTHONPATH": os.pathsep.join([str(ROOT), str(BENCH)]), **dict(kv.split("=", 1) for kv in os.environ.get("BENCH_ENV", "").split() if kv)}
    flask_cli(env, "db", "upgrade")
    flask_cli(env, "seed", "demo")
    booking = json.loads(flask_cli(env, "bookings", "create", "--start",
                                   time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600)),
                                   "--name", "Bench Client", "--email", "bench@example.org",
                                   "--handle", "bench.client@example.org", "--paid", "--json"))
    server = start_gunicorn(env, port, instance / "gunicorn.log", "panel_partial_wsgi:app", args.workers, args.threads)
    base = f"http://127.0.0.1:{port}"
    try:
        cookie, opener = login(base, instance)
        partial = session_path(base, opener, booking["ref"])
        partial_headers = {"Cookie": cookie, "HX-Request": "true", "HX-Target": "session-live",
                           "User-Agent": USER_AGENT}
        endpoints = {
            "bare Flask endpoint": ("/bare/", {"User-Agent": USER_AGENT}, b"ok"),
            "panel partial": (f"{partial}?seen=confirmed", partial_headers, b'id="session-live"'),
            "app, empty view": ("/bench/empty", partial_headers, b"ok"),
            "app, login only": ("/bench/operator-empty", partial_headers, b"ok"),
            "Flask + Flask-Login": ("/bare-login/", {"Cookie": reference_cookie(base, "/bare-login"),
                                                     "User-Agent": USER_AGENT}, b"ok"),
            "Flask + its session": ("/bare-session/", {"Cookie": reference_cookie(base, "/bare-session"),
                                                      "User-Agent": USER_AGENT}, b"ok"),
        }
        rates = {name: [] for name in endpoints}
        latencies = {name: [] for name in endpoints}
        cpu_ms = {name: [] for name in endpoints}
        ratios = []
        with Pool(args.clients) as pool:
            for path, headers, expect in endpoints.values():  # warm-up
                measure(pool, port, path, headers, 200, args.clients, expect, server.pid)
            for round_no in range(args.rounds):
                # Alternate the order, so a change in machine load hits both endpoints alike.
                order = list(endpoints.items()) if round_no % 2 == 0 else list(endpoints.items())[::-1]
                for name, (path, headers, expect) in order:
                    rate, times, cpu = measure(pool, port, path, headers, args.requests, args.clients, expect,
                                               server.pid)
                    rates[name].append(rate)
                    latencies[name] += times
                    cpu_ms[name].append(cpu)
                ratios.append(rates["panel partial"][-1] / rates["bare Flask endpoint"][-1])
        print(f"gunicorn (gthread) {args.workers} workers x {args.threads} threads, {args.clients} keep-alive clients, "
              f"{args.rounds} rounds x {args.requests} requests per endpoint, loopback, {os.cpu_count()} CPUs")
        for name in endpoints:
            print(f"  {name:<20} median {statistics.median(rates[name]):7.0f} req/s "
                  f"(rounds: {', '.join(f'{r:.0f}' for r in rates[name])}), "
                  f"p50 {percentile(latencies[name], 50) * 1000:.1f} ms, p99 {percentile(latencies[name], 99) * 1000:.1f} ms, "
                  f"server CPU {statistics.median(cpu_ms[name]):.2f} ms/request")
        for name in ("app, empty view", "app, login only", "Flask + Flask-Login", "Flask + its session"):
            ceiling = statistics.median(rate / bare_rate for rate, bare_rate
                                        in zip(rates[name], rates["bare Flask endpoint"]))
            print(f"  {name} / bare = {ceiling:.2f} (median of rounds: the most any partial behind it can reach)")
        behind_login = statistics.median(rate / login_rate for rate, login_rate
                                         in zip(rates["panel partial"], rates["app, login only"]))
        print(f"  partial / login only = {behind_login:.2f} (median of rounds: the partial's own work)")
        print(f"  partial / bare, per round: {', '.join(f'{r:.2f}' for r in ratios)}")
        print(f"  partial / bare = {statistics.median(ratios):.2f} (median of rounds; goal: at least 0.75, issue 10; PRODUCT.md §8: 0.5)")
        cpu_ratio = statistics.median(cpu_ms["bare Flask endpoint"]) / statistics.median(cpu_ms["panel partial"])
        print(f"  server capacity (CPU per request), bare / partial = {cpu_ratio:.2f}")
    finally:
        stop(server)
        redis.stop()
        log = (instance / "gunicorn.log").read_text(errors="replace")
        if log.strip():
            print(f"  server log ({instance / 'gunicorn.log'}), last lines:\n" + "\n".join(log.splitlines()[-5:]))
    return 0


if __name__ == "__main__":
    sys.exit(main())

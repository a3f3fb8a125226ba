"""Load test: the real app under gunicorn with its real Redis and database.

Many clients browse and book while the operator's session panel polls its partial every
second. Reports request rates, p50/p99 latencies and errors per kind of request.
Everything runs on loopback, bounded in time. Run: ``.venv/bin/python bench/load.py``
(``--database-url postgresql+psycopg://…`` to use PostgreSQL; ``--seconds``, ``--clients``).
"""
import argparse
import http.cookiejar
import json
import os
import random
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import defaultdict
from datetime import datetime, timedelta, timezone

from _common import ROOT, free_port, percentile, start_gunicorn, stop, temp_instance

from reflexion.redis_conn import PrivateRedis


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.times = defaultdict(list)
        self.statuses = defaultdict(lambda: defaultdict(int))

    def add(self, kind, status, seconds):
        with self.lock:
            self.times[kind].append(seconds)
            self.statuses[kind][status] += 1


def request(opener, stats, kind, url, data=None, headers=None):
    req = urllib.request.Request(url, data=data, headers=headers or {})
    started = time.perf_counter()
    try:
        with opener.open(req, timeout=30) as response:
            body = response.read().decode()
            status = response.status
    except urllib.error.HTTPError as error:
        body = error.read().decode(errors="replace")
        status = error.code
    except Exception:
        body, status = "", 599
    stats.add(kind, status, time.perf_counter() - started)
    return status, body


def browser():
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect)


def client_loop(base, stats, stop_at, n):
    rng = random.Random(n)
    opener = browser()
    lang = rng.choice(["de", "sv"])
    while time.monotonic() < stop_at:
        request(opener, stats, "page", f"{base}/{lang}/")
        _, html = request(opener, stats, "calendar", f"{base}/{lang}/book")
        nxt = re.search(r'href="(/\w\w/book\?week=[^"]+)"[^>]*rel="next"', html)
        if nxt:
            _, html2 = request(opener, stats, "calendar", base + nxt.group(1).replace("&amp;", "&"),
                               headers={"HX-Request": "true"})
            html = html + html2
        slots = re.findall(r'data-slot="([^"]+)"', html)
        if slots and rng.random() < 0.5:
            slot = rng.choice(slots)
            status, form = request(opener, stats, "form", f"{base}/{lang}/book/{slot}")
            token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form)
            if status == 200 and token:
                data = urllib.parse.urlencode({"csrf_token": token.group(1), "name": f"Load {n}",
                                               "email": f"load{n}@example.org", "call_handle": f"load.{n}@example.org",
                                               "accept_terms": "y", "early_start": "y"}).encode()
                request(opener, stats, "book", f"{base}/{lang}/book/{slot}", data=data)
        time.sleep(rng.uniform(0.05, 0.3))


def operator_loop(base, stats, stop_at, email, password, panel_paths):
    opener = browser()
    _, html = request(opener, stats, "operator", f"{base}/operator/login")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    data = urllib.parse.urlencode({"csrf_token": token, "email": email, "password": password}).encode()
    request(opener, stats, "operator", f"{base}/operator/login", data=data)
    while time.monotonic() < stop_at:
        tick = time.monotonic()
        for path in panel_paths:
            request(opener, stats, "panel-poll", base + path, headers={"HX-Request": "true"})
        time.sleep(max(0.0, 1.0 - (time.monotonic() - tick)))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--clients", type=int, default=24)
    parser.add_argument("--panels", type=int, default=4, help="open session panels polling every second")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--database-url")
    args = parser.parse_args()

    instance = temp_instance("reflexion-load-")
    redis = PrivateRedis(instance / "redis").start()
    env = {"REFLEXION_INSTANCE": str(instance), "REDIS_URL": redis.url, "SECRET_KEY": "load",
           "REFLEXION_RATELIMIT": "0", "PYTHONPATH": str(ROOT), "LOG_LEVEL": "WARNING"}
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    full = {**os.environ, **env}

    def flask(*cli, stdin=None):
        return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *cli], cwd=ROOT, env=full,
                              input=stdin, capture_output=True, text=True, check=True).stdout

    flask("db", "upgrade")
    flask("seed", "demo")
    flask("operator", "create", "--email", "load-operator@example.org", stdin="load-operator-password\n")
    panel_paths = []
    soon = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=60)
    for i in range(args.panels):
        created = json.loads(flask("bookings", "create", "--start", (soon + timedelta(hours=2 * i)).isoformat(),
                                   "--name", f"Panel {i}", "--email", f"panel{i}@example.org",
                                   "--handle", f"panel.{i}@example.org", "--paid", "--json"))
        panel_paths.append(PANEL_PATH.format(id=created["id"]))
    worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker"], cwd=ROOT, env=full,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    port = free_port()
    server = start_gunicorn(env, port, workers=args.workers)
    base = f"http://127.0.0.1:{port}"
    stats = Stats()
    try:
        stop_at = time.monotonic() + args.seconds
        threads = [threading.Thread(target=client_loop, args=(base, stats, stop_at, n)) for n in range(args.clients)]
        threads.append(threading.Thread(target=operator_loop, args=(base, stats, stop_at, "load-operator@example.org",
                                                                    "load-operator-password", panel_paths)))
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(args.seconds + 60)
        elapsed = time.monotonic() - started
    finally:
        stop(server)
        stop(worker)
        redis.stop()
    database = "PostgreSQL" if args.database_url else "SQLite"
    print(f"load: {args.clients} clients + 1 operator polling {args.panels} panels, {elapsed:.0f} s, "
          f"gunicorn {args.workers} workers x 4 threads, {database}, private Redis")
    total = errors = 0
    for kind in sorted(stats.times):
        times = stats.times[kind]
        statuses = dict(stats.statuses[kind])
        bad = sum(v for k, v in statuses.items() if k >= 500)
        total += len(times)
        errors += bad
        print(f"  {kind:<11} {len(times):6d} req {len(times) / elapsed:7.1f}/s  p50 {percentile(times, 50) * 1000:6.1f} ms"
              f"  p99 {percentile(times, 99) * 1000:7.1f} ms  statuses {statuses}")
    print(f"  total {total} requests, {total / elapsed:.1f}/s, server errors (5xx or no answer): {errors}")
    return 1 if errors else 0


#: The operator session panel's polled partial (filled in from the operator panel's routes).
PANEL_PATH = "/operator/sessions/{id}?seen=confirmed"

if __name__ == "__main__":
    sys.exit(main())

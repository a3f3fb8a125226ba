"""Benchmark: the booking POST under concurrency, against the real app under gunicorn.

Starts a private Redis, a fresh SQLite instance (migrated and seeded) and gunicorn on
loopback, then
  1. contention: for several slots, many clients POST the same slot at once — exactly one
     must win (303), every other one must get the friendly 409;
  2. throughput: clients book distinct slots in parallel.
Each client first GETs the form (session cookie + CSRF token), as a browser does.
Prints request counts, rates and p50/p99 latencies. Run: ``.venv/bin/python bench/booking_post.py``.
"""
import argparse
import http.cookiejar
import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from _common import ROOT, free_port, percentile, start_gunicorn, stop, temp_instance

from reflexion.redis_conn import PrivateRedis


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def client():
    jar = http.cookiejar.CookieJar()
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)


def prepare(base, slot):
    opener = client()
    html = opener.open(f"{base}/de/book/{slot}", timeout=30).read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    return opener, token


def post(opener, token, base, slot, n):
    data = urllib.parse.urlencode({"csrf_token": token, "name": f"Client {n}", "email": f"c{n}@example.org",
                                   "call_handle": f"client.{n}@example.org", "accept_terms": "y", "early_start": "y"}).encode()
    started = time.perf_counter()
    try:
        with opener.open(f"{base}/de/book/{slot}", data=data, timeout=60) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
        error.read()
    return status, time.perf_counter() - started


def free_slot_keys(base, weeks=8):
    keys = []
    html = urllib.request.urlopen(f"{base}/de/book", timeout=30).read().decode()
    for _ in range(weeks):
        keys += re.findall(r'data-slot="([^"]+)"', html)
        nxt = re.search(r'href="(/de/book\?week=[^"]+)"[^>]*rel="next"', html)
        if not nxt:
            break
        html = urllib.request.urlopen(base + nxt.group(1).replace("&amp;", "&"), timeout=30).read().decode()
    return list(dict.fromkeys(keys))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--contenders", type=int, default=48)
    parser.add_argument("--contended-slots", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    instance = temp_instance()
    redis = PrivateRedis(instance / "redis").start()
    port = free_port()
    env = {"REFLEXION_INSTANCE": str(instance), "REDIS_URL": redis.url, "REFLEXION_RATELIMIT": "0",
           "SECRET_KEY": "bench", "PYTHONPATH": str(ROOT)}
    full_env = {**os.environ, **env}
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=full_env,
                   check=True, capture_output=True)
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "seed", "demo"], cwd=ROOT, env=full_env,
                   check=True, capture_output=True)
    server = start_gunicorn(env, port, workers=args.workers)
    base = f"http://127.0.0.1:{port}"
    try:
        keys = free_slot_keys(base)
        print(f"gunicorn: {args.workers} workers x 4 threads; free slots found: {len(keys)}")
        # 1. contention
        wins, conflicts, others, latencies = 0, 0, [], []
        for slot in keys[: args.contended_slots]:
            prepared = [prepare(base, slot) for _ in range(args.contenders)]
            barrier = threading.Barrier(args.contenders)

            def go(i):
                barrier.wait()
                return post(*prepared[i], base, slot, i)

            with ThreadPoolExecutor(max_workers=args.contenders) as pool:
                results = list(pool.map(go, range(args.contenders)))
            statuses = [s for s, _ in results]
            latencies += [t for _, t in results]
            wins += statuses.count(303)
            conflicts += statuses.count(409)
            others += [s for s in statuses if s not in (303, 409)]
            assert statuses.count(303) == 1, f"slot {slot}: {statuses.count(303)} winners"
        print(f"contention: {args.contended_slots} slots x {args.contenders} simultaneous POSTs -> "
              f"{wins} bookings, {conflicts} x 409, other statuses: {others or 'none'}")
        print(f"  latency p50 {percentile(latencies, 50) * 1000:.0f} ms, p99 {percentile(latencies, 99) * 1000:.0f} ms")
        # 2. throughput on distinct slots
        distinct = keys[args.contended_slots:]
        prepared = [prepare(base, slot) for slot in distinct]
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
            results = list(pool.map(lambda i: post(*prepared[i], base, distinct[i], 1000 + i), range(len(distinct))))
        elapsed = time.perf_counter() - started
        statuses = [s for s, _ in results]
        times = [t for _, t in results]
        print(f"throughput: {len(distinct)} bookings of distinct slots, concurrency {args.concurrency}: "
              f"{statuses.count(303)} x 303, others {[s for s in statuses if s != 303] or 'none'}")
        print(f"  {len(distinct) / elapsed:.1f} bookings/s, p50 {percentile(times, 50) * 1000:.0f} ms, "
              f"p99 {percentile(times, 99) * 1000:.0f} ms")
    finally:
        stop(server)
        redis.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Scale-out for real: two web hosts and two worker hosts behind a reverse proxy, one shared
PostgreSQL and one shared Redis; the worker host that runs the scheduler is killed mid-session.

Each "host" is a network namespace (``ip netns``, a veth pair on a bridge, 10.77.0.0/24) with its
own UTS namespace, so hostnames differ as on real machines. PostgreSQL (this machine's, reached
through a forwarder on the bridge) and a private Redis (bound to the bridge) play the shared
services; nginx is the proxy when installed (else a small Python proxy, and the report says so).
Clients browse and book through the proxy while the operator's panels poll; sessions last
seconds (``REFLEXION_SESSION_MINUTES=0.25``). The report: request rates and errors, how long the
surviving worker took to take the scheduler over, and for every session whether each transition
was recorded at its deadline and how late it was applied.

Root only; addresses on loopback and the private bridge only; bounded in time; everything it
creates (namespaces, bridge, processes, the database) is removed at the end. Without root or
PostgreSQL it says so and exits 0 (``make bench`` runs it too).

    sudo .venv/bin/python bench/scale_out.py [--seconds 70] [--clients 12]
        [--database-url postgresql+psycopg://postgres@127.0.0.1/reflexion_scale]
"""
import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

from _common import ROOT, free_port, percentile

sys.path.insert(0, str(ROOT / "bench"))
from load import PANEL_PATH, Stats, client_loop, operator_loop  # noqa: E402

from reflexion.redis_conn import redis_server_binary  # noqa: E402

BRIDGE, NET = "rfx0", "10.77.0"
HOSTS = {"web1": 11, "web2": 12, "wk1": 21, "wk2": 22}
SESSION_MINUTES, NO_ANSWER_MINUTES = 0.25, 0.1  # 15 s and 6 s
SESSIONS, SPACING = 5, 17  # seconds between session starts
OPERATOR = ("scale-operator@example.org", "scale-operator-password")


def sh(*args, check=True, **kwargs):
    return subprocess.run(args, check=check, capture_output=True, text=True, **kwargs)


class Network:
    """The bridge and one namespace per host; removed again by :meth:`down`."""

    def up(self):
        self.down()
        sh("ip", "link", "add", BRIDGE, "type", "bridge")
        sh("ip", "addr", "add", f"{NET}.1/24", "dev", BRIDGE)
        sh("ip", "link", "set", BRIDGE, "up")
        for host, last in HOSTS.items():
            ns = f"rfx-{host}"
            sh("ip", "netns", "add", ns)
            sh("ip", "link", "add", ns, "type", "veth", "peer", "name", "eth0", "netns", ns)
            sh("ip", "link", "set", ns, "master", BRIDGE)
            sh("ip", "link", "set", ns, "up")
            sh("ip", "netns", "exec", ns, "ip", "addr", "add", f"{NET}.{last}/24", "dev", "eth0")
            sh("ip", "netns", "exec", ns, "ip", "link", "set", "eth0", "up")
            sh("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")

    def kill_host(self, host):
        """Every process of that host, at once (the machine is gone)."""
        pids = sh("ip", "netns", "pids", f"rfx-{host}", check=False).stdout.split()
        for pid in pids:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass
        return len(pids)

    def down(self):
        for host in HOSTS:
            self.kill_host(host) if Path(f"/run/netns/rfx-{host}").exists() else None
            sh("ip", "netns", "del", f"rfx-{host}", check=False)
            sh("ip", "link", "del", f"rfx-{host}", check=False)
        sh("ip", "link", "del", BRIDGE, check=False)


def forward(listen, target, stop):
    """A TCP forwarder (the shared PostgreSQL, reachable from the hosts at the bridge address)."""
    server = socket.create_server(listen, reuse_port=False)
    server.settimeout(0.5)

    def pipe(a, b):
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def serve():
        while not stop.is_set():
            try:
                client, _ = server.accept()
            except (socket.timeout, OSError):
                continue
            upstream = socket.create_connection(target)
            threading.Thread(target=pipe, args=(client, upstream), daemon=True).start()
            threading.Thread(target=pipe, args=(upstream, client), daemon=True).start()
        server.close()

    threading.Thread(target=serve, daemon=True).start()


def start_proxy(port, upstreams, folder):
    """nginx in front of the web hosts (or a Python round-robin proxy when nginx is missing)."""
    nginx = shutil.which("nginx") or (os.path.exists("/usr/sbin/nginx") and "/usr/sbin/nginx")
    if nginx:
        servers = "\n".join(f"    server {u};" for u in upstreams)
        conf = folder / "nginx.conf"
        conf.write_text(f"""
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {folder}/nginx-body;
  proxy_temp_path {folder}/nginx-proxy;
  upstream web {{
{servers}
    keepalive 32;
    # Below gunicorn's keep-alive (2 s): otherwise nginx may send a request on a connection
    # gunicorn is just closing, and answers a POST (never retried) with 502.
    keepalive_timeout 1s;
  }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://web;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_next_upstream error timeout;
    }}
  }}
}}
""")
        process = subprocess.Popen([nginx, "-c", str(conf), "-g", "daemon off;"], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        return process, "nginx " + sh(nginx, "-v", check=False).stderr.strip().split("/")[-1]
    sys.path.insert(0, str(ROOT / "tests"))
    from http_proxy import start_proxy as python_proxy  # noqa: E402 - the tests' proxy, one upstream

    host, upstream_port = upstreams[0].split(":")
    proxy = python_proxy(int(upstream_port), proto="http")
    return proxy, "Python proxy (nginx not installed; one web host only)"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=SESSIONS * SPACING + 25)
    parser.add_argument("--clients", type=int, default=12)
    parser.add_argument("--database-url", default="postgresql+psycopg://postgres@127.0.0.1/reflexion_scale")
    args = parser.parse_args()
    if os.geteuid() != 0 or not shutil.which("ip"):
        print("scale_out: skipped (needs root and iproute2 for network namespaces)")
        return 0
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(args.database_url)
    admin = f"host={url.host or '127.0.0.1'} port={url.port or 5432} user={url.username or 'postgres'} dbname=postgres"
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=3) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{url.database}"')
            connection.execute(f'CREATE DATABASE "{url.database}"')
    except psycopg.OperationalError as exc:
        print(f"scale_out: skipped (no PostgreSQL at {url.host}:{url.port or 5432}: {exc.__class__.__name__})")
        return 0

    folder = Path(tempfile.mkdtemp(prefix="reflexion-scale-"))
    network, stop, children = Network(), threading.Event(), []
    redis = proxy = None
    try:
        network.up()
        forward((f"{NET}.1", 5432), (url.host or "127.0.0.1", url.port or 5432), stop)
        redis = subprocess.Popen([redis_server_binary(), "--bind", f"{NET}.1", "--port", "6390", "--save", "",
                                  "--appendonly", "no", "--protected-mode", "no", "--dir", str(folder)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        proxy_port = free_port()
        shared = {
            "DATABASE_URL": url.set(host=f"{NET}.1", port=5432).render_as_string(hide_password=False),
            "REDIS_URL": f"redis://{NET}.1:6390/0", "SECRET_KEY": "scale-out-bench",
            "REFLEXION_SESSION_MINUTES": str(SESSION_MINUTES), "REFLEXION_NO_ANSWER_MINUTES": str(NO_ANSWER_MINUTES),
            "REFLEXION_RATELIMIT": "0", "REFLEXION_PROXY_HOPS": "1",
            "FORWARDED_ALLOW_IPS": f"{NET}.1", "REFLEXION_NTP_SERVERS": "127.0.0.1", "REFLEXION_NTP_TIMEOUT": "0.2",
            "REFLEXION_PUBLIC_URL": f"http://127.0.0.1:{proxy_port}", "REFLEXION_TRUSTED_HOSTS": "127.0.0.1,localhost",
            "PYTHONPATH": str(ROOT), "LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1",
        }
        # This process books the seconds-long sessions back to back (no break between them); the
        # hosts keep the usual break, so the public week grid stays the usual one.
        here = {**os.environ, **shared, "DATABASE_URL": args.database_url, "REDIS_URL": f"redis://{NET}.1:6390/0",
                "REFLEXION_INSTANCE": str(folder / "bench"), "REFLEXION_BUFFER_MINUTES": "0"}

        def flask(*cli, stdin=None):
            return sh(sys.executable, "-m", "flask", "--app", "wsgi", *cli, cwd=ROOT, env=here, input=stdin).stdout

        flask("db", "upgrade")
        flask("seed", "demo")
        flask("operator", "create", "--email", OPERATOR[0], stdin=OPERATOR[1] + "\n")

        def on_host(host, command, log):
            env = {**os.environ, **shared, "REFLEXION_INSTANCE": str(folder / host)}
            wrapped = ["ip", "netns", "exec", f"rfx-{host}", "unshare", "--uts", "sh", "-c",
                       f'hostname {host} && exec "$@"', "--", *command]
            child = subprocess.Popen(wrapped, cwd=ROOT, env=env, stdout=open(folder / log, "wb"),
                                     stderr=subprocess.STDOUT, start_new_session=True)
            children.append(child)
            return child

        for host in ("web1", "web2"):
            on_host(host, [sys.executable, "-m", "gunicorn", "--no-control-socket", "--bind",
                           f"{NET}.{HOSTS[host]}:8000", "--workers", "2", "--threads", "4", "wsgi:app"], f"{host}.log")
        for host in ("wk1", "wk2"):
            on_host(host, [sys.executable, "-m", "flask", "--app", "wsgi", "worker"], f"{host}.log")
        proxy, proxy_name = start_proxy(proxy_port, [f"{NET}.{HOSTS['web1']}:8000", f"{NET}.{HOSTS['web2']}:8000"],
                                        folder)

        import urllib.request
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                health = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{proxy_port}/healthz", timeout=2).read())
                if health.get("worker", {}).get("count", 0) >= 2:
                    break
            except Exception:  # noqa: BLE001 - not up yet (503 while workers start)
                pass
            time.sleep(0.3)
        else:
            raise RuntimeError("the hosts did not come up: " + (folder / "web1.log").read_text(errors="replace")[-2000:])

        return run_scenario(args, folder, network, proxy_port, proxy_name, here, flask, started_at=time.monotonic())
    finally:
        stop.set()
        for child in children:
            try:
                os.killpg(child.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if proxy is not None:
            if hasattr(proxy, "shutdown"):
                proxy.shutdown()
            else:
                proxy.kill()
        if redis is not None:
            redis.kill()
        network.down()
        try:
            with psycopg.connect(admin, autocommit=True, connect_timeout=3) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
        except psycopg.Error:
            pass
        shutil.rmtree(folder, ignore_errors=True)


def run_scenario(args, folder, network, proxy_port, proxy_name, here, flask, started_at):
    """Sessions, load, the kill, and the report."""
    import psycopg
    from sqlalchemy.engine import make_url

    os.environ.update(here)
    from reflexion import clock, create_app
    from reflexion.booking import codes
    from reflexion.booking.models import Booking
    from reflexion.extensions import db
    from reflexion.conversations import actions

    app = create_app()
    base = f"http://127.0.0.1:{proxy_port}"
    url = make_url(args.database_url)
    dsn = f"host={url.host or '127.0.0.1'} port={url.port or 5432} user={url.username or 'postgres'} dbname={url.database}"
    refs, starts, panel_paths = [], {}, []
    seen = defaultdict(dict)  # ref -> state -> checked-clock instant it was first seen in the database
    stop = threading.Event()

    def watch():
        with psycopg.connect(dsn, autocommit=True) as connection:
            while not stop.is_set():
                now = clock.now()
                for ref, state in connection.execute("SELECT ref, state FROM booking WHERE ref = ANY(%s)", (list(refs),)):
                    seen[ref].setdefault(state, now)
                stop.wait(0.1)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    first = clock.now().replace(microsecond=0) + timedelta(seconds=8 + 3 * SESSIONS)
    for i in range(SESSIONS):
        start = first + timedelta(seconds=SPACING * i)
        made = json.loads(flask("bookings", "create", "--start", start.isoformat(), "--name", f"Scale {i}",
                                "--email", f"scale{i}@example.org", "--handle", f"scale{i}@example.org", "--paid", "--json"))
        refs.append(made["ref"])
        starts[made["ref"]] = start
        panel_paths.append(PANEL_PATH.format(id=made["id"]))
    talking = set(refs[1::2])  # these answer and confirm; the others never answer (no-show)

    def operator():
        """Answer and verify the talking sessions as soon as they are due (the operator's part)."""
        with app.app_context():
            while not stop.is_set():
                for ref in talking:
                    booking = db.session.scalar(db.select(Booking).where(Booking.ref == ref))
                    if booking.state == "due":
                        actions.mark_answered(booking)
                        actions.verify_confirmation(booking, codes.confirmation_code_for(booking))
                        db.session.commit()
                db.session.remove()
                stop.wait(0.3)

    stats = Stats()
    stop_at = time.monotonic() + args.seconds
    threads = [watcher, threading.Thread(target=operator, daemon=True)]
    threads += [threading.Thread(target=client_loop, args=(base, stats, stop_at, n), daemon=True)
                for n in range(args.clients)]
    threads.append(threading.Thread(target=operator_loop, args=(base, stats, stop_at, *OPERATOR, panel_paths),
                                    daemon=True))
    load_started = time.monotonic()
    for thread in threads[1:]:
        thread.start()

    # Kill the worker host that holds the scheduler lock, two seconds into the second session.
    import redis as redis_client

    connection = redis_client.Redis.from_url(here["REDIS_URL"])
    kill_at = starts[refs[1]] + timedelta(seconds=2)
    time.sleep(max(0.0, (kill_at - clock.now()).total_seconds()))
    holder = connection.get("rq:scheduler-lock:timers").decode()
    victim = connection.hget(f"rq:scheduler:{holder}", "hostname").decode()
    killed_at, killed = clock.now(), network.kill_host(victim)
    takeover = None
    while time.monotonic() < stop_at:
        now_holder = connection.get("rq:scheduler-lock:timers")
        if now_holder and now_holder.decode() != holder:
            takeover = (clock.now() - killed_at).total_seconds()
            break
        time.sleep(0.1)
    for thread in threads[2:]:
        thread.join(max(1.0, stop_at - time.monotonic()) + 30)
    last_end = starts[refs[-1]] + timedelta(minutes=SESSION_MINUTES)
    time.sleep(max(0.0, (last_end - clock.now()).total_seconds()) + 3)
    stop.set()
    elapsed = time.monotonic() - load_started

    print(f"scale_out: 2 web hosts (gunicorn 2x4 each) + 2 worker hosts in network namespaces, {proxy_name}, "
          f"PostgreSQL + one Redis shared; {args.clients} clients + 1 operator polling {len(panel_paths)} panels, "
          f"{elapsed:.0f} s")
    total = errors = 0
    for kind in sorted(stats.times):
        times, statuses = stats.times[kind], dict(stats.statuses[kind])
        bad = sum(v for k, v in statuses.items() if k >= 500)
        total, errors = total + len(times), errors + bad
        print(f"  {kind:<11} {len(times):6d} req {len(times) / elapsed:7.1f}/s  p50 {percentile(times, 50) * 1000:6.1f} ms"
              f"  p99 {percentile(times, 99) * 1000:7.1f} ms  statuses {statuses}")
    print(f"  total {total} requests through the proxy, {total / elapsed:.1f}/s, server errors (5xx or none): {errors}")
    print(f"  killed host {victim} ({killed} processes: its worker and the scheduler) at "
          f"{killed_at:%H:%M:%S}; the other worker held the scheduler lock "
          + (f"{takeover:.1f} s later" if takeover is not None else "never (within the run)"))
    wrong = late_max = 0
    print("  session  outcome     transitions recorded at their deadline   applied late by (s)")
    for ref in refs:
        shown = json.loads(flask("bookings", "show", ref, "--json"))
        start = starts[ref]
        deadlines = {"due": start, "no_show": start + timedelta(minutes=NO_ANSWER_MINUTES),
                     "completed": start + timedelta(minutes=SESSION_MINUTES)}
        worker_moves = [t for t in shown["transitions"] if t["actor"] == "worker"]
        at_deadline = all(abs((_instant(t["at"]) - deadlines[t["to"]]).total_seconds()) < 0.001
                          for t in worker_moves if t["to"] in deadlines)
        lateness = [(seen[ref][t["to"]] - deadlines[t["to"]]).total_seconds()
                    for t in worker_moves if t["to"] in deadlines and t["to"] in seen[ref]]
        wrong += not at_deadline or shown["state"] not in ("no_show", "completed")
        late_max = max([late_max, *lateness])
        print(f"  {ref}  {shown['state']:<11} {'yes' if at_deadline else 'NO':<5} "
              f"({', '.join(t['to'] for t in worker_moves)}){'':<8} "
              f"{' / '.join(f'{x:.1f}' for x in lateness)}")
    print(f"  sessions wrong or not ended: {wrong}; latest application {late_max:.1f} s after its deadline")
    return 1 if errors or wrong else 0


def _instant(text):
    from datetime import datetime

    return datetime.fromisoformat(text)


if __name__ == "__main__":
    sys.exit(main())

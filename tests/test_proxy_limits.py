"""Behind the reverse proxy, rate limits count per real client (X-Forwarded-For trusted for
exactly the configured hops), so one attacker locks out neither other clients nor the operator.

Real processes: gunicorn behind a reverse proxy on loopback; clients connect from different
loopback addresses (127.0.0.2, 127.0.0.3 …) as different machines would.
"""
import http.client
import re
import socket
import sys
from datetime import timedelta
from urllib.parse import urlencode

import pytest

from http_proxy import start_proxy
from process_helpers import Child, app_env, wait_until
from reflexion import clock

pytestmark = pytest.mark.worker


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Browser:
    """One client machine: its own source address and cookies."""

    def __init__(self, port, source):
        self.port, self.source, self.cookies = port, source, {}

    def request(self, method, path, data=None, headers=None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10, source_address=(self.source, 0))
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if data is not None:
            body = urlencode(data)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode(errors="replace")
            for key, value in response.getheaders():
                if key.lower() == "set-cookie":
                    name, _, rest = value.partition("=")
                    self.cookies[name] = rest.split(";", 1)[0]
            return response.status, text
        finally:
            connection.close()

    def post_form(self, path, data, headers=None):
        status, page = self.request("GET", path)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or \
            re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token, page[:500]
        headers = {"Referer": f"https://127.0.0.1:{self.port}{path}", **(headers or {})}  # CSRF over HTTPS
        return self.request("POST", path, {**data, "csrf_token": token.group(1)}, headers)[0]


def _behind_the_proxy(app, redis_url, tmp_path, workers):
    """gunicorn (one hop trusted) with rate limits on, behind the proxy; yields the proxy port."""
    port = _free_port()
    env = app_env(app, redis_url, REFLEXION_PROXY_HOPS=1, REFLEXION_RATELIMIT=1,
                  REFLEXION_PUBLIC_URL="https://reflexion.example", REFLEXION_TRUSTED_HOSTS="127.0.0.1")
    web = Child([sys.executable, "-m", "gunicorn", "--no-control-socket", "--bind", f"127.0.0.1:{port}",
                 "--workers", str(workers), "--threads", "2" if workers == 2 else "1", "wsgi:app"],
                env, tmp_path / "gunicorn.log")
    proxy = start_proxy(port)

    def up():
        try:
            return Browser(proxy.server_port, "127.0.0.1").request("GET", "/healthz")[0] in (200, 503)
        except OSError:
            return False

    try:
        wait_until(up, 30, 0.1, "gunicorn did not come up")
        yield proxy.server_port
    finally:
        proxy.shutdown()
        proxy.server_close()
        web.stop()


@pytest.fixture
def site(app, db, redis_server, tmp_path):
    yield from _behind_the_proxy(app, redis_server.url, tmp_path, workers=2)


def test_one_attackers_failures_lock_out_neither_the_operator_nor_other_clients(site, db, make_booking):
    from reflexion.operator.auth import create_operator

    create_operator("op@example.com", "correct horse battery")
    booking = make_booking(clock.now() + timedelta(days=3))
    db.session.commit()
    attacker, operator, client = (Browser(site, f"127.0.0.{n}") for n in (2, 3, 4))

    # Wrong passwords from one source, each with a different forged X-Forwarded-For: after 10, 429.
    statuses = [attacker.post_form("/operator/login", {"email": "op@example.com", "password": f"guess {i}"},
                                   headers={"X-Forwarded-For": f"10.0.0.{i}"}) for i in range(12)]
    assert statuses[:10] == [401] * 10 and statuses[10:] == [429, 429], statuses
    # The operator, elsewhere, logs in at once; even a typo first does not lock them out.
    assert operator.post_form("/operator/login", {"email": "op@example.com", "password": "typo"}) == 401
    assert operator.post_form("/operator/login", {"email": "op@example.com", "password": "correct horse battery"}) == 303

    # Wrong access keys from the attacker: limited; the client's correct key still opens the booking.
    wrong = [attacker.post_form(f"/de/booking/{booking.ref}", {"access_key": "aaaa-bbbb-cccc"}) for _ in range(11)]
    assert wrong[-1] == 429 and 429 not in wrong[:5], wrong
    assert client.post_form(f"/de/booking/{booking.ref}", {"access_key": "abcd-efgh-jkmn"}) == 303


@pytest.fixture
def site_without_redis(app, db, tmp_path):
    """Like ``site``, but Redis is unreachable: rate limits fall back to each process's memory."""
    yield from _behind_the_proxy(app, f"redis://127.0.0.1:{_free_port()}/0", tmp_path, workers=3)


def test_the_access_key_limit_holds_across_processes_while_redis_is_down(site_without_redis, db, make_booking):
    """Counted in the database: three gunicorn processes with in-memory limiters still refuse
    the 11th wrong key from one client, and the 31st for one booking from anywhere."""
    from reflexion import attempts

    booking = make_booking(clock.now() + timedelta(days=3))
    db.session.commit()
    attacker = Browser(site_without_redis, "127.0.0.2")
    wrong = [attacker.post_form(f"/de/booking/{booking.ref}", {"access_key": f"aaaa-bbbb-cc{i:02d}"}) for i in range(13)]
    assert wrong == [403] * 10 + [429] * 3, wrong
    # Refused before any key is checked: not even the right key gets through from there.
    assert attacker.post_form(f"/de/booking/{booking.ref}", {"access_key": "abcd-efgh-jkmn"}) == 429
    # The client, elsewhere, opens the booking at once.
    assert Browser(site_without_redis, "127.0.0.3").post_form(
        f"/sv/booking/{booking.ref}", {"access_key": "abcd-efgh-jkmn"}) == 303
    # Guesses spread over many addresses: 30 per booking and hour, then none is checked.
    for n in range(4, 24):
        assert Browser(site_without_redis, f"127.0.0.{n}").post_form(
            f"/de/booking/{booking.ref}", {"access_key": "zzzz-zzzz-zzzz"}) == 403
    db.session.expire_all()
    assert attempts.failures(f"access-ref:{booking.ref}", attempts.ACCESS_KEY_PER_BOOKING) == 30
    status, page = Browser(site_without_redis, "127.0.0.30").request("GET", f"/sv/booking/{booking.ref}")
    late = Browser(site_without_redis, "127.0.0.30").post_form(f"/sv/booking/{booking.ref}",
                                                               {"access_key": "abcd-efgh-jkmn"})
    assert late == 429

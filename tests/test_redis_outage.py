"""A hung Redis (SIGSTOP of a real redis-server) must not hang the site."""
import os
import re
import signal
import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from reflexion.booking.models import Booking
from reflexion.redis_conn import PrivateRedis

MONDAY_MORNING = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)
QUICK = 1.5  # seconds: one Redis timeout (0.3 s) and the rest of the request, on a busy machine


@pytest.fixture
def hung_redis(tmp_path):
    """A private redis-server; call ``.hang()`` to SIGSTOP it (resumed and stopped afterwards)."""
    server = PrivateRedis(tmp_path / "hung-redis").start()
    server.hang = lambda: os.kill(server.process.pid, signal.SIGSTOP)
    yield server
    os.kill(server.process.pid, signal.SIGCONT)
    server.stop()


def _timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def test_a_hung_redis_leaves_pages_booking_and_the_panel_working(db, make_app, hung_redis, weekly_hours,
                                                                   frozen_now, make_booking):
    from reflexion.operator.auth import create_operator

    frozen_now(MONDAY_MORNING)
    create_operator("op@example.com", "correct horse battery")
    live = make_booking(MONDAY_MORNING + timedelta(minutes=5), state="confirmed")
    db.session.commit()
    app = make_app(REDIS_URL=hung_redis.url, REDIS_TIMEOUT_SECONDS=0.3, RATELIMIT_ENABLED=True)
    client, operator = app.test_client(), app.test_client()
    assert operator.post("/operator/login", data={"email": "op@example.com", "password": "correct horse battery"}
                         ).status_code == 303
    assert client.get("/healthz").get_json()["redis"]["ok"] is True

    hung_redis.hang()
    response, took = _timed(lambda: client.get("/de/"))
    assert response.status_code == 200 and took < QUICK, took
    response, took = _timed(lambda: client.get("/healthz"))
    assert response.status_code == 503 and took < QUICK, took
    assert response.get_json()["redis"]["ok"] is False
    response, took = _timed(lambda: client.get("/de/book"))
    assert response.status_code == 200 and took < QUICK, took
    href = re.findall(r'data-slot="[^"]+" href="([^"]+)"', response.get_data(as_text=True))[0]
    response, took = _timed(lambda: client.post(href, data={
        "name": "Erika Muster", "email": "hung@example.org", "call_handle": "erika.muster@example.org", "accept_terms": "y", "early_start": "y"}))
    assert response.status_code == 303 and took < 2 * QUICK, took  # rate limit, then the e-mail job
    response, took = _timed(lambda: operator.get(f"/operator/sessions/{live.id}", query_string={"seen": "confirmed"},
                                                 headers={"HX-Request": "true"}))
    assert response.status_code in (200, 286) and took < QUICK, took
    # A burst of requests while Redis hangs: each fails fast instead of waiting for Redis.
    started = time.monotonic()
    for _ in range(10):
        assert client.get("/de/").status_code == 200
    assert time.monotonic() - started < QUICK
    db.session.expire_all()
    assert db.session.scalars(select(Booking).where(Booking.email == "hung@example.org")).one().state \
        == "awaiting_payment"


@pytest.mark.parametrize("lang, text", [("de", "Kurz nicht erreichbar"), ("sv", "Tillfälligt otillgänglig")])
def test_a_page_that_needs_redis_answers_a_localized_503_quickly(make_app, hung_redis, lang, text):
    from reflexion.redis_conn import get_redis

    app = make_app(REDIS_URL=hung_redis.url, REDIS_TIMEOUT_SECONDS=0.3)

    @app.route("/<lang>/needs-redis")
    def needs_redis():
        get_redis().ping()
        return "pong"

    hung_redis.hang()
    response, took = _timed(lambda: app.test_client().get(f"/{lang}/needs-redis"))
    assert response.status_code == 503 and took < QUICK, took
    assert text in response.get_data(as_text=True) and response.headers["Retry-After"] == "30"

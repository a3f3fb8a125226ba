"""Operator access: accounts from the command line, login, expiring sessions, CSRF, rate limits."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from reflexion import clock
from reflexion.operator.models import Operator

PASSWORD = "correct horse battery"


@pytest.fixture
def operator(db):
    from reflexion.operator.auth import create_operator

    op = create_operator("op@example.com", PASSWORD)
    db.session.commit()
    return op


def login(client, email="op@example.com", password=PASSWORD, **kwargs):
    return client.post("/operator/login", data={"email": email, "password": password}, **kwargs)


def test_operator_create_reads_the_password_from_stdin_and_hashes_it_slowly(runner, db):
    result = runner.invoke(args=["operator", "create", "--email", "Anna@Example.com"], input="a long password\n")
    assert result.exit_code == 0, result.output
    op = db.session.scalar(select(Operator))
    assert op.email == "anna@example.com"
    assert op.password_hash.startswith("scrypt:") and "a long password" not in op.password_hash
    again = runner.invoke(args=["operator", "create", "--email", "anna@example.com"], input="another password\n")
    assert again.exit_code != 0 and "exists" in again.output
    short = runner.invoke(args=["operator", "create", "--email", "b@example.com"], input="short\n")
    assert short.exit_code != 0 and "10 characters" in short.output


def test_every_operator_page_needs_a_login(client, operator, make_booking):
    booking = make_booking(clock.now() + timedelta(days=1))
    for url in ["/operator/", "/operator/bookings/new", "/operator/availability/", "/operator/messages",
                f"/operator/sessions/{booking.id}"]:
        response = client.get(url)
        assert response.status_code == 302 and "/operator/login" in response.headers["Location"], url
    response = client.post(f"/operator/sessions/{booking.id}/answered")
    assert response.status_code == 302
    assert client.post(f"/operator/bookings/{booking.id}/mark-paid").status_code == 302
    db_booking = booking
    assert db_booking.state == "awaiting_payment"


def test_a_polled_partial_without_login_sends_the_browser_to_the_login(client, operator, make_booking):
    """No login form is swapped into the countdown: htmx gets 401 with HX-Redirect."""
    booking = make_booking(clock.now() + timedelta(days=1))
    response = client.get(f"/operator/sessions/{booking.id}", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/operator/login")
    assert response.data == b""


def test_login_logout_and_return_to_the_page_asked_for(client, operator, db):
    wrong = login(client, password="wrong password")
    assert wrong.status_code == 401 and 'role="alert"' in wrong.get_data(as_text=True)
    assert login(client, email="nobody@example.com").status_code == 401
    response = client.post("/operator/login?next=/operator/messages",
                           data={"email": "OP@example.com", "password": PASSWORD})
    assert response.status_code == 303 and response.headers["Location"] == "/operator/messages"
    assert client.get("/operator/").status_code == 200
    db.session.expire_all()
    assert db.session.scalar(select(Operator)).last_login_at is not None
    assert client.post("/operator/logout").status_code == 303
    assert client.get("/operator/").status_code == 302


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/operator/", "/de/", "/operator\\@evil"])
def test_login_never_redirects_off_the_panel(client, operator, target):
    response = client.post("/operator/login", query_string={"next": target},
                           data={"email": "op@example.com", "password": PASSWORD})
    assert response.headers["Location"] == "/operator/"


def test_sessions_expire(app, client, operator, frozen_now):
    """The session cookie ends with the browser (no Expires), and the session ends on the server
    after at most 12 hours even while the panel keeps polling."""
    start = frozen_now(clock.system_utc())
    response = login(client)
    cookie = response.headers["Set-Cookie"]
    assert "Expires=" not in cookie and "Max-Age" not in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert app.permanent_session_lifetime == timedelta(hours=8)
    frozen_now(start + timedelta(hours=11, minutes=59))
    assert client.get("/operator/").status_code == 200
    frozen_now(start + timedelta(hours=12, minutes=1))
    assert client.get("/operator/").status_code == 302
    assert client.get("/operator/").status_code == 302  # logged out for good


@pytest.fixture
def csrf_on(app_config):
    app_config["WTF_CSRF_ENABLED"] = True


def test_every_form_needs_the_csrf_token(csrf_on, client, operator, make_booking):
    page = client.get("/operator/login").get_data(as_text=True)
    assert 'name="csrf_token"' in page
    assert login(client).status_code == 400  # no token
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    ok = client.post("/operator/login", data={"email": "op@example.com", "password": PASSWORD, "csrf_token": token})
    assert ok.status_code == 303
    booking = make_booking(clock.now() + timedelta(days=1))
    for url in [f"/operator/bookings/{booking.id}/mark-paid", f"/operator/sessions/{booking.id}/answered",
                f"/operator/sessions/{booking.id}/abuse", "/operator/logout", "/operator/calendar-feed",
                "/operator/calendar-feed/off", "/operator/availability/weekly"]:
        assert client.post(url).status_code == 400, url
    assert booking.state == "awaiting_payment"
    dashboard = client.get("/operator/").get_data(as_text=True)
    assert dashboard.count('name="csrf_token"') >= 3  # logout, mark paid, feed


@pytest.fixture
def limits_on(app_config):
    app_config["RATELIMIT_ENABLED"] = True


def test_login_attempts_are_rate_limited(limits_on, app, client, operator):
    from reflexion.redis_conn import get_redis

    get_redis(app).flushdb()
    codes = [login(client, password=f"wrong {i}").status_code for i in range(11)]
    assert codes[:10] == [401] * 10 and codes[10] == 429
    assert login(client).status_code == 429  # even the right password waits


def test_csrf_tokens_expire_with_the_session_lifetime(csrf_on, app, client, operator, monkeypatch):
    """A token from a page older than the session lifetime is refused (it used to live for ever)."""
    import time as real_time

    assert app.config["WTF_CSRF_TIME_LIMIT"] == app.permanent_session_lifetime.total_seconds() == 8 * 3600
    app.permanent_session_lifetime = timedelta(days=2)  # keep the session cookie itself valid
    page = client.get("/operator/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    later = real_time.time() + 8 * 3600 + 60
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: later)  # the token's signer reads time.time()
    stale = client.post("/operator/login", data={"email": "op@example.com", "password": PASSWORD, "csrf_token": token})
    assert stale.status_code == 400


def _copy_cookies(source, target):
    for cookie in source._cookies.values():
        target.set_cookie(cookie.key, cookie.value, domain=cookie.domain, path=cookie.path)


def test_logout_and_a_password_change_end_every_copy_of_the_session(app, client, operator, db):
    """A captured cookie replayed after logout (or after a password change) opens nothing."""
    from reflexion.operator.auth import forget_identities
    from reflexion.operator.models import Operator

    assert login(client).status_code == 303
    thief = app.test_client()
    _copy_cookies(client, thief)
    assert thief.get("/operator/").status_code == 200
    assert client.post("/operator/logout").status_code == 303
    assert thief.get("/operator/").status_code == 302
    assert thief.post("/operator/calendar-feed").status_code in (302, 401)

    assert login(client).status_code == 303  # a fresh login works
    _copy_cookies(client, thief)
    assert thief.get("/operator/").status_code == 200
    account = db.session.scalar(db.select(Operator))
    account.set_password("a brand new password")
    db.session.commit()
    forget_identities()  # other processes: within IDENTITY_TTL_SECONDS
    assert thief.get("/operator/").status_code == 302
    assert client.get("/operator/").status_code == 302

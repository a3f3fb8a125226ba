"""#11's "Done when" for the settings: two web processes (gunicorn) and a real worker share one
database and Redis. The operator changes the fee, the minimum notice, the brand and the session
rules in the panel on web process A; web process B's week page and booking form, the new
e-mails and invites and the worker's timers follow at once, without a restart, while bookings
made before keep the rules they were made under.

Sessions last seconds (``REFLEXION_SESSION_MINUTES=0.15`` → 9 s, then 6 s in the panel).
"""
import http.cookiejar
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, time as clock_time, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from sqlalchemy import select

from reflexion import clock
from reflexion.booking.models import Booking, Transition
from reflexion.mail.models import OutgoingEmail
from mail_helpers import free_port, message_of, parts_by_type
from process_helpers import Child, app_env, start_worker, wait_until

pytestmark = pytest.mark.worker

SESSION_MINUTES, NO_ANSWER_MINUTES = 0.15, 0.075          # 9 s and 4.5 s, from the environment
NEW_SESSION_MINUTES, NEW_NO_ANSWER_MINUTES = 0.1, 0.05    # 6 s and 3 s, set in the panel


@pytest.fixture
def app_config(app_config):
    app_config.update(SESSION_MINUTES=SESSION_MINUTES, NO_ANSWER_MINUTES=NO_ANSWER_MINUTES)
    return app_config


class Browser:
    """One visitor over HTTP: cookies kept, redirects not followed."""

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    def __init__(self, base):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), self._NoRedirect)

    def request(self, path, data=None):
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(urllib.request.Request(self.base + path, data=body), timeout=15) as response:
                return response.status, response.read().decode(), response.headers.get("Location")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(), error.headers.get("Location")

    def csrf(self, path):
        status, html, _ = self.request(path)
        assert status == 200, (path, status)
        return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def _gunicorn(app, redis_url, tmp_path, name):
    port = free_port()
    env = app_env(app, redis_url, PORT=port, HOST="127.0.0.1", WEB_WORKERS=1, WEB_THREADS=2, HOME=tmp_path,
                  REFLEXION_SESSION_MINUTES=SESSION_MINUTES, REFLEXION_NO_ANSWER_MINUTES=NO_ANSWER_MINUTES,
                  REFLEXION_RATELIMIT=0)
    child = Child([sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "wsgi:app"], env,
                  tmp_path / f"web-{name}.log")
    return child, Browser(f"http://127.0.0.1:{port}")


def _up(browser):
    try:
        return browser.request("/de/")[0] == 200
    except OSError:
        return False


def _slots(browser, monday=None):
    path = "/de/book" + (f"?week={monday.isoformat()}" if monday else "")
    status, html, _ = browser.request(path)
    assert status == 200, status
    return [datetime.fromisoformat(key.replace("Z", "+00:00")) for key in re.findall(r'data-slot="([^"]+)"', html)]


def _slots_soon(browser, now):
    """The free slots of this week and the next, as web process ``browser`` shows them."""
    monday = (now + timedelta(days=7)).date()
    return sorted(set(_slots(browser)) | set(_slots(browser, monday - timedelta(days=monday.weekday()))))


def _book_publicly(browser, start):
    path = "/de/book/" + start.strftime("%Y-%m-%dT%H:%M:%SZ")
    token = browser.csrf(path)
    status, _html, location = browser.request(path, {
        "csrf_token": token, "name": "Erika Muster", "email": "erika@example.org", "call_handle": "erika.muster@example.org",
        "accept_terms": "y", "early_start": "y"})
    assert status == 303, status
    return re.search(r"/booking/([^/]+)/created", location).group(1)


def _invite_length(app, db, booking):
    email = wait_until(lambda: db.session.scalar(select(OutgoingEmail).where(
        OutgoingEmail.booking_id == booking.id, OutgoingEmail.kind == "booking_confirmed",
        OutgoingEmail.status == "sent")), timeout=20, message="no confirmation e-mail sent")
    message = message_of(app, email.id)
    event = Calendar.from_ical(parts_by_type(message)["text/calendar"][0].get_content()).walk("VEVENT")[0]
    return event.decoded("dtend") - event.decoded("dtstart"), str(event.get("summary"))


def _wait_state(db, booking, state, timeout=20):
    def seen():
        db.session.expire_all()
        return booking.state == state
    wait_until(seen, timeout, message=f"{booking.ref} is {booking.state}, not {state}")


def test_settings_changed_in_one_web_process_reach_the_other_and_the_worker(app, db, redis_server, tmp_path):
    from reflexion.availability.models import WeeklyRule
    from reflexion.operator.auth import create_operator
    from reflexion.operator.bookings import book_by_operator

    db.session.add_all(WeeklyRule(weekday=d, start=clock_time(0, 0), end=clock_time(23, 45)) for d in range(7))
    create_operator("op@example.com", "correct horse battery")
    db.session.commit()
    db.engine.dispose()  # the file is shared with the child processes from here on

    worker = start_worker(app, redis_server.url, tmp_path / "worker.log",
                          REFLEXION_SESSION_MINUTES=SESSION_MINUTES, REFLEXION_NO_ANSWER_MINUTES=NO_ANSWER_MINUTES)
    web_a, a = _gunicorn(app, redis_server.url, tmp_path, "a")
    web_b, b = _gunicorn(app, redis_server.url, tmp_path, "b")
    try:
        wait_until(lambda: _up(a) and _up(b), timeout=40, message="web processes did not start")

        # Before: 24 h notice, 90 € — a paid session soon (operator) and a public booking a day ahead.
        now = clock.now()
        before = book_by_operator(now + timedelta(seconds=2), name="Old Rules", email="old@example.org",
                                  call_handle="old.rules@example.org", paid=True).booking
        db.session.commit()
        soon = [s for s in _slots_soon(b, now) if s < now + timedelta(hours=24)]
        assert soon == []
        far = next(s for s in _slots_soon(b, now) if s >= now + timedelta(hours=24))
        assert "90,00" in b.request("/de/book/" + far.strftime("%Y-%m-%dT%H:%M:%SZ"))[1]
        old_ref = _book_publicly(b, far)

        # The operator changes the settings on web process A.
        token = a.csrf("/operator/login")
        assert a.request("/operator/login", {"csrf_token": token, "email": "op@example.com",
                                             "password": "correct horse battery"})[0] == 303
        token = a.csrf("/operator/settings/")
        status, html, _ = a.request("/operator/settings/", {
            "csrf_token": token, "FEE_AMOUNT": "120,00", "MIN_NOTICE_HOURS": "1", "BRAND": "Praxis Nord",
            "SESSION_MINUTES": str(NEW_SESSION_MINUTES), "NO_ANSWER_MINUTES": str(NEW_NO_ANSWER_MINUTES)})
        assert status == 303, html[-2000:]

        # Web process B follows at once: earlier slots, the new fee, the new brand.
        now = clock.now()
        soon = [s for s in _slots_soon(b, now) if s < now + timedelta(hours=24)]
        assert soon and soon[0] >= now + timedelta(hours=1)
        form = b.request("/de/book/" + soon[0].strftime("%Y-%m-%dT%H:%M:%SZ"))
        assert form[0] == 200 and "120,00" in form[1] and "Praxis Nord" in form[1]
        new_ref = _book_publicly(b, soon[0])

        # A session booked now (after the first one's end) gets the new rules.
        db.session.expire_all()
        after_start = max(clock.now() + timedelta(seconds=1.5), before.end_at + timedelta(seconds=0.5))
        after = book_by_operator(after_start, name="New Rules", email="new@example.org",
                                 call_handle="new.rules@example.org", paid=True).booking
        db.session.commit()

        old = db.session.scalar(select(Booking).where(Booking.ref == old_ref))
        new = db.session.scalar(select(Booking).where(Booking.ref == new_ref))
        today = clock.now().astimezone(ZoneInfo("Europe/Berlin")).date().isoformat()
        assert (old.fee_cents, old.session_minutes, old.no_answer_minutes, old.terms_version) == (
            9000, SESSION_MINUTES, NO_ANSWER_MINUTES, "2026-12")
        assert (new.fee_cents, new.session_minutes, new.no_answer_minutes, new.terms_version) == (
            12000, NEW_SESSION_MINUTES, NEW_NO_ANSWER_MINUTES, f"{today}.1")
        assert (before.session_minutes, after.session_minutes) == (SESSION_MINUTES, NEW_SESSION_MINUTES)

        # The worker's timers: each no-show at its own booking's no-answer deadline.
        _wait_state(db, before, "no_show")
        _wait_state(db, after, "no_show")
        for booking, minutes in ((before, NO_ANSWER_MINUTES), (after, NEW_NO_ANSWER_MINUTES)):
            move = db.session.scalar(select(Transition).where(Transition.booking_id == booking.id,
                                                              Transition.to_state == "no_show"))
            assert (move.actor, move.at) == ("worker", booking.start_at + timedelta(minutes=minutes))

        # New e-mails carry the new fee and brand; each invite the length its booking was made with.
        def received(booking):
            email = wait_until(lambda: db.session.scalar(select(OutgoingEmail).where(
                OutgoingEmail.booking_id == booking.id, OutgoingEmail.kind == "booking_received",
                OutgoingEmail.status == "sent")), timeout=20, message="no booking e-mail sent")
            return parts_by_type(message_of(app, email.id))["text/plain"][0].get_content()

        assert "90,00" in received(old)
        text = received(new)
        assert "120,00" in text and "Praxis Nord" in text
        assert _invite_length(app, db, before)[0] == timedelta(minutes=SESSION_MINUTES)
        length, summary = _invite_length(app, db, after)
        assert length == timedelta(minutes=NEW_SESSION_MINUTES) and "Praxis Nord" in summary
    finally:
        for child in (web_a, web_b, worker):
            child.stop()
    for name in ("web-a.log", "web-b.log", "worker.log"):
        log = (tmp_path / name).read_text(errors="replace")
        assert "Traceback" not in log, log[-3000:]

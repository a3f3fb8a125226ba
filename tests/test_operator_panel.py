"""The operator's dashboard, session panel (page, polled partial, actions) and operator bookings."""
import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import event, select

from reflexion.booking import codes
from reflexion.booking.models import Booking, Transition
from reflexion.booking.notes import entry_text_en
from reflexion.db import OneRowQuery
from reflexion.jobs.reconcile import reconcile
from frozen import NOW  # Mon 09:00 MEZ


START = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)    # Mon 10:00 MEZ


@pytest.fixture
def client_in(client, db):
    """A test client logged in as an operator."""
    from reflexion.operator.auth import create_operator

    create_operator("op@example.com", "correct horse battery")
    db.session.commit()
    # These tests move the clock by days; session expiry has its own test.
    client.application.config["OPERATOR_SESSION_MAX_HOURS"] = 24 * 365
    response = client.post("/operator/login", data={"email": "op@example.com", "password": "correct horse battery"})
    assert response.status_code == 303
    return client


def _live(client, booking, seen=None):
    return client.get(f"/operator/sessions/{booking.id}", query_string={"seen": seen or booking.state},
                      headers={"HX-Request": "true"})


def _text(response):
    return response.get_data(as_text=True)


def _countdown(html, key):
    match = re.search(rf'data-countdown="{key}" data-status="(\w+)".*?</dd>', html, re.S)
    return match.group(1), re.sub(r"<[^>]+>", "", match.group(0).split("<dd>")[1]).strip()


# -- dashboard ---------------------------------------------------------------------------

def test_dashboard_shows_the_coming_days_with_everything_needed_to_call(client_in, db, frozen_now, make_booking):
    frozen_now(NOW)
    paid = make_booking(START, state="confirmed", name="Erika Muster", call_handle="erika.muster@example.org")
    unpaid = make_booking(START + timedelta(days=1), name="Per Svensson", call_handle="per@example.se", lang="sv")
    make_booking(START + timedelta(days=9), state="confirmed", name="Far Future")
    html = _text(client_in.get("/operator/"))
    for needle in ["Erika Muster", "Per Svensson", 'data-copy="erika.muster@example.org"', 'data-copy="per@example.se"',
                   "10:00\u00a0MEZ", "Svenska", 'data-paid="yes"', 'data-paid="no"',
                   f'data-booking="{paid.ref}" data-state="confirmed"', 'data-state-badge="awaiting_payment"',
                   f'action="/operator/bookings/{unpaid.id}/mark-paid"', 'src="/static/js/operator.js"']:
        assert needle in html, needle
    assert "Far Future" not in html.split('id="timeline-title"')[1].split('id="unpaid"')[0]
    assert 'id="clock-status"' in html  # the clock engineer's widget
    assert html.count('class="tl-day') == 7


def test_dashboard_lists_contact_messages_and_marks_them_read(client_in, db, frozen_now):
    from reflexion.pages.operations import receive_message

    frozen_now(NOW)
    message = receive_message(name="Lena", email="lena@example.org", call_handle="lena.l@example.org",
                              message="Geht auch Donnerstag?", lang="de")
    db.session.commit()
    html = _text(client_in.get("/operator/"))
    assert "Lena" in html and "Geht auch Donnerstag?" in html and 'class="unread"' in html
    assert client_in.post(f"/operator/messages/{message.id}/read").status_code == 303
    db.session.expire_all()
    assert message.read_at == NOW


def test_mark_paid_confirms_through_confirm_payment(client_in, db, frozen_now, make_booking, monkeypatch):
    from reflexion.booking import payments

    frozen_now(NOW)
    booking = make_booking(START + timedelta(days=1))
    calls = []
    real = payments.confirm_payment
    monkeypatch.setattr(payments, "confirm_payment", lambda b, **kw: calls.append(kw) or real(b, **kw))
    import reflexion.operator.views as views
    monkeypatch.setattr(views, "confirm_payment", payments.confirm_payment)
    response = client_in.post(f"/operator/bookings/{booking.id}/mark-paid", data={"method": "cash"})
    assert response.status_code == 303
    db.session.expire_all()
    assert booking.state == "confirmed" and calls == [{"actor": "operator", "method": "cash"}]
    assert booking.payments[0].method == "cash"
    again = client_in.post(f"/operator/bookings/{booking.id}/mark-paid", data={"method": "cash"})
    assert again.status_code == 303 and len(booking.payments) == 1


def test_calendar_feed_link_and_regeneration(client_in, db):
    from reflexion.calendar import feed

    assert 'data-feed-url' not in _text(client_in.get("/operator/"))
    client_in.post("/operator/calendar-feed")
    first = feed.active_token()
    html = _text(client_in.get("/operator/"))
    assert f"webcal://localhost/calendar/{first}.ics" in html or f"/calendar/{first}.ics" in html
    client_in.post("/operator/calendar-feed")
    assert feed.active_token() != first


def test_the_calendar_feed_can_be_switched_off(client_in, db):
    """The operator can switch the feed off from the dashboard: no address works until a new one."""
    from reflexion.calendar import feed

    client_in.post("/operator/calendar-feed")
    token = feed.active_token()
    assert client_in.get(f"/calendar/{token}.ics").status_code == 200
    assert "Adresse abschalten" in _text(client_in.get("/operator/"))
    response = client_in.post("/operator/calendar-feed/off")
    assert response.status_code == 303 and response.headers["Location"].endswith("/operator/#calendar-feed")
    assert feed.active_token() is None
    assert client_in.get(f"/calendar/{token}.ics").status_code == 404
    html = _text(client_in.get("/operator/"))
    assert "Die Kalenderadresse ist abgeschaltet" in html and "Es ist keine Kalenderadresse aktiv." in html
    assert "data-feed-url" not in html and "Adresse abschalten" not in html
    client_in.post("/operator/calendar-feed")  # a new address works again
    assert feed.active_token() not in (None, token)
    assert client_in.get(f"/calendar/{feed.active_token()}.ics").status_code == 200


# -- session panel --------------------------------------------------------------------

def test_session_page_shows_handle_payment_start_and_never_the_confirmation_data(client_in, frozen_now, make_booking):
    frozen_now(NOW)
    booking = make_booking(START, state="confirmed", call_handle="erika.muster@example.org")
    html = _text(client_in.get(f"/operator/sessions/{booking.id}"))
    code = codes.confirmation_code_for(booking)
    assert code not in html and code.replace(" ", "") not in html
    assert 'data-copy="erika.muster@example.org"' in html and 'data-paid="yes"' in html
    assert "Montag, 23. November 2026, 10:00\u00a0MEZ" in html  # time and zone on one line
    # The page includes the self-contained polling partial.
    assert re.search(r'id="session-live"[^>]*hx-get="/operator/sessions/\d+\?seen=confirmed" hx-trigger="every 1s" '
                     r'hx-swap="outerHTML"', html)
    assert "<script>" not in html and 'style="' not in html and "hx-on" not in html


def test_the_partial_counts_down_from_the_checked_clock(client_in, frozen_now, make_booking):
    frozen_now(START - timedelta(minutes=2, seconds=5))
    booking = make_booking(START, state="confirmed")
    response = _live(client_in, booking)
    html = _text(response)
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    assert html.lstrip().startswith('<section id="session-live"') and "<html" not in html
    assert _countdown(html, "start") == ("ahead", "in 2 Min. 05 Sek.")
    assert _countdown(html, "no-answer") == ("ahead", "in 17 Min. 05 Sek.")
    assert _countdown(html, "end") == ("ahead", "in 47 Min. 05 Sek.")  # minutes and seconds, never read as h:mm
    frozen_now(START - timedelta(minutes=2, seconds=4))
    assert _countdown(_text(_live(client_in, booking)), "start") == ("ahead", "in 2 Min. 04 Sek.")


def test_the_partial_shows_a_passed_no_answer_deadline_and_stops_polling(client_in, db, frozen_now, make_booking):
    """At start + 15 min unanswered: the no-show badge, the outcome, HTTP 286 and no trigger.

    The poll is read-only: it shows what the clock decided; the sweep (or the timer job) records
    it, at the deadline, by the worker."""
    frozen_now(START + timedelta(minutes=3))
    booking = make_booking(START, state="due")
    assert _countdown(_text(_live(client_in, booking)), "no-answer") == ("ahead", "in 12 Min. 00 Sek.")
    frozen_now(START + timedelta(minutes=15, seconds=1))
    response = _live(client_in, booking, seen="due")
    html = _text(response)
    assert response.status_code == 286
    assert 'data-state-badge="no_show"' in html and 'data-outcome="no_show"' in html
    assert "hx-trigger" not in html.split("</section>")[0]
    # The state changed since the browser last saw it: actions and history come out-of-band.
    assert 'id="session-actions" class="card session-actions" hx-swap-oob="true"' in html
    assert 'data-transition="due-no_show"' in html
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).state == "due"  # the GET wrote nothing
    assert reconcile() == 1
    db.session.commit()
    db.session.expire_all()
    entry = db.session.scalars(select(Transition).where(Transition.booking_id == booking.id)).all()[-1]
    assert (entry.to_state, entry.actor, entry.at) == ("no_show", "worker", START + timedelta(minutes=15))
    assert _live(client_in, booking, seen="no_show").status_code == 286


def test_an_unchanged_state_sends_only_the_partial(client_in, frozen_now, make_booking):
    frozen_now(START + timedelta(minutes=3))
    booking = make_booking(START, state="due")
    html = _text(_live(client_in, booking, seen="due"))
    assert "hx-swap-oob" not in html


def test_a_session_that_ran_out_says_what_happened_and_when(client_in, frozen_now, make_booking):
    frozen_now(START + timedelta(minutes=10))
    booking = make_booking(START, state="in_progress")
    frozen_now(START + timedelta(hours=2))
    html = _text(client_in.get(f"/operator/sessions/{booking.id}"))
    assert 'data-outcome="completed"' in html and "10:45:00 MEZ" in html
    assert 'hx-trigger' not in html


def test_the_partial_costs_at_most_two_primary_key_queries(app, client_in, db, frozen_now, make_booking,
                                                           monkeypatch):
    """The operator (login) and the booking, both by primary key: no N+1, nothing else.

    The booking is read straight on the driver (reflexion.db.OneRowQuery), below the engine's
    events: those reads are counted where they are made."""
    frozen_now(START - timedelta(minutes=5))
    booking = make_booking(START, state="confirmed")
    _live(client_in, booking)
    db.session.remove()  # the test shares the request's session: start from an empty identity map
    statements = []
    listener = lambda conn, cursor, statement, *args: statements.append(statement)  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    one_row = OneRowQuery.first

    def counted(query, engine, **params):
        statements.append(str(query.statement.compile(dialect=engine.dialect)))
        return one_row(query, engine, **params)

    monkeypatch.setattr(OneRowQuery, "first", counted)
    try:
        assert _live(client_in, booking).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    # (In the test the operator may still be cached on ``g``; in production it is one more PK query.)
    assert 1 <= len(statements) <= 2, statements
    assert any("FROM booking" in s for s in statements), statements
    primary_key = re.compile(r"WHERE (operator|booking)\.id = (\?|%\(\w+\)s)")  # SQLite or psycopg style
    assert all(primary_key.search(s) for s in statements), statements


# -- actions over HTTP ------------------------------------------------------------------

def test_a_whole_call_through_the_panel(client_in, db, frozen_now, make_booking):
    """answered → two wrong tries → right data → end; each step one audit line by the operator."""
    frozen_now(START + timedelta(minutes=2))
    booking = make_booking(START, state="due")
    base = f"/operator/sessions/{booking.id}"
    assert client_in.post(base + "/answered").status_code == 303
    page = _text(client_in.get(base))
    assert 'name="confirmation"' in page and 'autocomplete="off"' in page
    wrong = client_in.post(base + "/verify", data={"confirmation": "0000 0001"})
    assert wrong.status_code == 422 and "0000 0001" not in _text(wrong)
    code = codes.confirmation_code_for(booking)
    ok = client_in.post(base + "/verify", data={"confirmation": code})
    assert ok.status_code == 303
    frozen_now(START + timedelta(minutes=40))
    assert client_in.post(base + "/end", data={"note": "all good"}).status_code == 303
    db.session.expire_all()
    rows = [(t.from_state, t.to_state, t.actor, entry_text_en(t)) for t in booking.transitions[1:]]
    assert rows == [("due", "answered", "operator", "client answered the call"),
                    ("answered", "in_progress", "operator", "confirmation data verified"),
                    ("in_progress", "completed", "operator", "ended by the operator: all good")]
    assert booking.transitions[-1].note == "all good"  # what the operator typed, kept as typed
    assert booking.verify_failures == 1


def test_five_wrong_tries_lock_verification_in_the_panel(client_in, db, frozen_now, make_booking):
    frozen_now(START + timedelta(minutes=2))
    booking = make_booking(START, state="answered")
    base = f"/operator/sessions/{booking.id}"
    wrong = "0000 0000" if codes.confirmation_code_for(booking) != "0000 0000" else "1111 1111"
    statuses = [client_in.post(base + "/verify", data={"confirmation": wrong}).status_code for _ in range(5)]
    assert statuses == [422, 422, 422, 422, 423]
    page = _text(client_in.get(base))
    assert "data-verify-locked" in page and 'name="confirmation"' not in page
    right = client_in.post(base + "/verify", data={"confirmation": codes.confirmation_code_for(booking)})
    assert right.status_code == 423
    assert client_in.post(base + "/identity-not-confirmed").status_code == 303
    db.session.expire_all()
    assert booking.state == "aborted_identity"


def test_abuse_ends_the_call_with_the_operators_note(client_in, db, frozen_now, make_booking):
    frozen_now(START + timedelta(minutes=20))
    booking = make_booking(START, state="in_progress")
    response = client_in.post(f"/operator/sessions/{booking.id}/abuse", data={"note": "threats"})
    assert response.status_code == 303
    db.session.expire_all()
    assert booking.state == "aborted_abuse"
    assert entry_text_en(booking.transitions[-1]) == "abuse; remaining time consumed: threats"


def test_an_action_the_state_does_not_allow_is_refused_with_409(client_in, db, frozen_now, make_booking):
    frozen_now(START + timedelta(minutes=16))
    booking = make_booking(START, state="due")
    response = client_in.post(f"/operator/sessions/{booking.id}/answered")
    assert response.status_code == 409 and "data-error" in _text(response)
    db.session.expire_all()
    assert booking.state == "no_show"  # what the clock decided stands, recorded at the deadline
    assert client_in.post(f"/operator/sessions/{booking.id}/end").status_code == 409
    assert client_in.get("/operator/sessions/999999").status_code == 404


def test_cancel_from_the_session_page(client_in, db, frozen_now, make_booking):
    frozen_now(NOW)
    booking = make_booking(START + timedelta(days=2), state="confirmed")
    response = client_in.post(f"/operator/bookings/{booking.id}/cancel", data={"note": "client asked", "back": "session"})
    assert response.status_code == 303 and response.headers["Location"] == f"/operator/sessions/{booking.id}"
    db.session.expire_all()
    assert booking.state == "cancelled" and booking.transitions[-1].note == "client asked"


# -- bookings made by the operator ---------------------------------------------------------

def _book(client, **overrides):
    data = {"day": "2026-11-29", "start_time": "21:30", "name": "Per Svensson", "email": "per@example.se",
            "call_handle": "per.svensson@example.se", "lang": "sv"}
    data.update(overrides)
    return client.post("/operator/bookings/new", data=data)


def test_the_operator_books_any_free_instant_outside_the_opening_hours(client_in, db, frozen_now, weekly_hours):
    """Sunday 21:30 is outside the opening hours and in less than the public notice: still bookable."""
    frozen_now(datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc))
    response = _book(client_in, paid="y", method="cash")
    assert response.status_code == 303
    booking = db.session.scalar(select(Booking))
    assert booking.start_at == datetime(2026, 11, 29, 20, 30, tzinfo=timezone.utc)
    assert (booking.state, booking.created_by, booking.lang) == ("confirmed", "operator", "sv")
    page = _text(client_in.get(response.headers["Location"]))
    assert f'data-booking-ref>{booking.ref}<' in page and "data-access-key>" in page
    assert "data-access-key>" not in _text(client_in.get(response.headers["Location"]))  # shown once


def test_operator_bookings_may_not_overlap(client_in, db, frozen_now):
    frozen_now(datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc))
    assert _book(client_in).status_code == 303
    clash = _book(client_in, start_time="22:00", name="Other Person")
    assert clash.status_code == 409 and 'role="alert"' in _text(clash)
    assert db.session.scalar(select(Booking).where(Booking.name == "Other Person")) is None


@pytest.mark.parametrize("overrides, status", [
    ({"start_time": "02:30", "day": "2027-03-28"}, 400),   # does not exist (clocks go forward)
    ({"day": "2026-11-01"}, 400),                          # past
    ({"email": "not-an-address"}, 400),
    ({"call_handle": "two words"}, 400),
    ({"day": "soon"}, 400),
])
def test_bad_operator_bookings_are_refused(client_in, db, frozen_now, overrides, status):
    frozen_now(datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc))
    response = _book(client_in, **overrides)
    assert response.status_code == status
    assert db.session.scalar(select(Booking)) is None


# -- opening hours editor ------------------------------------------------------------------

def test_the_opening_hours_editor_adds_and_removes_rules_and_exceptions(client_in, db, frozen_now):
    from reflexion.availability.models import AvailabilityException, WeeklyRule

    frozen_now(NOW)
    assert client_in.post("/operator/availability/weekly",
                          data={"weekday": "2", "start": "09:00", "end": "12:00"}).status_code == 303
    overlap = client_in.post("/operator/availability/weekly", data={"weekday": "2", "start": "11:00", "end": "13:00"})
    assert overlap.status_code == 409
    backwards = client_in.post("/operator/availability/weekly", data={"weekday": "3", "start": "12:00", "end": "09:00"})
    assert backwards.status_code == 400
    rule = db.session.scalar(select(WeeklyRule))
    assert (rule.weekday, rule.start.hour, rule.end.hour) == (2, 9, 12)
    assert client_in.post("/operator/availability/exceptions",
                          data={"day": "2026-12-24", "closed": "y", "note": "Heiligabend"}).status_code == 303
    no_times = client_in.post("/operator/availability/exceptions", data={"day": "2026-12-27"})
    assert no_times.status_code == 400
    assert client_in.post("/operator/availability/exceptions",
                          data={"day": "2026-12-27", "start": "10:00", "end": "12:00"}).status_code == 303
    page = _text(client_in.get("/operator/availability/"))
    assert "Heiligabend" in page and "10:00–12:00" in page
    exc = db.session.scalars(select(AvailabilityException).order_by(AvailabilityException.day)).all()
    assert [(e.closed, e.start) for e in exc][0] == (True, None) and exc[1].closed is False
    assert client_in.post(f"/operator/availability/weekly/{rule.id}/delete").status_code == 303
    assert client_in.post(f"/operator/availability/exceptions/{exc[0].id}/delete").status_code == 303
    assert db.session.scalar(select(WeeklyRule)) is None
    assert len(db.session.scalars(select(AvailabilityException)).all()) == 1


@pytest.mark.parametrize("typo", ["1234", "1234 56789", "1234 567a", "12345678 9"])
def test_a_typo_that_is_not_eight_digits_costs_no_try(client_in, db, frozen_now, make_booking, typo):
    """Issue 14 point 12: "1234" gets "eight digits, please" and leaves every try."""
    frozen_now(START + timedelta(minutes=2))
    booking = make_booking(START, state="answered")
    response = client_in.post(f"/operator/sessions/{booking.id}/verify", data={"confirmation": typo})
    assert response.status_code == 400
    assert "Acht Ziffern, bitte" in _text(response)
    db.session.expire_all()
    assert booking.verify_failures == 0 and booking.state == "answered"


def test_deadlines_escalate_in_their_last_two_minutes(client_in, frozen_now, make_booking):
    """Point 14: the no-answer deadline is marked urgent from two minutes before, not earlier."""
    frozen_now(START + timedelta(minutes=12, seconds=59))
    booking = make_booking(START, state="due")
    html = _text(_live(client_in, booking))
    assert 'data-countdown="no-answer" data-status="ahead" data-urgent="yes"' not in html
    frozen_now(START + timedelta(minutes=13, seconds=1))
    html = _text(_live(client_in, booking))
    assert 'data-countdown="no-answer" data-status="ahead" data-urgent="yes"' in html
    assert _countdown(html, "no-answer") == ("ahead", "in 1 Min. 59 Sek.")
    assert 'data-countdown="end" data-status="ahead">' in html  # the end is still far


def test_the_german_history_shows_no_english_note(client_in, db, frozen_now, make_booking):
    """Audit notes are codes rendered in the reader's language: the operator's (German) history
    shows the ending and the typed note, and none of the English sentences."""
    frozen_now(START + timedelta(minutes=2))
    booking = make_booking(START, state="answered")
    base = f"/operator/sessions/{booking.id}"
    assert client_in.post(base + "/identity-not-confirmed", data={"note": "Name falsch"}).status_code == 303
    db.session.expire_all()
    entry = booking.transitions[-1]
    assert (entry.note_code, entry.note) == ("identity_not_confirmed", "Name falsch")
    history = _text(client_in.get(base)).split('id="session-history"')[1]
    assert "Identität nicht bestätigt: Name falsch" in history
    for english in ("identity not confirmed", "ended by the operator", "client answered the call"):
        assert english not in history

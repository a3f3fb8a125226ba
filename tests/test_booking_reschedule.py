"""The client reschedules or cancels on their booking page (issue #12), in German and Swedish."""
import re
from datetime import datetime, timedelta, timezone

import flask_babel
import pytest

from mail_helpers import translated
from reflexion.booking.changes import move_booking
from reflexion.booking.models import Booking
from reflexion.booking.payments import confirm_payment
from reflexion.booking.states import Actor
from reflexion.i18n import format_instant, format_money

UTC = timezone.utc
MONDAY_MORNING = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)   # Mon 09:00 MEZ
WEDNESDAY_TEN = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)    # Wed 10:00 MEZ (a grid slot)
THURSDAY_NINE = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)    # Thu 09:00 MEZ (a grid slot)
THURSDAY_KEY = "2026-11-26T08:00:00Z"
KEY = "abcd-efgh-jkmn"


def _open(client, booking, lang="de"):
    response = client.post(f"/{lang}/booking/{booking.ref}", data={"access_key": KEY})
    assert response.status_code == 303


def _paid(make_booking, db, start, **kw):
    booking = make_booking(start, **kw)
    confirm_payment(booking)
    db.session.commit()
    return booking


def _now_of(db, booking):
    db.session.expire_all()
    b = db.session.get(Booking, booking.id)
    return b.start_at, b.reschedule_count, b.ical_sequence, b.state


def _t(app, lang, msgid, **kw):
    return translated(app, lang, msgid, **kw)


@pytest.mark.parametrize("lang", ["de", "sv"])
def test_client_reschedules_before_the_cutoff_on_the_week_grid(app, client, db, frozen_now, weekly_hours,
                                                            make_booking, lang):
    frozen_now(MONDAY_MORNING)
    booking = _paid(make_booking, db, WEDNESDAY_TEN, lang=lang)
    _open(client, booking, lang)
    page = client.get(f"/{lang}/booking/{booking.ref}").get_data(as_text=True)
    assert "data-reschedule-link" in page
    grid = client.get(f"/{lang}/booking/{booking.ref}/reschedule")
    assert grid.status_code == 200
    html = grid.get_data(as_text=True)
    assert f'href="/{lang}/booking/{booking.ref}/reschedule/{THURSDAY_KEY}"' in html
    assert 'data-slot="2026-11-25T09:00:00Z"' not in html  # its own time is not offered again
    confirm = client.get(f"/{lang}/booking/{booking.ref}/reschedule/{THURSDAY_KEY}")
    assert confirm.status_code == 200
    body = confirm.get_data(as_text=True)
    assert 'name="expected_start" type="hidden" value="2026-11-25T09:00:00Z"' in body
    assert f"<del data-old-start>{format_instant(WEDNESDAY_TEN, 'full', lang)}" in body.replace("\xa0", " ")
    done = client.post(f"/{lang}/booking/{booking.ref}/reschedule/{THURSDAY_KEY}",
                       data={"expected_start": "2026-11-25T09:00:00Z"})
    assert done.status_code == 303
    start, count, seq, state = _now_of(db, booking)
    assert (start, count, state) == (THURSDAY_NINE, 1, "confirmed")
    shown = client.get(f"/{lang}/booking/{booking.ref}").get_data(as_text=True)
    assert "data-moved" in shown
    assert f'data-local-time="{THURSDAY_NINE.isoformat()}"' in shown
    assert booking.transitions[-1].actor == "client"


@pytest.mark.parametrize("lang", ["de", "sv"])
def test_after_the_cutoff_the_page_says_why_not_and_nothing_changes(app, client, db, frozen_now, weekly_hours,
                                                                  make_booking, lang):
    frozen_now(WEDNESDAY_TEN - timedelta(hours=20))  # cut-off (24 h) passed
    booking = _paid(make_booking, db, WEDNESDAY_TEN, lang=lang)
    _open(client, booking, lang)
    page = client.get(f"/{lang}/booking/{booking.ref}").get_data(as_text=True)
    assert 'data-change-refusal="cutoff"' in page and "data-reschedule-link" not in page
    assert app.config["CONTACT_EMAIL"] in page
    before = _now_of(db, booking)
    slot = "2026-11-26T14:00:00Z"  # Thu 15:00 MEZ
    for response in (client.get(f"/{lang}/booking/{booking.ref}/reschedule"),
                     client.post(f"/{lang}/booking/{booking.ref}/reschedule/{slot}",
                                 data={"expected_start": "2026-11-25T09:00:00Z"})):
        assert response.status_code == 409
        text = response.get_data(as_text=True).replace("\xa0", " ")
        assert 'data-change-refusal="cutoff"' in text
        assert _t(app, lang, "The time can no longer be changed here") in text
    assert _now_of(db, booking) == before


def test_past_the_limit_the_client_cannot_move_again(app, client, db, frozen_now, weekly_hours, make_booking):
    app.config["MAX_RESCHEDULES"] = 1
    frozen_now(MONDAY_MORNING)
    booking = _paid(make_booking, db, WEDNESDAY_TEN)
    _open(client, booking)
    assert client.post(f"/de/booking/{booking.ref}/reschedule/{THURSDAY_KEY}",
                       data={"expected_start": "2026-11-25T09:00:00Z"}).status_code == 303
    before = _now_of(db, booking)
    response = client.post(f"/de/booking/{booking.ref}/reschedule/2026-11-26T09:00:00Z",
                           data={"expected_start": THURSDAY_KEY})
    assert response.status_code == 409
    assert 'data-change-refusal="limit"' in response.get_data(as_text=True)
    assert _now_of(db, booking) == before
    page = client.get(f"/de/booking/{booking.ref}").get_data(as_text=True)
    assert 'data-change-refusal="limit"' in page


def test_two_clients_race_for_one_slot_the_loser_keeps_their_time(app, db, frozen_now, weekly_hours, make_booking):
    frozen_now(MONDAY_MORNING)
    first = _paid(make_booking, db, WEDNESDAY_TEN)
    second = _paid(make_booking, db, WEDNESDAY_TEN + timedelta(hours=1), email="b@example.org", lang="sv")
    a, b = app.test_client(), app.test_client()
    _open(a, first)
    _open(b, second, "sv")
    assert a.get(f"/de/booking/{first.ref}/reschedule/{THURSDAY_KEY}").status_code == 200
    assert b.get(f"/sv/booking/{second.ref}/reschedule/{THURSDAY_KEY}").status_code == 200
    assert a.post(f"/de/booking/{first.ref}/reschedule/{THURSDAY_KEY}",
                  data={"expected_start": "2026-11-25T09:00:00Z"}).status_code == 303
    # The test app context outlives requests; Flask-Babel caches the locale on it.
    flask_babel.refresh()
    lost = b.post(f"/sv/booking/{second.ref}/reschedule/{THURSDAY_KEY}",
                  data={"expected_start": "2026-11-25T10:00:00Z"})
    assert lost.status_code == 409
    html = lost.get_data(as_text=True)
    assert _t(app, "sv", "This time is unfortunately already taken") in html
    assert f'data-kept-start="{(WEDNESDAY_TEN + timedelta(hours=1)).isoformat()}"' in html
    assert re.search(rf'href="/sv/booking/{second.ref}/reschedule/2026-11-2\dT\d\d:00:00Z"', html)  # other times
    assert _now_of(db, first)[0] == THURSDAY_NINE
    assert _now_of(db, second)[:2] == (WEDNESDAY_TEN + timedelta(hours=1), 0)


def test_a_stale_form_is_refused_with_a_message(app, client, db, frozen_now, weekly_hours, make_booking):
    """The operator moved the booking while the client's confirmation page was open."""
    frozen_now(MONDAY_MORNING)
    booking = _paid(make_booking, db, WEDNESDAY_TEN)
    _open(client, booking)
    assert client.get(f"/de/booking/{booking.ref}/reschedule/{THURSDAY_KEY}").status_code == 200
    operator_time = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    move_booking(booking, operator_time, actor=Actor.OPERATOR)
    db.session.commit()
    response = client.post(f"/de/booking/{booking.ref}/reschedule/{THURSDAY_KEY}",
                           data={"expected_start": "2026-11-25T09:00:00Z"})
    assert response.status_code == 409
    assert _t(app, "de", "Your booking was changed in the meantime, so it was not moved. "
                         "Please check the time shown here and choose again.") in response.get_data(as_text=True)
    assert _now_of(db, booking)[:2] == (operator_time, 0)
    # A cancel from a page showing the old time is refused the same way.
    response = client.post(f"/de/booking/{booking.ref}/cancel", data={"expected_start": "2026-11-25T09:00:00Z"})
    assert response.status_code == 409 and _now_of(db, booking)[3] == "confirmed"


@pytest.mark.parametrize("slot, status, marker", [
    ("2026-11-22T09:00:00Z", 410, 'data-unavailable="past"'),
    ("2026-11-23T13:00:00Z", 410, 'data-unavailable="too_soon"'),
    ("2027-02-01T08:00:00Z", 404, 'data-unavailable="too_far"'),
    ("2026-11-29T09:00:00Z", 410, 'data-unavailable="closed"'),     # a Sunday
    ("2026-11-26T08:30:00Z", 410, 'data-unavailable="off_grid"'),
    ("2026-11-27T09:00:00Z", 409, 'data-unavailable="taken"'),      # another client's booking
])
@pytest.mark.parametrize("lang", ["de", "sv"])
def test_unofferable_new_times_are_localized_4xx_and_change_nothing(app, client, db, frozen_now, weekly_hours,
                                                                   make_booking, slot, status, marker, lang):
    frozen_now(MONDAY_MORNING)
    booking = _paid(make_booking, db, WEDNESDAY_TEN, lang=lang)
    make_booking(datetime(2026, 11, 27, 9, 0, tzinfo=UTC), email="other@example.org")
    _open(client, booking, lang)
    before = _now_of(db, booking)
    response = client.post(f"/{lang}/booking/{booking.ref}/reschedule/{slot}",
                           data={"expected_start": "2026-11-25T09:00:00Z"})
    assert response.status_code == status
    html = response.get_data(as_text=True)
    assert marker in html and f'data-kept-start="{WEDNESDAY_TEN.isoformat()}"' in html
    assert f'<html lang="{lang}"' in html
    assert _now_of(db, booking) == before


def test_without_the_access_key_nothing_can_be_moved(app, client, db, frozen_now, weekly_hours, make_booking):
    frozen_now(MONDAY_MORNING)
    booking = _paid(make_booking, db, WEDNESDAY_TEN)
    before = _now_of(db, booking)
    assert client.get(f"/de/booking/{booking.ref}/reschedule").status_code == 403
    assert client.post(f"/de/booking/{booking.ref}/reschedule/{THURSDAY_KEY}",
                       data={"expected_start": "2026-11-25T09:00:00Z"}).status_code == 403
    wrong = client.post(f"/de/booking/{booking.ref}", data={"access_key": "wxyz-wxyz-wxyz"})
    assert wrong.status_code == 403
    assert _t(app, "de", "This reference and access key do not match a booking.") in wrong.get_data(as_text=True)
    assert client.post(f"/de/booking/{booking.ref}/reschedule/{THURSDAY_KEY}",
                       data={"expected_start": "2026-11-25T09:00:00Z"}).status_code == 403
    assert _now_of(db, booking) == before


@pytest.mark.parametrize("lang", ["de", "sv"])
@pytest.mark.parametrize("hours_before, percent", [(30, 100), (5, 0)])
def test_client_cancels_a_paid_booking_and_the_page_states_the_fee(app, client, db, frozen_now, make_booking,
                                                                 lang, hours_before, percent):
    frozen_now(WEDNESDAY_TEN - timedelta(hours=hours_before))
    booking = _paid(make_booking, db, WEDNESDAY_TEN, lang=lang)
    _open(client, booking, lang)
    page = client.get(f"/{lang}/booking/{booking.ref}").get_data(as_text=True)
    assert f'data-refund-if-cancelled="{9000 * percent // 100}"' in page
    response = client.post(f"/{lang}/booking/{booking.ref}/cancel", data={"expected_start": "2026-11-25T09:00:00Z"})
    assert response.status_code == 303
    db.session.expire_all()
    booking = db.session.get(Booking, booking.id)
    assert booking.state == "cancelled" and booking.refund_cents == 9000 * percent // 100
    shown = client.get(f"/{lang}/booking/{booking.ref}").get_data(as_text=True)
    if percent:
        assert booking.refund_state == "due"
        assert _t(app, lang, "You get %(amount)s of the fee you paid back; we transfer it to you shortly.",
                  amount=format_money(9000, "EUR", lang)) in shown
    else:
        assert booking.refund_state is None
        assert _t(app, lang, "The fee you paid is not refunded (cancelled after the cut-off, as the terms say).") in shown


def test_concurrent_reschedules_to_one_slot_move_exactly_one_booking(app, db, frozen_now, weekly_hours,
                                                                    make_booking, live_server):
    """Six clients, each in their own browser session, move to one slot at once over loopback."""
    import http.cookiejar
    import urllib.error
    import urllib.parse
    import urllib.request
    from concurrent.futures import ThreadPoolExecutor

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    frozen_now(MONDAY_MORNING)
    starts = [datetime(2026, 11, 27, 8, 0, tzinfo=UTC) + timedelta(hours=h) for h in (0, 1, 2)] + \
             [datetime(2026, 11, 25, 8, 0, tzinfo=UTC) + timedelta(hours=h) for h in (0, 1, 2)]
    bookings = [_paid(make_booking, db, s, email=f"c{i}@example.org") for i, s in enumerate(starts)]
    openers = []
    for booking in bookings:
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
                                             NoRedirect)
        try:
            opener.open(urllib.request.Request(f"{live_server}/de/booking/{booking.ref}",
                                               data=urllib.parse.urlencode({"access_key": KEY}).encode()))
        except urllib.error.HTTPError as error:
            assert error.code == 303
        openers.append(opener)

    def move(i):
        booking = bookings[i]
        data = urllib.parse.urlencode({"expected_start": booking.start_at.strftime("%Y-%m-%dT%H:%M:%SZ")}).encode()
        request = urllib.request.Request(f"{live_server}/de/booking/{booking.ref}/reschedule/{THURSDAY_KEY}",
                                         data=data)
        try:
            with openers[i].open(request, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(move, range(6)))
    statuses = sorted(status for status, _ in results)
    assert statuses == [303] + [409] * 5, statuses
    markers = [re.findall(r"data-(?:unavailable|change-refusal)=\"\w+\"", body)
               for status, body in results if status == 409]
    assert all(m == ['data-unavailable="taken"'] for m in markers), markers
    db.session.expire_all()
    now = [db.session.get(Booking, b.id).start_at for b in bookings]
    assert now.count(THURSDAY_NINE) == 1
    assert sorted(s for s in now if s != THURSDAY_NINE) == sorted(s for s, n in zip(starts, now) if n != THURSDAY_NINE)

"""The public booking flow: week grid, form, booking data, booking page."""
import re
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from reflexion.booking.models import Booking, Transition

MONDAY_MORNING = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)  # 09:00 MEZ


def _slots(html):
    return re.findall(r'data-slot="([^"]+)" href="([^"]+)"', html)


def _book(client, href, **overrides):
    data = {"name": "Erika Muster", "email": "erika@example.org", "call_handle": "erika.muster@example.org",
            "accept_terms": "y", "early_start": "y"}
    data.update(overrides)
    return client.post(href, data=data)


def test_week_grid_lists_free_slots_with_utc_data_hooks(client, weekly_hours, frozen_now):
    frozen_now(MONDAY_MORNING)
    html = client.get("/de/book").get_data(as_text=True)
    slots = _slots(html)
    # Monday and the first morning slots of Tuesday are inside the 24-hour notice.
    assert slots[0][0] == "2026-11-24T08:00:00Z"  # Tue 09:00 MEZ, exactly 24 hours ahead
    assert all(key.endswith("Z") for key, _ in slots)
    assert all(href == f"/de/book/{key}" for key, href in slots)
    assert "MEZ" in html or "10:00" in html


def test_booking_a_slot_shows_booking_data_for_a_while_and_stores_hash_only(client, db, weekly_hours, frozen_now):
    frozen_now(MONDAY_MORNING)
    key, href = _slots(client.get("/de/book").get_data(as_text=True))[0]
    response = _book(client, href)
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    ref = re.search(r"data-booking-ref>([^<]+)<", page).group(1)
    access_key = re.search(r"data-access-key>([^<]+)<", page).group(1)
    assert re.fullmatch(r"R-[2-9A-HJ-NP-Z]{6}", ref)
    assert re.fullmatch(r"[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}", access_key)
    booking = db.session.scalar(select(Booking).where(Booking.ref == ref))
    assert booking.state == "awaiting_payment"
    assert booking.start_at.isoformat() == "2026-11-24T08:00:00+00:00"
    assert access_key not in booking.access_key_hash
    assert booking.terms_version and booking.terms_accepted_at == MONDAY_MORNING
    assert booking.payment_deadline > MONDAY_MORNING
    # Issue 14: a reload keeps the key visible for a while in this browser session, then it is gone.
    again = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"data-access-key>{access_key}<" in again
    frozen_now(MONDAY_MORNING + timedelta(hours=1))
    later = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "data-access-key" not in later


def test_booking_page_asks_for_the_access_key(app, client, db, weekly_hours, frozen_now):
    frozen_now(MONDAY_MORNING)
    _, href = _slots(client.get("/sv/book").get_data(as_text=True))[0]
    page = client.get(_book(client, href).headers["Location"]).get_data(as_text=True)
    ref = re.search(r"data-booking-ref>([^<]+)<", page).group(1)
    key = re.search(r"data-access-key>([^<]+)<", page).group(1)
    stranger = app.test_client()
    assert stranger.get(f"/sv/booking/{ref}").status_code == 200
    wrong = stranger.post(f"/sv/booking/{ref}", data={"access_key": "aaaa-bbbb-cccc"})
    assert wrong.status_code == 403
    right = stranger.post(f"/sv/booking/{ref}", data={"access_key": key.upper()})
    assert right.status_code == 303
    shown = stranger.get(right.headers["Location"]).get_data(as_text=True)
    assert 'data-booking-state="awaiting_payment"' in shown


def test_taken_slot_gives_409_and_saves_nothing(app, client, db, weekly_hours, frozen_now):
    frozen_now(MONDAY_MORNING)
    _, href = _slots(client.get("/de/book").get_data(as_text=True))[0]
    assert _book(client, href).status_code == 303
    # Someone else, in another browser (the same browser is sent to its own booking).
    second = _book(app.test_client(), href, email="other@example.org")
    assert second.status_code == 409
    assert db.session.scalar(select(func.count(Booking.id))) == 1
    assert db.session.scalar(select(func.count(Transition.id))) == 1


def test_empty_week_points_to_the_next_free_time(client, db, weekly_hours, frozen_now):
    from reflexion.availability.models import AvailabilityException
    from datetime import date, timedelta

    frozen_now(MONDAY_MORNING)
    for offset in range(14):  # close this week and next week
        db.session.add(AvailabilityException(day=date(2026, 11, 23) + timedelta(days=offset), closed=True))
    db.session.commit()
    html = client.get("/de/book").get_data(as_text=True)
    assert _slots(html) == []
    assert "Montag, 7. Dezember 2026, 09:00\u00a0MEZ" in html  # time and zone on one line
    assert "/de/book?week=2026-12-07" in html

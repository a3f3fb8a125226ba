"""Slot computation in practice time across the changes to and from summer time."""
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest

from reflexion.availability.models import AvailabilityException, WeeklyRule
from reflexion.availability.slots import candidate_slots, free_slots, parse_slot_key

BERLIN = ZoneInfo("Europe/Berlin")
SUNDAY = 6


def _keys(slots):
    return [s.key for s in slots]


@pytest.fixture
def sunday_night_and_morning(db):
    """Open on Sundays 01:00–04:00 (across the change) and 09:00–12:00."""
    db.session.add_all([WeeklyRule(weekday=SUNDAY, start=time(1), end=time(4)),
                        WeeklyRule(weekday=SUNDAY, start=time(9), end=time(12))])
    db.session.commit()


def test_spring_forward_skips_the_missing_hour_and_shifts_utc(app, sunday_night_and_morning):
    """29 March 2026: 02:00 MEZ jumps to 03:00 MESZ; the 02:00 slot does not exist."""
    slots = candidate_slots(date(2026, 3, 29), date(2026, 3, 29), BERLIN)
    assert _keys(slots) == [
        "2026-03-29T00:00:00Z",  # 01:00 MEZ
        # 02:00 does not exist that night
        "2026-03-29T01:00:00Z",  # 03:00 MESZ, ends 03:45 MESZ inside the window
        "2026-03-29T07:00:00Z",  # 09:00 MESZ
        "2026-03-29T08:00:00Z",
        "2026-03-29T09:00:00Z",
    ]
    assert [s.start.astimezone(BERLIN).strftime("%H:%M %Z") for s in slots][:2] == ["01:00 CET", "03:00 CEST"]


def test_fall_back_offers_the_repeated_hour_once(app, sunday_night_and_morning):
    """25 October 2026: 03:00 MESZ falls back to 02:00 MEZ; 02:00 is offered once, at its first occurrence."""
    slots = candidate_slots(date(2026, 10, 25), date(2026, 10, 25), BERLIN)
    assert _keys(slots) == [
        "2026-10-24T23:00:00Z",  # 01:00 MESZ
        "2026-10-25T00:00:00Z",  # 02:00 MESZ (first occurrence)
        "2026-10-25T02:00:00Z",  # 03:00 MEZ
        "2026-10-25T08:00:00Z",  # 09:00 MEZ
        "2026-10-25T09:00:00Z",
        "2026-10-25T10:00:00Z",
    ]
    starts = [s.start for s in slots]
    assert len(starts) == len(set(starts))


@pytest.mark.parametrize("day, utc_hour", [
    (date(2026, 3, 27), 8),   # Friday before: MEZ, 09:00 = 08:00Z
    (date(2026, 3, 30), 7),   # Monday after: MESZ, 09:00 = 07:00Z
    (date(2026, 10, 23), 7),  # Friday before: MESZ
    (date(2026, 10, 26), 8),  # Monday after: MEZ
])
def test_weekday_slots_keep_their_wall_time_around_the_changes(app, weekly_hours, day, utc_hour):
    slots = candidate_slots(day, day, BERLIN)
    assert slots[0].start == datetime(day.year, day.month, day.day, utc_hour, tzinfo=timezone.utc)
    assert all(s.start.astimezone(BERLIN).minute == 0 for s in slots)
    assert [s.start.astimezone(BERLIN).hour for s in slots] == ([9, 10, 11, 14, 15, 16, 17] if day.weekday() < 4
                                                              else [9, 10, 11])


def test_dst_weeks_render_with_the_right_zone_names(client, weekly_hours, frozen_now):
    """The week of 30 March shows MESZ in German and CEST in Swedish; the week before MEZ/CET."""
    frozen_now(datetime(2026, 3, 16, 8, tzinfo=timezone.utc))
    # Times and zones are joined by a no-break space on the pages (issue 14); compare as text.
    before = client.get("/de/book?week=2026-03-23").get_data(as_text=True).replace("\u00a0", " ")
    after_de = client.get("/de/book?week=2026-03-30").get_data(as_text=True).replace("\u00a0", " ")
    after_sv = client.get("/sv/book?week=2026-03-30").get_data(as_text=True).replace("\u00a0", " ")
    assert 'data-slot="2026-03-23T08:00:00Z"' in before and "09:00 MEZ" in before
    assert 'data-slot="2026-03-30T07:00:00Z"' in after_de and "09:00 MESZ" in after_de
    assert "09:00 CEST" in after_sv


def test_exceptions_close_a_day_or_add_hours(app, db, weekly_hours):
    db.session.add_all([
        AvailabilityException(day=date(2026, 12, 24), closed=True, note="Heiligabend"),
        AvailabilityException(day=date(2026, 12, 26), closed=False, start=time(10), end=time(12)),
    ])
    db.session.commit()
    assert candidate_slots(date(2026, 12, 24), date(2026, 12, 24), BERLIN) == []
    saturday = candidate_slots(date(2026, 12, 26), date(2026, 12, 26), BERLIN)
    assert _keys(saturday) == ["2026-12-26T09:00:00Z", "2026-12-26T10:00:00Z"]


def test_free_slots_respect_notice_horizon_and_buffered_bookings(app, weekly_hours, make_booking):
    now = datetime(2026, 11, 23, 8, tzinfo=timezone.utc)  # Mon 09:00 MEZ
    make_booking(datetime(2026, 11, 25, 9, tzinfo=timezone.utc))  # Wed 10:00 MEZ
    make_booking(datetime(2026, 11, 25, 13, 30, tzinfo=timezone.utc), state="cancelled")
    free = _keys(free_slots(date(2026, 11, 23), date(2026, 11, 29), now, BERLIN))
    assert "2026-11-23T13:00:00Z" not in free  # Monday 14:00: inside the 24-hour notice
    assert "2026-11-24T08:00:00Z" in free  # exactly 24 hours ahead
    assert "2026-11-25T09:00:00Z" not in free  # booked
    assert "2026-11-25T08:00:00Z" in free  # 09:00–09:45 plus 15 min buffer touches 10:00 but does not overlap
    assert "2026-11-25T13:00:00Z" in free  # the cancelled booking frees its time
    far = free_slots(date(2027, 1, 25), date(2027, 1, 31), now, BERLIN)
    assert far == []  # beyond the 56-day horizon


def test_operator_booking_off_grid_blocks_overlapping_slots(app, weekly_hours, make_booking):
    now = datetime(2026, 11, 23, 8, tzinfo=timezone.utc)
    make_booking(datetime(2026, 11, 25, 9, 20, tzinfo=timezone.utc))  # 10:20–11:05 MEZ
    free = _keys(free_slots(date(2026, 11, 25), date(2026, 11, 25), now, BERLIN))
    assert "2026-11-25T09:00:00Z" not in free and "2026-11-25T10:00:00Z" not in free
    assert "2026-11-25T08:00:00Z" in free  # 09:00–09:45, buffer ends 10:00 before 10:05 (10:20 − buffer)


@pytest.mark.parametrize("text, expected", [
    ("2026-11-25T08:00:00Z", datetime(2026, 11, 25, 8, tzinfo=timezone.utc)),
    ("2026-11-25T09:00:00+01:00", datetime(2026, 11, 25, 8, tzinfo=timezone.utc)),
    ("2026-11-25T08:00:00", None),  # no zone: refused
    ("tomorrow", None),
    ("", None),
    ("2026-13-01T00:00:00Z", None),
])
def test_parse_slot_key(text, expected):
    assert parse_slot_key(text) == expected


def test_operator_may_book_back_to_back_but_never_overlapping(app, make_booking, frozen_now):
    from datetime import timedelta

    from reflexion.booking import operations

    frozen_now(datetime(2026, 11, 23, 8, tzinfo=timezone.utc))
    first = make_booking(datetime(2026, 11, 25, 9, tzinfo=timezone.utc))
    details = dict(name="Anna Beispiel", email="anna@example.org", call_handle="anna.b@example.org")
    back_to_back = operations.book_as_operator(first.end_at, **details)
    assert back_to_back.booking.start_at == first.end_at
    with pytest.raises(operations.SlotTaken):
        operations.book_as_operator(first.start_at + timedelta(minutes=30), **details)


def test_short_notice_operator_booking_may_be_paid_until_the_start(app, frozen_now):
    from datetime import timedelta

    from reflexion.booking import operations

    now = frozen_now(datetime(2026, 11, 23, 8, tzinfo=timezone.utc))
    soon = operations.book_as_operator(now + timedelta(hours=1), name="Anna Beispiel",
                                      email="anna@example.org", call_handle="anna.b@example.org").booking
    assert soon.payment_deadline == soon.start_at
    later = operations.book_as_operator(now + timedelta(days=10), name="Anna Beispiel",
                                       email="anna@example.org", call_handle="anna.b@example.org").booking
    assert later.payment_deadline == now + timedelta(hours=72)

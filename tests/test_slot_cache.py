"""The free slots each process remembers (reflexion/availability/slot_cache.py) are never stale:
every committed write to bookings or opening hours raises the availability version, whoever
writes and however, and the clock moving a slot across the notice or the horizon is foreseen."""
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import text

from reflexion import clock
from reflexion.availability import slot_cache
from reflexion.availability.models import AvailabilityException, WeeklyRule
from reflexion.availability.slots import free_slots
from reflexion.booking.models import Booking
from reflexion.i18n import practice_zone

MONDAY = datetime(2026, 11, 23, 8, tzinfo=timezone.utc)  # 09:00 MEZ
WEEK = (date(2026, 11, 30), date(2026, 12, 6))  # the week after, inside notice and horizon


def _free(now=None):
    return [s.key for s in free_slots(*WEEK, now or clock.now(), practice_zone())]


def _version():
    return slot_cache.current_version()


def test_the_version_rises_with_every_committed_write_to_a_watched_table_only(app, db, weekly_hours, make_booking,
                                                                             frozen_now):
    frozen_now(MONDAY)
    start = _version()
    assert isinstance(start, int)
    booking = make_booking(datetime(2026, 12, 1, 9, tzinfo=timezone.utc))  # ORM insert
    after_insert = _version()
    assert after_insert > start
    db.session.execute(text("UPDATE booking SET state = 'expired' WHERE id = :id"), {"id": booking.id})  # plain SQL
    db.session.commit()
    after_update = _version()
    assert after_update > after_insert
    db.session.add(AvailabilityException(day=WEEK[0], closed=True))
    db.session.commit()
    assert _version() > after_update
    seen = _version()
    db.session.execute(text("UPDATE setting_change SET key = key"))  # not a watched table
    db.session.commit()
    db.session.execute(text("DELETE FROM weekly_rule"))
    db.session.rollback()  # not committed: nothing changed
    assert _version() == seen
    assert db.session.scalar(db.select(db.func.count()).select_from(WeeklyRule)) == len(weekly_hours)


def test_a_booking_committed_by_another_app_is_seen_by_the_next_view(app, db, make_app, weekly_hours, frozen_now):
    """Two apps on one database stand for two processes: their caches and engines are separate."""
    frozen_now(MONDAY)
    first = app.test_client()
    before = first.get("/de/book?week=2026-11-30").get_data(as_text=True)
    slot = "2026-11-30T08:00:00Z"  # Monday 09:00 MEZ
    assert f'data-slot="{slot}"' in before
    other = make_app()
    with other.app_context():
        db.session.add(Booking(ref="R-ABCDEF", access_key_hash="x", state="confirmed",
                               start_at=datetime(2026, 11, 30, 8, tzinfo=timezone.utc),
                               end_at=datetime(2026, 11, 30, 8, 45, tzinfo=timezone.utc), name="Eva", email="e@example.org",
                               call_handle="e@example.org", created_at=MONDAY, fee_cents=9000, currency="EUR",
                               session_minutes=45, no_answer_minutes=15, ical_uid="other@reflexion"))
        db.session.commit()
        db.session.remove()
    after = first.get("/de/book?week=2026-11-30").get_data(as_text=True)
    assert f'data-slot="{slot}"' not in after
    assert 'data-slot="2026-11-30T09:00:00Z"' in after  # the next one is still offered


def test_a_slot_drops_out_the_moment_the_notice_reaches_it(app, weekly_hours, frozen_now):
    """Kept answers end when the clock changes them, not a minute later."""
    slot = datetime(2026, 12, 1, 8, tzinfo=timezone.utc)  # Tuesday 09:00 MEZ
    deadline = slot - timedelta(hours=app.config["MIN_NOTICE_HOURS"])
    frozen_now(deadline - timedelta(minutes=5))
    assert "2026-12-01T08:00:00Z" in _free()
    frozen_now(deadline)
    assert "2026-12-01T08:00:00Z" in _free()  # exactly at the notice: still bookable
    frozen_now(deadline + timedelta(microseconds=1))
    assert "2026-12-01T08:00:00Z" not in _free()
    assert "2026-12-01T09:00:00Z" in _free()


def test_a_slot_comes_in_the_moment_the_horizon_reaches_it(app, weekly_hours, frozen_now):
    horizon = timedelta(days=app.config["HORIZON_DAYS"])
    last_monday = datetime(2027, 1, 18, 8, tzinfo=timezone.utc)  # Monday 09:00 MEZ, eight weeks on
    week = (date(2027, 1, 18), date(2027, 1, 24))
    frozen_now(last_monday - horizon - timedelta(seconds=1))
    assert "2027-01-18T08:00:00Z" not in [s.key for s in free_slots(*week, clock.now(), practice_zone())]
    frozen_now(last_monday - horizon)
    assert "2027-01-18T08:00:00Z" in [s.key for s in free_slots(*week, clock.now(), practice_zone())]


def test_changed_rules_are_part_of_the_answer(app, weekly_hours, frozen_now):
    frozen_now(MONDAY)
    assert "2026-11-30T09:00:00Z" in _free()  # 10:00: 09:00 + 45 min + 15 min buffer
    app.config["BUFFER_MINUTES"] = 30.0
    assert "2026-11-30T09:00:00Z" not in _free()
    assert "2026-11-30T09:15:00Z" in _free()


def test_without_the_version_row_nothing_is_kept(app, db, weekly_hours, frozen_now):
    frozen_now(MONDAY)
    db.session.execute(text("DELETE FROM availability_version"))
    db.session.commit()
    assert _version() is None
    assert "2026-11-30T08:00:00Z" in _free()
    db.session.add(AvailabilityException(day=WEEK[0], closed=True))
    db.session.commit()
    assert not [key for key in _free() if key.startswith("2026-11-30")]


def test_opening_hours_changed_show_at_once(app, db, weekly_hours, frozen_now):
    frozen_now(MONDAY)
    assert any(key.startswith("2026-11-30") for key in _free())
    db.session.add(AvailabilityException(day=WEEK[0], closed=True))
    db.session.commit()
    assert not any(key.startswith("2026-11-30") for key in _free())
    db.session.execute(text("DELETE FROM availability_exception"))
    db.session.add(WeeklyRule(weekday=6, start=time(10), end=time(12)))  # Sundays too
    db.session.commit()
    assert any(key.startswith("2026-11-30") for key in _free())
    assert "2026-12-06T09:00:00Z" in _free()

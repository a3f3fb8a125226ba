"""reflexion.db.OneRowQuery (the polled panel's read) gives what SQLAlchemy's Core gives, on
SQLite and on PostgreSQL (TEST_DATABASE_URL): same values, same UTC-aware datetimes."""
from datetime import datetime, timedelta, timezone

from sqlalchemy import bindparam, select

from reflexion.booking.models import Booking
from reflexion.db import OneRowQuery

START = datetime(2026, 11, 24, 8, tzinfo=timezone.utc)
TABLE = Booking.__table__
STATEMENT = select(TABLE.c.id, TABLE.c.state, TABLE.c.start_at, TABLE.c.answered_at, TABLE.c.session_minutes).where(
    TABLE.c.id == bindparam("booking_id"))


def test_the_row_matches_what_core_reads(app, db, make_booking, frozen_now):
    frozen_now(START - timedelta(days=1))
    booking = make_booking(START, state="in_progress")
    booking.answered_at = START + timedelta(minutes=3, microseconds=250)
    db.session.commit()
    expected = db.session.execute(STATEMENT, {"booking_id": booking.id}).one()
    row = OneRowQuery(STATEMENT).first(db.engine, booking_id=booking.id)
    assert tuple(row) == tuple(expected)
    assert row.state == "in_progress" and row.answered_at == START + timedelta(minutes=3, microseconds=250)
    assert row.start_at.utcoffset() == timedelta(0) and row.answered_at.tzinfo is not None


def test_a_missing_row_is_none(app, db, make_booking, frozen_now):
    frozen_now(START - timedelta(days=1))
    make_booking(START)
    db.session.commit()
    query = OneRowQuery(STATEMENT)
    assert query.first(db.engine, booking_id=10**9) is None


def test_the_read_leaves_no_transaction_open(app, db, make_booking, frozen_now):
    """The connection goes back to the pool with its read ended: a later write is not blocked."""
    frozen_now(START - timedelta(days=1))
    booking = make_booking(START)
    db.session.commit()
    query = OneRowQuery(STATEMENT)
    for _ in range(20):  # more than the pool holds
        assert query.first(db.engine, booking_id=booking.id).state == booking.state
    booking.state = "cancelled"
    db.session.commit()
    assert query.first(db.engine, booking_id=booking.id).state == "cancelled"

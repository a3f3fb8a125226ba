"""Changing the opening hours: each change one function; they flush, the request commits.

Changes apply to what clients can book from now on; existing bookings stay as they are.
"""
from datetime import date, time, timedelta

from sqlalchemy import select

from reflexion.availability.models import AvailabilityException, WeeklyRule
from reflexion.extensions import db


class HoursOverlap(Exception):
    """New weekly hours overlap hours already set for that day."""


def weekly_rules() -> list[WeeklyRule]:
    return db.session.scalars(select(WeeklyRule).order_by(WeeklyRule.weekday, WeeklyRule.start)).all()


def exceptions_from(today: date) -> list[AvailabilityException]:
    """The dated exceptions from yesterday on (yesterday's still explains today's early hours)."""
    return db.session.scalars(
        select(AvailabilityException).where(AvailabilityException.day >= today - timedelta(days=1))
        .order_by(AvailabilityException.day, AvailabilityException.start)
    ).all()


def add_weekly_hours(weekday: int, start: time, end: time) -> WeeklyRule:
    """Open ``start``–``end`` every ``weekday``; raise :class:`HoursOverlap` if that day has such hours."""
    overlapping = db.session.scalar(select(WeeklyRule.id).where(
        WeeklyRule.weekday == weekday, WeeklyRule.start < end, WeeklyRule.end > start))
    if overlapping:
        raise HoursOverlap()
    rule = WeeklyRule(weekday=weekday, start=start, end=end)
    db.session.add(rule)
    db.session.flush()
    return rule


def add_exception(day: date, *, closed: bool, start: time | None, end: time | None,
                  note: str | None) -> AvailabilityException:
    """Close ``day``, or give it other hours."""
    exception = AvailabilityException(day=day, closed=closed, start=None if closed else start,
                                      end=None if closed else end, note=note or None)
    db.session.add(exception)
    db.session.flush()
    return exception


def remove(model, row_id: int) -> bool:
    """Delete one weekly rule or exception; False if it is gone already."""
    row = db.session.get(model, row_id)
    if row is None:
        return False
    db.session.delete(row)
    db.session.flush()
    return True

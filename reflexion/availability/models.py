"""When the practice takes bookings: weekly rules and dated exceptions, in practice local time."""
from datetime import date, time

from sqlalchemy import BigInteger, CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from reflexion.extensions import db


class WeeklyRule(db.Model):
    """Open from ``start`` to ``end`` (local wall time) every ``weekday`` (0 = Monday)."""

    __tablename__ = "weekly_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    weekday: Mapped[int] = mapped_column()
    start: Mapped[time] = mapped_column()
    end: Mapped[time] = mapped_column()

    __table_args__ = (
        CheckConstraint("weekday >= 0 AND weekday <= 6", name="weekday_range"),
        CheckConstraint("start < \"end\"", name="start_before_end"),
    )


class AvailabilityException(db.Model):
    """A dated change: the whole day closed (no times), or extra opening hours that day."""

    __tablename__ = "availability_exception"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(index=True)
    closed: Mapped[bool] = mapped_column(default=True)
    start: Mapped[time | None] = mapped_column()
    end: Mapped[time | None] = mapped_column()
    note: Mapped[str | None] = mapped_column(String(200))


class AvailabilityVersion(db.Model):
    """One row whose counter rises with every committed change to what decides the free times
    (bookings, weekly rules, exceptions): see :mod:`reflexion.availability.slot_cache`."""

    __tablename__ = "availability_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, nullable=False)

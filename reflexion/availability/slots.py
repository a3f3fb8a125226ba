"""Which session starts the practice offers, and which of them are still free.

Slots are laid out in practice local wall time (``Europe/Berlin`` by default): from the
start of each opening window, every session length plus buffer, while the session still
ends inside the window. Wall times that do not exist (spring forward) are skipped; wall
times that occur twice (fall back) are offered once, at their first occurrence.
"""
from bisect import bisect_left
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import select

from reflexion.availability import slot_cache
from reflexion.availability.models import AvailabilityException, WeeklyRule
from reflexion.booking import rules
from reflexion.booking.models import Booking
from reflexion.booking.states import LIVE_STATES
from reflexion.extensions import db
from reflexion.conversations.deadlines import session_end, session_length


@dataclass(frozen=True, order=True)
class Slot:
    start: datetime  # aware UTC
    end: datetime

    @property
    def key(self) -> str:
        """The slot's id in URLs and ``data-slot``: UTC start, ISO 8601 with ``Z``."""
        return format_slot_key(self.start)


def format_slot_key(start: datetime) -> str:
    return start.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_slot_key(text: str) -> datetime | None:
    """Parse ``2026-12-01T09:00:00Z`` (or with an explicit offset) into aware UTC; None if bad."""
    if not text or len(text) > 40:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        if value.tzinfo is None:
            return None
        return value.astimezone(timezone.utc)
    except (ValueError, OverflowError):  # OverflowError: an offset pushes it past year 1 or 9999
        return None


def local_instant(day: date, wall: time, zone: ZoneInfo) -> datetime | None:
    """Return the UTC instant of ``wall`` on ``day`` in ``zone``; None if that wall time does not exist."""
    local = datetime.combine(day, wall, tzinfo=zone).replace(fold=0)
    utc = local.astimezone(timezone.utc)
    if utc.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        return None  # skipped by the change to summer time
    return utc


def opening_windows(day: date, weekly: dict[int, list[tuple[time, time]]],
                    exceptions: dict[date, list]) -> list[tuple[time, time]]:
    """Return the day's opening windows: weekly rules, unless an exception closes or adds."""
    dated = exceptions.get(day, [])
    if any(e.closed for e in dated):
        return []
    windows = list(weekly.get(day.weekday(), []))
    windows += [(e.start, e.end) for e in dated if not e.closed and e.start and e.end]
    return sorted(windows)


def candidate_slots(first_day: date, last_day: date, zone: ZoneInfo) -> list[Slot]:
    """Every slot the opening hours offer from ``first_day`` to ``last_day`` (local dates, inclusive)."""
    weekly = tuple(db.session.execute(
        select(WeeklyRule.weekday, WeeklyRule.start, WeeklyRule.end)
        .order_by(WeeklyRule.weekday, WeeklyRule.start, WeeklyRule.end)).all())
    dated = tuple(db.session.execute(
        select(AvailabilityException.day, AvailabilityException.closed, AvailabilityException.start,
               AvailabilityException.end)
        .where(AvailabilityException.day >= first_day, AvailabilityException.day <= last_day)
        .order_by(AvailabilityException.id)).all())
    return list(_candidates(first_day, last_day, zone, tuple(map(tuple, weekly)), tuple(map(tuple, dated)),
                            session_length(), rules.buffer()))


@lru_cache(maxsize=256)
def _candidates(first_day: date, last_day: date, zone: ZoneInfo, weekly_rows: tuple, dated_rows: tuple,
                length: timedelta, buffer: timedelta) -> tuple[Slot, ...]:
    """The slots of these opening hours (pure): cached, since the same week with the same hours,
    length and buffer always gives the same slots (the week page asks for them on every view)."""
    weekly: dict[int, list[tuple[time, time]]] = {}
    for weekday, opens, closes in weekly_rows:
        weekly.setdefault(weekday, []).append((opens, closes))
    exceptions: dict[date, list[_Dated]] = {}
    for row in dated_rows:
        exceptions.setdefault(row[0], []).append(_Dated(*row))
    step = length + buffer
    slots: set[Slot] = set()
    day = first_day
    while day <= last_day:
        for opens, closes in opening_windows(day, weekly, exceptions):
            window_end = local_instant(day, closes, zone) or _next_existing(day, closes, zone)
            wall = datetime.combine(day, opens)
            while wall.date() == day:
                start = local_instant(day, wall.time(), zone)
                if start is not None:
                    if start + length > window_end:
                        break
                    slots.add(Slot(start, start + length))
                wall += step
        day += timedelta(days=1)
    return tuple(sorted(slots))


@dataclass(frozen=True)
class _Dated:
    """A dated exception's fields (what :func:`opening_windows` reads)."""

    day: date
    closed: bool
    start: time | None
    end: time | None


def _next_existing(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """The instant a non-existent wall time maps to once the clocks have jumped forward."""
    return datetime.combine(day, wall, tzinfo=zone).astimezone(timezone.utc)


def busy_intervals(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """Live bookings touching [start, end), widened by the buffer, sorted by start."""
    pad = rules.buffer()
    rows = db.session.execute(
        select(Booking.start_at, Booking.end_at)
        .where(Booking.state.in_([s.value for s in LIVE_STATES]))
        .where(Booking.start_at < end + pad, Booking.end_at > start - pad)
        .order_by(Booking.start_at)
    )
    return [(s - pad, e + pad) for s, e in rows]


def _overlaps(slot: Slot, busy: list[tuple[datetime, datetime]], starts: list[datetime]) -> bool:
    i = bisect_left(starts, slot.end)
    # Busy intervals are short and sorted; only the few starting before the slot's end matter.
    for j in range(i - 1, -1, -1):
        b_start, b_end = busy[j]
        if b_end > slot.start:
            return True
        if slot.start - b_start > timedelta(days=1):
            break
    return False


def free_slots(first_day: date, last_day: date, now: datetime, zone: ZoneInfo) -> list[Slot]:
    """Slots clients may book now: inside notice and horizon, overlapping no live booking.

    Remembered per process until a booking or the opening hours change, or the clock moves a
    slot across the notice or the horizon (:mod:`reflexion.availability.slot_cache`).
    """
    earliest, latest = rules.earliest_bookable(now), rules.latest_bookable(now)
    key = (first_day, last_day, zone.key, earliest - now, latest - now, session_length(), rules.buffer())
    return list(slot_cache.remembered(key, now, lambda: _free_slots(first_day, last_day, zone, now, earliest, latest)))


def _free_slots(first_day, last_day, zone, now, earliest, latest) -> tuple[tuple[Slot, ...], datetime]:
    offered = candidate_slots(first_day, last_day, zone)
    until = slot_cache.valid_until(offered, earliest, latest, now)
    candidates = [s for s in offered if earliest <= s.start <= latest]
    if not candidates:
        return (), until
    busy = busy_intervals(candidates[0].start, candidates[-1].end)
    starts = [b[0] for b in busy]
    return tuple(s for s in candidates if not _overlaps(s, busy, starts)), until


def is_offered(start: datetime, now: datetime, zone: ZoneInfo) -> bool:
    """Tell whether ``start`` is a slot the opening hours offer and the rules allow now."""
    day = start.astimezone(zone).date()
    earliest, latest = rules.earliest_bookable(now), rules.latest_bookable(now)
    if not earliest <= start <= latest:
        return False
    return any(s.start == start for s in candidate_slots(day, day, zone))


def unavailable_reason(start: datetime, now: datetime, zone: ZoneInfo) -> str | None:
    """Say why clients cannot book ``start`` now, or None when it is offered.

    ``past``, ``too_soon`` (inside the notice), ``too_far`` (beyond the horizon), ``closed`` (no
    opening hours that day) or ``off_grid`` (the day is open, but no session starts then).
    """
    if start <= now:
        return "past"
    if start < rules.earliest_bookable(now):
        return "too_soon"
    if start > rules.latest_bookable(now):
        return "too_far"
    day = start.astimezone(zone).date()
    day_slots = candidate_slots(day, day, zone)
    if not day_slots:
        return "closed"
    if not any(s.start == start for s in day_slots):
        return "off_grid"
    return None


def overlapping_bookings(start: datetime, end: datetime, exclude_id: int | None = None, *,
                         with_buffer: bool = True):
    """Live bookings whose time overlaps [start, end), widened by the buffer unless told not to.

    The public calendar keeps the buffer between sessions; the operator may book back to back.
    """
    pad = rules.buffer() if with_buffer else timedelta(0)
    query = (
        select(Booking)
        .where(Booking.state.in_([s.value for s in LIVE_STATES]))
        .where(Booking.start_at < end + pad, Booking.end_at > start - pad)
    )
    if exclude_id is not None:
        query = query.where(Booking.id != exclude_id)
    return list(db.session.scalars(query))


def live_bookings_on(day: date, zone: ZoneInfo) -> list:
    """Live bookings starting on the local ``day``, in order (what closing that day would strand)."""
    first = datetime.combine(day, time(0), tzinfo=zone).astimezone(timezone.utc)
    last = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(timezone.utc)
    return list(db.session.scalars(
        select(Booking).where(Booking.state.in_([s.value for s in LIVE_STATES]))
        .where(Booking.start_at >= first, Booking.start_at < last).order_by(Booking.start_at)))


def week_days(monday: date) -> list[date]:
    return [monday + timedelta(days=i) for i in range(7)]


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


__all__ = [
    "Slot", "candidate_slots", "free_slots", "is_offered", "unavailable_reason", "overlapping_bookings",
    "format_slot_key", "parse_slot_key", "session_end", "week_days", "monday_of",
]

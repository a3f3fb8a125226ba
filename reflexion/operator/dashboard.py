"""What the dashboard shows: the coming sessions by day, unpaid bookings, recent messages."""
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select

from reflexion.booking.models import Booking
from reflexion.booking.states import CONFIRMED_STATES, State
from reflexion.extensions import db
from reflexion.i18n import practice_zone
from reflexion.pages.models import ContactMessage

#: Days shown on the timeline, today included.
TIMELINE_DAYS = 7
#: Lapsed unpaid bookings are not worth a line on the timeline.
HIDDEN_ON_TIMELINE = (State.EXPIRED.value,)


@dataclass
class Day:
    day: date
    is_today: bool
    bookings: list = field(default_factory=list)


def local_midnight(day: date) -> datetime:
    """The instant a practice-local day begins (aware)."""
    return datetime.combine(day, time(0), tzinfo=practice_zone())


def timeline(now: datetime, days: int = TIMELINE_DAYS) -> list[Day]:
    """Today and the coming days in practice time, each with its bookings in start order."""
    today = now.astimezone(practice_zone()).date()
    first, last = local_midnight(today), local_midnight(today + timedelta(days=days))
    rows = db.session.scalars(
        select(Booking)
        .where(Booking.start_at >= first, Booking.start_at < last)
        .where(Booking.state.not_in(HIDDEN_ON_TIMELINE))
        .order_by(Booking.start_at)
    ).all()
    by_day = {today + timedelta(days=i): Day(today + timedelta(days=i), i == 0) for i in range(days)}
    for booking in rows:
        by_day[booking.start_at.astimezone(practice_zone()).date()].bookings.append(booking)
    return list(by_day.values())


def next_session(now: datetime) -> Booking | None:
    """The session to call next: the first paid one that has not ended."""
    states = [s.value for s in CONFIRMED_STATES]
    return db.session.scalar(
        select(Booking).where(Booking.state.in_(states), Booking.end_at > now).order_by(Booking.start_at).limit(1)
    )


def awaiting_payment() -> list[Booking]:
    """Unpaid bookings holding a slot, the most urgent payment deadline first."""
    return db.session.scalars(
        select(Booking).where(Booking.state == State.AWAITING_PAYMENT.value)
        .order_by(Booking.payment_deadline, Booking.start_at)
    ).all()


def recent_messages(limit: int = 8) -> list[ContactMessage]:
    """The newest contact messages (unread first is the operator's job; newest first here)."""
    return db.session.scalars(
        select(ContactMessage).where(ContactMessage.anonymised_at.is_(None))
        .order_by(ContactMessage.received_at.desc()).limit(limit)
    ).all()


def unread_count() -> int:
    return db.session.scalar(
        select(func.count(ContactMessage.id)).where(ContactMessage.read_at.is_(None),
                                                    ContactMessage.anonymised_at.is_(None))
    )

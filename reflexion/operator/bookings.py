"""Bookings the operator makes for clients who phone or write (panel form and command line)."""
from datetime import date, datetime, time, timezone

from reflexion.availability.slots import local_instant
from reflexion.booking.models import DEFAULT_PAYMENT_METHOD
from reflexion.booking.operations import NewBooking, book_as_operator
from reflexion.booking.payments import confirm_payment
from reflexion.booking.states import Actor
from reflexion.i18n import practice_zone


class BadStart(ValueError):
    """A start instant that cannot be read, or a local time that does not exist (spring forward)."""


def start_from_local(day: date, wall: time) -> datetime:
    """The instant of practice-local ``wall`` on ``day``; the earlier one when the clocks fall back."""
    instant = local_instant(day, wall, practice_zone())
    if instant is None:
        raise BadStart("nonexistent")
    return instant


def parse_start(text: str) -> datetime:
    """Read ``--start``: ISO 8601 with offset or ``Z``; without an offset it is practice time."""
    try:
        value = datetime.fromisoformat((text or "").strip())
    except ValueError as exc:
        raise BadStart("format") from exc
    if value.tzinfo is None:
        return start_from_local(value.date(), value.time())
    return value.astimezone(timezone.utc)


def book_by_operator(start: datetime, *, name: str, email: str, call_handle: str, lang: str = "de",
                     paid: bool = False, method: str = DEFAULT_PAYMENT_METHOD,
                     call_platform: str | None = None) -> NewBooking:
    """Book ``start`` for a client (any instant overlapping no other booking); with ``paid`` also
    record the payment, which confirms the booking and schedules its session timers.

    Raises :class:`reflexion.booking.operations.SlotTaken` / ``SlotUnavailable`` like
    :func:`~reflexion.booking.operations.book_as_operator`, and ``InvalidCallHandle`` for a handle
    that does not fit ``call_platform`` (default: the first one offered). The caller commits.
    """
    new = book_as_operator(start, name=name, email=email, call_handle=call_handle, lang=lang,
                           call_platform=call_platform)
    if paid:
        confirm_payment(new.booking, actor=Actor.OPERATOR, method=method)
    return new

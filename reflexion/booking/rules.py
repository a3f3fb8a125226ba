"""Booking rules from settings: notice, horizon, buffer and the payment deadline."""
from datetime import datetime, timedelta

from reflexion.settings import setting


def buffer() -> timedelta:
    """Free time kept after every session before the next one may start."""
    return timedelta(minutes=setting("BUFFER_MINUTES"))


def earliest_bookable(now: datetime) -> datetime:
    """Clients book at least ``MIN_NOTICE_HOURS`` ahead."""
    return now + timedelta(hours=setting("MIN_NOTICE_HOURS"))


def latest_bookable(now: datetime) -> datetime:
    """Clients book at most ``HORIZON_DAYS`` ahead."""
    return now + timedelta(days=setting("HORIZON_DAYS"))


def payment_deadline(booked_at: datetime, start: datetime) -> datetime:
    """Unpaid bookings hold their slot until this instant, then expire.

    ``PAYMENT_WINDOW_HOURS`` after booking, but never later than ``PAYMENT_CUTOFF_HOURS``
    before the session (so the operator can confirm the transfer before calling). A
    booking made inside the cutoff (the operator books someone at short notice) may be
    paid until the session starts.
    """
    window = booked_at + timedelta(hours=setting("PAYMENT_WINDOW_HOURS"))
    cutoff = start - timedelta(hours=setting("PAYMENT_CUTOFF_HOURS"))
    deadline = min(window, cutoff)
    return deadline if deadline > booked_at else start


def payment_deadline_after_move(booked_at: datetime, new_start: datetime, now: datetime) -> datetime:
    """The payment deadline of an unpaid booking moved to ``new_start``.

    The same rule as at booking (:func:`payment_deadline`, counted from when it was booked),
    for the new start; if that has already passed, the client may pay until the session starts.
    """
    deadline = payment_deadline(booked_at, new_start)
    return deadline if deadline > now else new_start

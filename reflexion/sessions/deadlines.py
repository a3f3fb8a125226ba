"""The session's clock rules, each in one place (PRODUCT.md §2 rules 6 and 7).

Durations come from settings and accept fractions of minutes, so tests can run a whole
session in seconds.
"""
from datetime import datetime, timedelta

from flask import current_app


def session_length() -> timedelta:
    """The booked length of a session (45 minutes)."""
    return timedelta(minutes=current_app.config["SESSION_MINUTES"])


def no_answer_window() -> timedelta:
    """How long after the booked start the client may still answer (15 minutes)."""
    return timedelta(minutes=current_app.config["NO_ANSWER_MINUTES"])


def session_end(start: datetime) -> datetime:
    """The end of a session booked at ``start``."""
    return start + session_length()


def no_answer_deadline(booking) -> datetime:
    """Not answered by then: the session counts as consumed (no-show, no refund)."""
    return booking.start_at + no_answer_window()


def hard_end(booking) -> datetime:
    """The call ends 45 minutes after the booked start, however late it began."""
    return booking.end_at


def reminder_time(booking) -> datetime:
    """When the client is reminded of a confirmed session."""
    return booking.start_at - timedelta(hours=current_app.config["REMINDER_HOURS"])

"""The safety net: apply every overdue deadline transition from the database.

Runs when the worker starts and then periodically, so a lost Redis, a dead worker or a
restart never leaves a session open past its end. Transitions are recorded at their
deadline instants, not at the (late) time of this sweep.
"""
import logging

from sqlalchemy import select

from reflexion import clock
from reflexion.booking.models import Booking
from reflexion.booking.states import IllegalTransition
from reflexion.extensions import db
from reflexion.conversations.deadlines import next_deadline
from reflexion.conversations.lifecycle import apply_deadlines

log = logging.getLogger(__name__)


def overdue_bookings(now):
    """Live bookings whose next deadline has passed (``Booking.next_deadline_at``, indexed)."""
    return db.session.scalars(
        select(Booking).where(Booking.next_deadline_at <= now).order_by(Booking.start_at)
    ).all()


def reconcile(now=None) -> int:
    """Apply all overdue transitions; return how many were written. The caller commits.

    A booking that someone else moves while the sweep runs is skipped (the other side's
    move stands); the sweep after this one looks at it again.
    """
    now = now or clock.now()
    written = 0
    for booking in overdue_bookings(now):
        try:
            entries = apply_deadlines(booking, now)
            if not entries:
                # The stored instant was early (the no-answer window changed, an old row):
                # correct it, so the next sweep does not look at this booking again.
                booking.next_deadline_at = next_deadline(booking)
            written += len(entries)
        except IllegalTransition:
            log.info("booking %s changed during the sweep; left for the next one", booking.ref)
    if written:
        log.info("reconcile applied %d overdue transition(s)", written)
    return written

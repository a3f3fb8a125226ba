"""The safety net: apply every overdue deadline transition from the database.

Runs when the worker starts and then periodically, so a lost Redis, a dead worker or a
restart never leaves a session open past its end. Transitions are recorded at their
deadline instants, not at the (late) time of this sweep.
"""
import logging

from sqlalchemy import or_, select

from reflexion import clock
from reflexion.booking.models import Booking
from reflexion.booking.states import State
from reflexion.extensions import db
from reflexion.sessions.deadlines import no_answer_window

log = logging.getLogger(__name__)


def overdue_bookings(now):
    """Live bookings that may have a deadline behind them (a cheap, indexed pre-filter)."""
    return db.session.scalars(
        select(Booking).where(
            or_(
                (Booking.state == State.AWAITING_PAYMENT.value) & (Booking.payment_deadline <= now),
                (Booking.state == State.CONFIRMED.value) & (Booking.start_at <= now),
                (Booking.state == State.DUE.value) & (Booking.start_at <= now - no_answer_window()),
                Booking.state.in_([State.ANSWERED.value, State.IN_PROGRESS.value]) & (Booking.end_at <= now),
            )
        ).order_by(Booking.start_at)
    ).all()


def reconcile(now=None) -> int:
    """Apply all overdue transitions; return how many were written. The caller commits.

    A booking that someone else moves while the sweep runs is skipped (the other side's
    move stands); the sweep after this one looks at it again.
    """
    from reflexion.booking.states import IllegalTransition
    from reflexion.sessions.lifecycle import apply_deadlines

    now = now or clock.now()
    written = 0
    for booking in overdue_bookings(now):
        try:
            written += len(apply_deadlines(booking, now))
        except IllegalTransition:
            log.info("booking %s changed during the sweep; left for the next one", booking.ref)
    if written:
        log.info("reconcile applied %d overdue transition(s)", written)
    return written

"""The safety net: apply every overdue deadline transition from the database.

Runs when the worker starts and then periodically, so a lost Redis, a dead worker or a
restart never leaves a session open past its end. Transitions are recorded at their
deadline instants, not at the (late) time of this sweep.
"""
import logging
from datetime import timedelta

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


def restore_timers(now=None) -> int:
    """Put back the deadline timers and reminders of every live booking; return how many bookings.

    Run at worker start: Redis may have restarted without its data. Scheduling is idempotent
    (a job id is per booking and purpose), so timers that still exist are only moved onto
    the same instant. The caller needs no commit: nothing in the database changes.
    """
    from reflexion.booking.states import LIVE_STATES
    from reflexion.jobs import timers
    from reflexion.mail import messages, tasks
    from reflexion.mail.models import OutgoingEmail
    from reflexion.sessions.deadlines import reminder_time

    now = now or clock.now()
    live = db.session.scalars(
        select(Booking).where(Booking.state.in_([s.value for s in LIVE_STATES]), Booking.end_at > now)
    ).all()
    reminded = set(db.session.scalars(
        select(OutgoingEmail.booking_id).where(OutgoingEmail.kind == messages.REMINDER)))
    for booking in live:
        timers.schedule_deadlines(booking)
        if booking.state == State.CONFIRMED.value and booking.id not in reminded and booking.start_at > now:
            # A reminder missed while no worker ran is sent now, as long as the session is ahead.
            when = max(reminder_time(booking), now + timedelta(seconds=5))
            tasks.schedule_reminder(booking.id, when.isoformat())
    if live:
        log.info("restored the timers of %d live booking(s)", len(live))
    return len(live)

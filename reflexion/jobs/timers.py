"""Deadline timers: RQ jobs at a booking's deadlines, idempotent, re-reading the booking.

A job only asks :func:`reflexion.sessions.lifecycle.apply_deadlines` to apply what is due
at the checked clock's now; if the operator (or another job, or the reconcile sweep) got
there first, it does nothing. Job ids are ``booking-<id>-<purpose>``: scheduling again moves
a job, and a booking that is cancelled, rescheduled or finished drops the jobs it no longer
needs (see :func:`schedule_deadlines`, run after every state change by the booking hooks).
"""
import logging
import time as _time
from datetime import datetime, timedelta

from reflexion import clock
from reflexion.booking.states import IllegalTransition, State
from reflexion.extensions import db
from reflexion.jobs.queue import job_app
from reflexion.jobs.scheduling import cancel, schedule_at
from reflexion.sessions.deadlines import hard_end, no_answer_deadline

log = logging.getLogger(__name__)

#: Jobs are put on the queue this much before their deadline and wait out the rest, so the
#: scheduler's one-second tick does not make a transition late.
LEAD = timedelta(seconds=1.5)
#: A job that arrives earlier than this before its deadline is put back instead of waiting.
MAX_WAIT = LEAD + timedelta(seconds=3)

ALL_PURPOSES = ("payment", "start", "no-answer", "end")


def job_id_for(booking_id: int, purpose: str) -> str:
    return f"booking-{booking_id}-{purpose}"


def deadlines_of(booking) -> dict[str, datetime]:
    """The timer instants still ahead of the booking in its current state, by purpose.

    At confirmation that is start, no-answer deadline and hard end; once the session is
    due the start job is done, once answered only the hard end is left; final states
    need no timers.
    """
    state = State(booking.state)
    if state == State.AWAITING_PAYMENT:
        return {"payment": booking.payment_deadline} if booking.payment_deadline else {}
    if state == State.CONFIRMED:
        return {"start": booking.start_at, "no-answer": no_answer_deadline(booking), "end": hard_end(booking)}
    if state == State.DUE:
        return {"no-answer": no_answer_deadline(booking), "end": hard_end(booking)}
    if state in (State.ANSWERED, State.IN_PROGRESS):
        return {"end": hard_end(booking)}
    return {}


def schedule_deadlines(booking):
    """(Re)schedule the booking's deadline jobs for its current state; cancel the others."""
    from reflexion.jobs import periodic

    wanted = deadlines_of(booking)
    for purpose in ALL_PURPOSES:
        job_id = job_id_for(booking.id, purpose)
        when = wanted.get(purpose)
        if when is None:
            cancel(job_id)
        else:
            schedule_at(when - LEAD, run_deadlines, booking.id, when.isoformat(), job_id=job_id)
    # Whoever schedules timers also makes sure the safety net runs (plain ``rq worker`` too).
    periodic.ensure_reconcile()


def cancel_deadlines(booking_id: int):
    """Drop every timer job of a booking."""
    for purpose in ALL_PURPOSES:
        cancel(job_id_for(booking_id, purpose))


def schedule_deadlines_by_id(booking_id: int):
    """After commit: re-read the booking and schedule its timers (see :func:`schedule_deadlines`)."""
    from reflexion.booking.models import Booking

    booking = db.session.get(Booking, booking_id)
    if booking is None:
        cancel_deadlines(booking_id)
    else:
        schedule_deadlines(booking)


def run_deadlines(booking_id: int, deadline_iso: str | None = None):
    """Job: apply whatever deadline transitions are due for one booking; return them as text."""
    from reflexion.booking.models import Booking
    from reflexion.sessions.lifecycle import apply_deadlines

    app = job_app()
    with app.app_context():
        if deadline_iso:
            deadline = datetime.fromisoformat(deadline_iso)
            wait = deadline - clock.now()
            if wait > MAX_WAIT:
                # Far too early (the clock offset moved since scheduling): come back later.
                from rq import get_current_job

                current = get_current_job()
                suffix = f"-again-{int(deadline.timestamp())}"
                schedule_at(deadline - LEAD, run_deadlines, booking_id, deadline_iso,
                            job_id=(current.id if current else f"booking-{booking_id}") + suffix)
                return []
            if wait > timedelta(0):
                _time.sleep(wait.total_seconds())
        booking = db.session.get(Booking, booking_id)
        if booking is None:
            return []
        try:
            entries = apply_deadlines(booking, clock.now())
            done = [f"{e.from_state}->{e.to_state}" for e in entries]
            db.session.commit()
        except IllegalTransition:
            # Someone else (operator, reconcile, another job) moved the booking first.
            db.session.rollback()
            return []
        if done:
            log.info("booking %s: %s", booking.ref, ", ".join(done))
        return done

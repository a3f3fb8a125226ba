"""Deadline timers: RQ jobs at a booking's deadlines, idempotent, re-reading the booking.

A job only asks :func:`reflexion.sessions.lifecycle.apply_deadlines` to apply what is due
at the checked clock's now; if the operator (or another job, or the reconcile sweep) got
there first, it does nothing.
"""
import logging
import time as _time
from datetime import timedelta

from reflexion import clock
from reflexion.booking.states import State
from reflexion.extensions import db
from reflexion.jobs.queue import job_app
from reflexion.jobs.scheduling import cancel, schedule_at
from reflexion.sessions.deadlines import hard_end, no_answer_deadline

log = logging.getLogger(__name__)

#: Jobs are put on the queue this much before their deadline and wait out the rest, so the
#: scheduler's one-second tick does not make a transition late.
LEAD = timedelta(seconds=1.5)


def _job_id(booking_id: int, purpose: str) -> str:
    return f"booking-{booking_id}-{purpose}"


def deadlines_of(booking) -> dict[str, object]:
    """The timer instants that matter in the booking's current state, by purpose."""
    state = State(booking.state)
    if state == State.AWAITING_PAYMENT:
        return {"payment": booking.payment_deadline}
    if state in (State.CONFIRMED, State.DUE, State.ANSWERED, State.IN_PROGRESS):
        return {"start": booking.start_at, "no-answer": no_answer_deadline(booking), "end": hard_end(booking)}
    return {}


ALL_PURPOSES = ("payment", "start", "no-answer", "end")


def schedule_deadlines(booking):
    """(Re)schedule the booking's deadline jobs for its current state; cancel the others."""
    wanted = deadlines_of(booking)
    for purpose in ALL_PURPOSES:
        job_id = _job_id(booking.id, purpose)
        when = wanted.get(purpose)
        if when is None:
            cancel(job_id)
        else:
            schedule_at(when - LEAD, run_deadlines, booking.id, when.isoformat(), job_id=job_id)


def cancel_deadlines(booking_id: int):
    for purpose in ALL_PURPOSES:
        cancel(_job_id(booking_id, purpose))


def run_deadlines(booking_id: int, deadline_iso: str | None = None):
    """Job: apply whatever deadline transitions are due for one booking."""
    from datetime import datetime

    from reflexion.booking.models import Booking
    from reflexion.sessions.lifecycle import apply_deadlines

    app = job_app()
    with app.app_context():
        if deadline_iso:
            wait = (datetime.fromisoformat(deadline_iso) - clock.now()).total_seconds()
            if 0 < wait <= LEAD.total_seconds() + 1:
                _time.sleep(wait)
        booking = db.session.get(Booking, booking_id)
        if booking is None:
            return []
        entries = apply_deadlines(booking, clock.now())
        db.session.commit()
        if entries:
            from reflexion.booking import hooks

            for entry in entries:
                hooks.state_changed(booking, entry)
            db.session.commit()
        return [f"{e.from_state}->{e.to_state}" for e in entries]


def schedule_deadlines_by_id(booking_id: int):
    """After commit: re-read the booking and schedule its timers (see :func:`schedule_deadlines`)."""
    from reflexion.booking.models import Booking

    booking = db.session.get(Booking, booking_id)
    if booking is not None:
        schedule_deadlines(booking)

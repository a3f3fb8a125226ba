"""Deadline timers: RQ jobs at a booking's deadlines, idempotent, re-reading the booking.

Which timers a booking needs comes from :mod:`reflexion.conversations.deadlines`. A job only asks
:func:`reflexion.conversations.lifecycle.apply_deadlines` to apply what is due
at the checked clock's now; if the operator (or another job, or the reconcile sweep) got
there first, it does nothing. Job ids are ``booking-<id>-<purpose>``: scheduling again moves
a job, and a booking that is cancelled, rescheduled or finished drops the jobs it no longer
needs (see :func:`schedule_deadlines`, run after every state change: the
domain's ``state_changed`` signal).
"""
import logging
import time as _time
from datetime import datetime, timedelta

from rq import get_current_job
from sqlalchemy import select

from reflexion import clock, signals
from reflexion.booking.models import Booking
from reflexion.booking.states import LIVE_STATES, IllegalTransition
from reflexion.effects import after_commit
from reflexion.db import unit_of_work
from reflexion.extensions import db
from reflexion.jobs import periodic
from reflexion.jobs.queue import DEFAULT, get_queue, job_app
from reflexion.jobs.scheduling import cancel, schedule_at
from reflexion.mail import messages, tasks
from reflexion.mail.models import OutgoingEmail
from reflexion.conversations.deadlines import PURPOSES, needs_reminder, reminder_time, timer_instants
from reflexion.conversations.lifecycle import apply_deadlines

log = logging.getLogger(__name__)

#: Jobs are put on the queue this much before their deadline and wait out the rest, so the
#: scheduler's one-second tick does not make a transition late.
LEAD = timedelta(seconds=1.5)
#: A job that arrives earlier than this before its deadline is put back instead of waiting.
MAX_WAIT = LEAD + timedelta(seconds=3)

def job_id_for(booking_id: int, purpose: str) -> str:
    return f"booking-{booking_id}-{purpose}"


def timer_plan(booking) -> dict[str, str]:
    """The booking's timers in its current state, as plain values (purpose -> ISO instant)."""
    return {purpose: when.isoformat() for purpose, when in timer_instants(booking).items()}


def apply_timer_plan(booking_id: int, plan: dict[str, str]):
    """(Re)schedule a booking's deadline jobs to ``plan``; cancel the others.

    Takes plain values, so it runs after the commit without touching the (committed) session.
    """
    for purpose in PURPOSES:
        job_id = job_id_for(booking_id, purpose)
        when = plan.get(purpose)
        if when is None:
            cancel(job_id)
        else:
            schedule_at(datetime.fromisoformat(when) - LEAD, run_deadlines, booking_id, when, job_id=job_id)
    # Whoever schedules timers also makes sure the safety net runs (plain ``rq worker`` too).
    periodic.ensure_reconcile()


def reschedule_after_commit(booking, **_):
    """Receiver of ``booking_created``/``state_changed``/``booking_moved``: move the timers once the change is saved."""
    after_commit(apply_timer_plan, booking.id, timer_plan(booking))


def connect_signals():
    """Subscribe the timers to the domain's signals (at app start; connecting twice is harmless)."""
    signals.booking_created.connect(reschedule_after_commit)
    signals.state_changed.connect(reschedule_after_commit)
    signals.booking_moved.connect(reschedule_after_commit)


def schedule_deadlines(booking):
    """(Re)schedule the booking's deadline jobs for its current state; cancel the others."""
    apply_timer_plan(booking.id, timer_plan(booking))


def cancel_deadlines(booking_id: int):
    """Drop every timer job of a booking."""
    apply_timer_plan(booking_id, {})


def schedule_deadlines_by_id(booking_id: int):
    """Re-read the booking and schedule its timers (see :func:`schedule_deadlines`)."""
    booking = db.session.get(Booking, booking_id)
    if booking is None:
        cancel_deadlines(booking_id)
    else:
        schedule_deadlines(booking)


def run_deadlines(booking_id: int, deadline_iso: str | None = None):
    """Job: apply whatever deadline transitions are due for one booking; return them as text."""
    app = job_app()
    with app.app_context():
        if deadline_iso:
            deadline = datetime.fromisoformat(deadline_iso)
            wait = deadline - clock.now()
            if wait > MAX_WAIT:
                # Far too early (the clock offset moved since scheduling): come back later.
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
            with unit_of_work():
                entries = apply_deadlines(booking, clock.now())
                done = [f"{e.from_state}->{e.to_state}" for e in entries]
        except IllegalTransition:
            # Someone else (operator, reconcile, another job, a move) changed the booking first.
            done = []
        if done:
            log.info("booking %s: %s", booking.ref, ", ".join(done))
        elif deadline_iso:
            # Nothing was due after all: the booking changed (a move) while this job waited or ran.
            # Whoever changed it rescheduled this very job id while it was running, which RQ then
            # marks finished; re-plan the timers from a job of its own once this one is done.
            get_queue(DEFAULT).enqueue(replan_timers, booking_id, job_id=f"booking-{booking_id}-replan",
                                       description=f"re-plan the timers of booking {booking_id}")
        return done


def replan_timers(booking_id: int) -> dict:
    """Job: schedule a booking's timers for its current state again (see :func:`run_deadlines`)."""
    app = job_app()
    with app.app_context():
        booking = db.session.get(Booking, booking_id)
        plan = timer_plan(booking) if booking is not None else {}
        apply_timer_plan(booking_id, plan)
        return plan


def restore_timers(now=None) -> int:
    """Put back the deadline timers and reminders of every live booking; return how many bookings.

    Run at worker start: Redis may have restarted without its data. Scheduling is idempotent
    (a job id is per booking and purpose), so timers that still exist are only moved onto
    the same instant. The caller needs no commit: nothing in the database changes.
    """
    now = now or clock.now()
    live = db.session.scalars(
        select(Booking).where(Booking.state.in_([s.value for s in LIVE_STATES]), Booking.end_at > now)
    ).all()
    reminded = set(db.session.scalars(
        select(OutgoingEmail.booking_id).where(OutgoingEmail.kind == messages.REMINDER)))
    for booking in live:
        schedule_deadlines(booking)
        if booking.id not in reminded and needs_reminder(booking, now):
            # A reminder missed while no worker ran is sent now, as long as the session is ahead.
            when = max(reminder_time(booking), now + timedelta(seconds=5))
            tasks.schedule_reminder(booking.id, when.isoformat())
    if live:
        log.info("restored the timers of %d live booking(s)", len(live))
    return len(live)

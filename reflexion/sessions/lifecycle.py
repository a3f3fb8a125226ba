"""Deadline-driven transitions: what the clock alone decides about a booking.

:func:`due_transitions` is pure: given a booking and an instant it lists the moves whose
deadline has passed, each with the deadline instant. :func:`apply_deadlines` makes them,
recorded at their deadlines (so a late worker still writes the right instant). The timer
jobs, the reconcile sweep and the operator panel all use these, and nothing else decides
deadlines.
"""
from datetime import datetime

from reflexion.booking.states import Actor, State, transition
from reflexion.sessions.deadlines import hard_end, no_answer_deadline


def due_transitions(booking, now: datetime) -> list[tuple[State, datetime]]:
    """Return the deadline transitions due at ``now``, in order, each with its instant."""
    state = State(booking.state)
    moves: list[tuple[State, datetime]] = []
    if state == State.AWAITING_PAYMENT:
        if booking.payment_deadline is not None and booking.payment_deadline <= now:
            moves.append((State.EXPIRED, booking.payment_deadline))
        return moves
    no_answer, end = no_answer_deadline(booking), hard_end(booking)
    if state == State.CONFIRMED and booking.start_at <= now:
        moves.append((State.DUE, booking.start_at))
        state = State.DUE
    if state == State.DUE and no_answer <= now:
        moves.append((State.NO_SHOW, no_answer))
        return moves
    if state in (State.ANSWERED, State.IN_PROGRESS) and end <= now:
        moves.append((State.COMPLETED, end))
    return moves


DEADLINE_NOTES = {
    State.EXPIRED: "payment deadline passed",
    State.DUE: "booked start reached",
    State.NO_SHOW: "not answered within the no-answer window",
    State.COMPLETED: "hard end reached",
}


def apply_deadlines(booking, now: datetime) -> list:
    """Apply every due deadline transition as the worker; return the audit entries written.

    Each entry is recorded at its deadline, and the booking hooks run for it (timers are
    rescheduled, the client is told) once the caller commits. If someone else moved the
    booking meanwhile, :class:`~reflexion.booking.states.IllegalTransition` propagates.
    """
    from reflexion.booking import hooks

    entries = []
    for to, at in due_transitions(booking, now):
        entry = transition(booking, to, actor=Actor.WORKER, at=at, note=DEADLINE_NOTES.get(to))
        if to in (State.NO_SHOW, State.COMPLETED):
            booking.ended_at = at
        hooks.state_changed(booking, entry)
        entries.append(entry)
    return entries


def next_deadline(booking) -> datetime | None:
    """The next instant at which the clock alone will change this booking, if any."""
    state = State(booking.state)
    if state == State.AWAITING_PAYMENT:
        return booking.payment_deadline
    if state == State.CONFIRMED:
        return booking.start_at
    if state == State.DUE:
        return no_answer_deadline(booking)
    if state in (State.ANSWERED, State.IN_PROGRESS):
        return hard_end(booking)
    return None

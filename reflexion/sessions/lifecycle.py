"""Applying the clock's decisions: the deadline transitions of :mod:`reflexion.sessions.deadlines`.

:func:`apply_deadlines` makes the moves that :func:`~reflexion.sessions.deadlines.due_transitions`
lists, recorded at their deadlines (so a late worker still writes the right instant). The
timer jobs, the reconcile sweep and the operator's panel and actions all call it.
"""
from datetime import datetime

from reflexion import signals
from reflexion.booking.states import Actor, State
from reflexion.booking.transitions import transition
from reflexion.sessions.deadlines import NOTES, due_transitions


def apply_deadlines(booking, now: datetime) -> list:
    """Apply every due deadline transition as the worker; return the audit entries written.

    Each entry is recorded at its deadline, and ``state_changed`` is sent for it (timers
    are rescheduled and the client is told once the caller commits). If someone else moved the
    booking meanwhile, :class:`~reflexion.booking.states.IllegalTransition` propagates.
    """
    entries = []
    for to, at in due_transitions(booking, now):
        entry = transition(booking, to, actor=Actor.WORKER, at=at, code=NOTES.get(to))
        if to in (State.NO_SHOW, State.COMPLETED):
            booking.ended_at = at
        signals.state_changed.send(booking, entry=entry)
        entries.append(entry)
    return entries

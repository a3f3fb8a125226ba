"""Applying the clock's decisions: the deadline transitions of :mod:`reflexion.conversations.deadlines`.

:func:`apply_deadlines` makes the moves that :func:`~reflexion.conversations.deadlines.due_transitions`
lists, recorded at their deadlines (so a late worker still writes the right instant). The
timer jobs, the reconcile sweep and the operator's actions call it; the panel's (read-only) GET
shows the same moves without writing them (:class:`AsTheClockHasIt`).
"""
from datetime import datetime

from reflexion import signals
from reflexion.booking.models import Transition
from reflexion.booking.states import Actor, State
from reflexion.booking.transitions import transition
from reflexion.conversations.deadlines import NOTES, due_transitions


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


class AsTheClockHasIt:
    """A booking as the clock has decided it at ``now``, for display only (nothing is written).

    Deadlines that have passed but that the worker has not recorded yet (its timer is due this
    very second, or the sweep is on its way) are applied in memory: the state, the end and the
    audit lines they will write (same instant, same actor, same note). The panel's GET shows
    this; the timer job and the reconcile sweep record it, and an operator's action records it
    first too (:func:`reflexion.conversations.actions.catch_up`). Everything else reads through to
    the booking.
    """

    def __init__(self, booking, now: datetime):
        self._booking = booking
        moves = due_transitions(booking, now)
        self.pending = bool(moves)
        self.state = booking.state
        self.ended_at = booking.ended_at
        lines = []
        for to, at in moves:
            lines.append(Transition(from_state=self.state, to_state=to.value, actor=Actor.WORKER.value,
                                    at=at, note_code=NOTES.get(to)))
            self.state = to.value
            if to in (State.NO_SHOW, State.COMPLETED):
                self.ended_at = at
        self.transitions = list(booking.transitions) + lines if lines else booking.transitions

    def __getattr__(self, name):
        return getattr(self._booking, name)

"""Cancelling a booking: by the client while it is unpaid, by the operator while it is ahead.

The operator panel and the command line call :func:`cancel_booking`; the client's booking
page calls it with ``Actor.CLIENT``. Who may cancel what is the lifecycle's rule
(:data:`reflexion.booking.states.ALLOWED`), checked by the one transition function.
"""
from reflexion import signals
from reflexion.booking.notes import Note
from reflexion.booking.states import Actor, State, can_transition
from reflexion.booking.transitions import transition
from reflexion.calendar.invite import raise_sequence


def can_cancel(booking, actor: Actor) -> bool:
    """Tell whether ``actor`` may cancel ``booking`` now."""
    return can_transition(booking, State.CANCELLED, actor)


def cancel_booking(booking, *, actor: Actor, note: str | None = None):
    """Cancel ``booking`` and return the audit entry; the caller commits.

    - the client may cancel only while the booking awaits payment;
    - the operator may cancel while it awaits payment or is confirmed (the session not begun).

    The slot is free again at once. The invite's SEQUENCE goes up; like every state change
    it sends ``state_changed``, whose receivers drop the deadline timers and the reminder
    after the commit and queue the cancellation e-mail with a ``METHOD:CANCEL`` invite (same
    UID, higher SEQUENCE) that removes the event from the client's calendar.
    Raises :class:`reflexion.booking.states.IllegalTransition` otherwise.
    """
    actor = Actor(actor)
    code = Note.CANCELLED_BY_CLIENT if actor == Actor.CLIENT else Note.CANCELLED_BY_OPERATOR
    entry = transition(booking, State.CANCELLED, actor=actor, code=code, note=note)
    raise_sequence(booking)
    signals.state_changed.send(booking, entry=entry)
    return entry

"""Cancelling a booking: by the client until the session starts, by the operator while it is ahead.

The operator panel and the command line call :func:`cancel_booking`; the client's booking
page calls it with ``Actor.CLIENT``. Who may cancel what is the lifecycle's rule
(:data:`reflexion.booking.states.ALLOWED`), checked by the one transition function; a paid
booking that is cancelled gets its refund recorded per the policy (:mod:`reflexion.booking.refunds`).
"""
from reflexion import clock, signals
from reflexion.booking import refunds
from reflexion.booking.notes import Note
from reflexion.booking.states import Actor, IllegalTransition, State, can_transition
from reflexion.booking.transitions import transition
from reflexion.calendar.invite import raise_sequence


def can_cancel(booking, actor: Actor) -> bool:
    """Tell whether ``actor`` may cancel ``booking`` now (a paid one: only before its start)."""
    if not can_transition(booking, State.CANCELLED, actor):
        return False
    return State(booking.state) == State.AWAITING_PAYMENT or booking.start_at > clock.now()


def cancel_booking(booking, *, actor: Actor, note: str | None = None, withdrawal: bool = False):
    """Cancel ``booking`` and return the audit entry; the caller commits.

    - the client may cancel while the booking awaits payment, and a paid one until its start
      (refund: ``REFUND_PERCENT_BEFORE_CUTOFF`` / ``_AFTER_CUTOFF`` of the fee);
    - the operator may cancel while it awaits payment or is confirmed (refund: all of it).

    The slot is free again at once. The invite's SEQUENCE goes up; like every state change
    it sends ``state_changed``, whose receivers drop the deadline timers and the reminder
    after the commit and queue the cancellation e-mail (with a ``METHOD:CANCEL`` invite, same
    UID, higher SEQUENCE, for a client who had the invite) stating what happens to the fee.
    ``withdrawal``: the client declared withdrawal (:mod:`reflexion.booking.withdrawal`): the
    audit note says so and a paid fee is refunded in full.
    Raises :class:`reflexion.booking.states.IllegalTransition` otherwise.
    """
    actor = Actor(actor)
    now = clock.now()
    was_paid = State(booking.state) != State.AWAITING_PAYMENT
    if was_paid and booking.start_at <= now:
        raise IllegalTransition(booking, State.CANCELLED, actor)
    code = Note.CANCELLED_BY_CLIENT if actor == Actor.CLIENT else Note.CANCELLED_BY_OPERATOR
    if withdrawal:
        code = Note.WITHDRAWN
    entry = transition(booking, State.CANCELLED, actor=actor, code=code, note=note, at=now)
    raise_sequence(booking)
    if was_paid:
        refunds.record_refund(booking, actor, now, withdrawal=withdrawal)
    signals.state_changed.send(booking, entry=entry)
    return entry

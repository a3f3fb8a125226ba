"""Refunds of paid bookings that are cancelled: the policy, the amount, due -> refunded.

The policy comes from the settings: a client who cancels before the cut-off
(``CHANGE_CUTOFF_HOURS`` before the start) gets ``REFUND_PERCENT_BEFORE_CUTOFF`` percent of
what they paid back, after it ``REFUND_PERCENT_AFTER_CUTOFF``; a cancellation by the
operator is always refunded in full. The refund is stored on the booking (``refund_cents``,
``refund_state`` "due" then "refunded") and announced with ``signals.refund_due`` and, once
the operator has paid it out, ``signals.refund_completed``.
"""
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select

from reflexion import clock, signals
from reflexion.booking.models import Booking, Transition
from reflexion.booking.notes import Note
from reflexion.booking.states import Actor, State
from reflexion.extensions import db
from reflexion.sessions.deadlines import change_cutoff
from reflexion.settings import setting

DUE = "due"
REFUNDED = "refunded"
#: Audit note when the operator records the refund as paid out.


class RefundError(Exception):
    """No refund is due for this booking (nothing to mark as paid out)."""


def paid_cents(booking) -> int:
    """What the client paid for ``booking`` (its recorded payments; the fee if none was itemised)."""
    recorded = sum(p.amount_cents for p in booking.payments)
    if recorded:
        return recorded
    return booking.fee_cents if booking.confirmed_at is not None else 0


def refund_percent(booking, actor: Actor, now: datetime, withdrawal: bool = False) -> int:
    """The share of the fee refunded when ``actor`` cancels ``booking`` at ``now``.

    A withdrawal (§ 355, § 357a BGB) is refunded in full: it is accepted only before the
    session starts, so no part of the service (early start or not) has been provided yet.
    """
    if Actor(actor) != Actor.CLIENT or withdrawal:
        return 100
    key = "REFUND_PERCENT_BEFORE_CUTOFF" if now < change_cutoff(booking) else "REFUND_PERCENT_AFTER_CUTOFF"
    return max(0, min(100, int(setting(key))))


def refund_cents_for(booking, actor: Actor, now: datetime, withdrawal: bool = False) -> int:
    """The amount refunded (in cents) if ``actor`` cancelled ``booking`` at ``now``."""
    return paid_cents(booking) * refund_percent(booking, actor, now, withdrawal) // 100


def record_refund(booking, actor: Actor, now: datetime | None = None, withdrawal: bool = False) -> int:
    """Store the refund a cancellation of a paid booking gives; return the cents (0: none).

    Sends ``signals.refund_due`` (amount as :class:`~decimal.Decimal` in the booking's currency)
    when something is to be paid back. The caller commits.
    """
    now = now or clock.now()
    cents = refund_cents_for(booking, actor, now, withdrawal)
    booking.refund_cents = cents
    if cents > 0:
        booking.refund_state = DUE
        booking.refund_due_at = now
        signals.refund_due.send(booking, amount=Decimal(cents) / 100)
    return cents


def mark_refunded(booking, *, actor: Actor = Actor.OPERATOR) -> Transition:
    """Record that the due refund of ``booking`` was paid out; the caller commits."""
    if booking.refund_state != DUE:
        raise RefundError("no refund due")
    now = clock.now()
    booking.refund_state = REFUNDED
    booking.refunded_at = now
    entry = Transition(booking=booking, from_state=booking.state, to_state=booking.state,
                       actor=Actor(actor).value, at=now, note_code=Note.REFUNDED)
    booking.transitions.append(entry)
    signals.refund_completed.send(booking)
    return entry


def refund_due_bookings():
    """Cancelled bookings whose refund the operator still has to pay out, oldest first."""
    return list(db.session.scalars(
        select(Booking).where(Booking.refund_state == DUE, Booking.state == State.CANCELLED.value)
        .order_by(Booking.refund_due_at)))

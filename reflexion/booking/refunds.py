"""Refunds of paid bookings that are cancelled: the policy, the amount, due -> refunded.

The policy comes from the settings: a client who cancels before the cut-off
(``CHANGE_CUTOFF_HOURS`` before the start) gets ``REFUND_PERCENT_BEFORE_CUTOFF`` percent of
what they paid back, after it ``REFUND_PERCENT_AFTER_CUTOFF``; a cancellation by the
operator is always refunded in full. The refund is stored on the booking (``refund_cents``,
``refund_state`` "due" then "refunded") and announced with ``signals.refund_due`` and, once
the operator has paid it out, ``signals.refund_completed``. A booking paid online is refunded
through the provider's API instead (:mod:`reflexion.payments.stripe_refunds`): "due", then
"pending" while the refund is in flight, then "refunded" (or "due" again for the operator if
the provider refuses it).
"""
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select, update

from reflexion import clock, signals
from reflexion.booking.models import Booking, Transition
from reflexion.booking.notes import Note
from reflexion.booking.states import Actor, State
from reflexion.extensions import db
from reflexion.conversations.deadlines import change_cutoff
from reflexion.settings import setting

DUE = "due"
#: The refund is being paid back through the online payment provider (not the operator's to do).
PENDING = "pending"
REFUNDED = "refunded"


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


def mark_refunded(booking, *, actor: Actor = Actor.OPERATOR, expected: str = DUE,
                  params: dict | None = None) -> Transition:
    """Record that the due refund of ``booking`` was paid out; the caller commits.

    ``expected``: the refund state it leaves — "due" for the operator, "pending" for the
    provider's refund job (so neither can complete the other's refund twice).
    """
    if booking.refund_state != expected:
        raise RefundError("no refund due")
    now = clock.now()
    # Compare and set in the database: the provider's job and its webhook (or two operator tabs)
    # completing one refund at the same moment complete it once; the other gets RefundError.
    done = db.session.execute(
        update(Booking).where(Booking.id == booking.id, Booking.refund_state == expected)
        .values(refund_state=REFUNDED, refunded_at=now).execution_options(synchronize_session=False))
    if done.rowcount != 1:
        raise RefundError("no refund due")
    booking.refund_state = REFUNDED
    booking.refunded_at = now
    entry = Transition(booking=booking, from_state=booking.state, to_state=booking.state,
                       actor=Actor(actor).value, at=now, note_code=Note.REFUNDED, note_params=params or None)
    db.session.add(entry)  # first: loading a job's fresh booking's collection below autoflushes
    booking.transitions.append(entry)
    signals.refund_completed.send(booking)
    return entry


def refund_due_bookings():
    """Bookings whose refund is still to be paid out, oldest first: cancelled ones, and expired
    ones paid online too late; due (the operator's to do) or pending (the provider's, in flight)."""
    return list(db.session.scalars(
        select(Booking).where(Booking.refund_state.in_((DUE, PENDING)),
                              Booking.state.in_((State.CANCELLED.value, State.EXPIRED.value)))
        .order_by(Booking.refund_due_at)))

"""Payment confirmation: record the fee as paid, confirm the booking, issue confirmation data.

Today the operator confirms bank transfers by hand. A payment provider plugs in at
:func:`confirm_payment` too: its webhook view verifies the provider's signature, finds the
booking and calls this with ``method`` and ``provider_reference`` (and the worker actor).
"""
import secrets

from reflexion import clock
from reflexion.booking import codes
from reflexion.booking.models import Payment
from reflexion.booking.states import Actor, State, transition


class PaymentError(Exception):
    pass


def confirm_payment(booking, *, actor: Actor = Actor.OPERATOR, method: str = "bank_transfer",
                    amount_cents: int | None = None, currency: str | None = None, paid_at=None,
                    provider_reference: str | None = None):
    """Record the payment and move ``booking`` from awaiting_payment to confirmed.

    Issues the confirmation data (stored only as a hash) and returns the audit entry.
    Raises :class:`reflexion.booking.states.IllegalTransition` if the booking is not awaiting payment.
    """
    now = clock.now()
    entry = transition(booking, State.CONFIRMED, actor=actor, at=now, note=f"paid by {method}")
    booking.payments.append(Payment(
        amount_cents=booking.fee_cents if amount_cents is None else amount_cents,
        currency=currency or booking.currency, method=method, provider_reference=provider_reference,
        paid_at=paid_at or now, recorded_at=now, recorded_by=actor.value,
    ))
    issue_confirmation_data(booking)
    booking.confirmed_at = now
    booking.ical_sequence += 1
    from reflexion.booking import hooks

    hooks.state_changed(booking, entry)
    return entry


def issue_confirmation_data(booking):
    """Give the booking fresh confirmation data; keep only its hash and a random nonce.

    The digits are derived from the app secret and the nonce (see
    :func:`reflexion.booking.codes.confirmation_code_for`), so the client's booking page can
    show them again while the database holds no readable copy.
    """
    booking.confirmation_nonce = secrets.token_hex(16)
    booking.confirmation_hash = codes.hash_confirmation_code(codes.confirmation_code_for(booking))
    booking.verify_failures = 0

"""Payment confirmation: record the fee as paid, confirm the booking, issue confirmation data.

Today the operator confirms bank transfers by hand (panel, or ``flask bookings mark-paid``).
A payment provider plugs in at :func:`confirm_payment` too, and nowhere else: its webhook
view verifies the provider's signature, finds the booking by reference and calls this with
``method``, ``amount_cents``, ``currency``, ``paid_at`` and ``provider_reference``. (Only the
operator may confirm today; :data:`reflexion.booking.states.ALLOWED` would gain the actor
the provider acts as.)
"""
import logging
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

from flask import current_app

from reflexion import clock, signals
from reflexion.booking import codes
from reflexion.booking.methods import METHOD_LABELS  # noqa: F401 (re-exported: forms and tests import it here)
from reflexion.booking.models import DEFAULT_PAYMENT_METHOD, Payment
from reflexion.booking.notes import Note
from reflexion.booking.states import CONFIRMED_STATES, Actor, State
from reflexion.booking.transitions import transition

log = logging.getLogger(__name__)


class PaymentError(Exception):
    """A payment that cannot be recorded (the booking lacks what confirmation needs)."""


def confirm_payment(booking, *, actor: Actor = Actor.OPERATOR, method: str = DEFAULT_PAYMENT_METHOD,
                    amount_cents: int | None = None, currency: str | None = None, paid_at=None,
                    provider_reference: str | None = None, prepared: "PreparedConfirmations | None" = None):
    """Record the payment and move ``booking`` from awaiting_payment to confirmed.

    Records the :class:`~reflexion.booking.models.Payment` (amount, currency, method, instant),
    issues the confirmation data (stored only as a hash), raises the invite's SEQUENCE and
    returns the audit entry; after the commit the client gets the confirmation e-mail with
    the invite and the reminder is scheduled. The caller commits.
    Raises :class:`reflexion.booking.states.IllegalTransition` if the booking is not awaiting
    payment, :class:`PaymentError` if it has no call handle. ``prepared``: confirmation data
    hashed ahead (:class:`PreparedConfirmations`, for a statement import confirming many).
    """
    actor = Actor(actor)
    if not (booking.call_handle or "").strip():
        # PRODUCT.md §2 rule 2: without the client's call handle the operator cannot call.
        raise PaymentError("the booking has no call handle")
    now = clock.now()
    entry = transition(booking, State.CONFIRMED, actor=actor, at=now, code=Note.PAID,
                       params={"method": method})
    booking.payments.append(Payment(
        amount_cents=booking.fee_cents if amount_cents is None else amount_cents,
        currency=currency or booking.currency, method=method, provider_reference=provider_reference,
        paid_at=paid_at or now, recorded_at=now, recorded_by=actor.value,
    ))
    issue_confirmation_code(booking, prepared)
    booking.confirmed_at = now
    booking.ical_sequence += 1
    signals.state_changed.send(booking, entry=entry)
    return entry


def issue_confirmation_code(booking, prepared: "PreparedConfirmations | None" = None):
    """Give the booking fresh confirmation data; keep only its hash and a random nonce.

    The digits are derived from the app secret and the nonce (see
    :func:`reflexion.booking.codes.confirmation_code_for`), so the client's booking page can
    show them again while the database holds no readable copy. With ``prepared`` holding data
    for this booking, its nonce and hash are taken from there (same derivation, same hash).
    """
    if prepared is not None and prepared.has(booking):
        booking.confirmation_nonce, booking.confirmation_hash = prepared.take(booking)
    else:
        booking.confirmation_nonce = codes.new_confirmation_nonce()
        booking.confirmation_hash = codes.hash_confirmation_code(codes.confirmation_code_for(booking))
    booking.verify_failures = 0


class PreparedConfirmations:
    """Confirmation data for several bookings, hashed side by side ahead of their confirmation.

    The hash is deliberately slow (scrypt, ~0.1 s); ``hashlib.scrypt`` releases the GIL, so
    :meth:`prepare` hands it to worker threads and the caller goes on (a statement import keeps
    matching and storing lines meanwhile). Nothing is stored until :func:`confirm_payment` takes
    the data; unused data is simply dropped. Use as a context manager (the threads end with it).
    """

    def __init__(self, workers: int = 2):
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="confirmation-hash")
        self._secret = current_app.config["SECRET_KEY"]
        self._pending = {}

    def prepare(self, booking):
        nonce = codes.new_confirmation_nonce()
        code = codes.confirmation_code_from(booking.ical_uid, nonce, self._secret)
        self._pending[id(booking)] = (booking, nonce, self._pool.submit(codes.hash_confirmation_code, code))

    def has(self, booking) -> bool:
        pending = self._pending.get(id(booking))
        return pending is not None and pending[0] is booking

    def take(self, booking) -> tuple[str, str]:
        """(nonce, hash) for ``booking``, waiting for its hash if it is still being computed."""
        _, nonce, future = self._pending.pop(id(booking))
        return nonce, future.result()

    def close(self):
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._pending.clear()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def shown_confirmation_code(booking) -> str | None:
    """The confirmation data to show on the client's booking page, or None.

    None before payment, after the session, and when the derived digits no longer match the
    stored hash (the app's SECRET_KEY changed, or differs between hosts): showing digits the
    operator cannot verify would end the call, so the page asks the client to get in touch.
    """
    if booking.confirmation_nonce is None or State(booking.state) not in SHOWN_IN:
        return None
    code = codes.confirmation_code_for(booking)
    fits = codes.nonce_fits_secret(booking.confirmation_nonce)
    if fits is None:  # issued before nonces carried their secret's check: the slow hash decides
        fits = _derived_code_matches(booking.confirmation_hash, code)
    if not fits:
        log.warning(
            "booking %s: confirmation data do not match their hash (SECRET_KEY changed?)", booking.id)
        return None
    return code


@lru_cache(maxsize=4096)
def _derived_code_matches(stored_hash: str, code: str) -> bool:
    """The slow hash check, once per process for each issued code: the page is viewed often,
    and the same hash and derived digits always give the same answer (about 140 ms saved per
    view). A changed SECRET_KEY derives other digits, which are checked afresh."""
    return codes.check_confirmation_code(stored_hash, code)


#: States in which the client's booking page shows the confirmation data.
SHOWN_IN = CONFIRMED_STATES

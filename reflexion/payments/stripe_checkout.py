"""Online payment with Stripe Checkout: the session a client pays in, and the webhook that confirms.

Off until both deployment secrets are set (``STRIPE_SECRET_KEY``, ``STRIPE_WEBHOOK_SECRET``,
environment only: never in the settings table, never logged): :func:`enabled`.

- The client's booking page (awaiting payment) offers "Pay online": :func:`start_checkout`
  creates a Checkout Session (mode ``payment``, the booking's fee and currency, the booking
  reference as ``client_reference_id`` and metadata, the page's language, the methods of
  :data:`PAYMENT_METHOD_TYPES`) and the view redirects the client to Stripe's page. Coming
  back confirms nothing: only the webhook does.
- Stripe's signed webhook (:func:`verify_event`, then :func:`handle_event`) confirms the
  booking through :func:`reflexion.booking.payments.confirm_payment` — the one place a payment
  enters — with method ``stripe`` and the PaymentIntent id, once Stripe says the session is
  ``paid`` and its amount and currency are the booking's. Each event id is kept
  (:class:`~reflexion.payments.models.StripeEvent`): a retry or duplicate does nothing; the
  PaymentIntent is checked too, so ``completed`` and ``async_payment_succeeded`` of one SEPA
  payment, in either order, confirm once. A wrong amount or currency is not confirmed but
  noted for the operator; money for a booking that expired or was cancelled meanwhile becomes
  a refund due (:mod:`reflexion.booking.refunds`), paid back through Stripe's API by
  :mod:`reflexion.payments.stripe_refunds`.

Domain functions flush; the view commits (one request, one transaction).
"""
import logging
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import stripe
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from reflexion import clock, signals
from reflexion.booking.codes import REF_PATTERN, normalise_reference
from reflexion.booking.methods import ONLINE_METHOD
from reflexion.booking.models import Booking, Transition
from reflexion.booking.notes import Note
from reflexion.booking.payments import PaymentError, confirm_payment
from reflexion.booking.refunds import DUE, PENDING, REFUNDED, RefundError, mark_refunded
from reflexion.booking.states import Actor, State, can_transition
from reflexion.extensions import db
from reflexion.i18n import format_instant
from reflexion.payments.models import StripeCheckout, StripeEvent

log = logging.getLogger(__name__)

METHOD = ONLINE_METHOD
#: What the Checkout page offers, by the booking's currency (each must be switched on in Stripe's
#: dashboard under Settings → Payment methods). EUR: cards and SEPA Direct Debit (its money arrives
#: days later: ``checkout.session.async_payment_succeeded``). SEK: cards, Klarna and Swish (Stripe
#: documents both for Checkout in ``sek``).
PAYMENT_METHOD_TYPES = {
    "EUR": ("card", "sepa_debit"),
    "SEK": ("card", "klarna", "swish"),
}
#: How the booking page names each method (kept with the list above).
METHOD_NAMES = {"card": _l("card"), "sepa_debit": _l("SEPA Direct Debit"), "klarna": _l("Klarna"),
                "swish": _l("Swish")}
#: Methods whose money Stripe confirms only days later (``async_payment_succeeded``); cards, Klarna
#: and Swish confirm while the client is on Stripe's page.
DELAYED_METHODS = frozenset({"sepa_debit"})
#: The site's languages as Stripe Checkout's ``locale``.
CHECKOUT_LOCALES = {"de": "de", "sv": "sv"}
#: How far the signature's timestamp may be from the checked clock (Stripe's default: 5 minutes).
SIGNATURE_TOLERANCE = timedelta(minutes=5)
#: A Checkout Session lives at least 30 minutes and at most 24 hours (Stripe's bounds).
SESSION_MIN, SESSION_MAX = timedelta(minutes=31), timedelta(hours=23, minutes=59)
#: The events handled; any other type is acknowledged and ignored.
COMPLETED = "checkout.session.completed"
ASYNC_SUCCEEDED = "checkout.session.async_payment_succeeded"
ASYNC_FAILED = "checkout.session.async_payment_failed"
HANDLED = (COMPLETED, ASYNC_SUCCEEDED, ASYNC_FAILED)
#: A refund Stripe settles later (``pending`` in its first answer) or that fails afterwards.
REFUND_UPDATED = "refund.updated"
REFUND_FAILED = "refund.failed"
REFUND_EVENTS = (REFUND_UPDATED, REFUND_FAILED)
#: A refund's statuses that end it without the money going back.
REFUND_LOST = ("failed", "canceled")


class CheckoutUnavailable(Exception):
    """Stripe could not start the payment (unreachable, refused); nothing was saved."""


class InvalidWebhook(Exception):
    """A webhook that is not Stripe's (bad or missing signature), or too old: answered with 400."""


# --- switched on, and the client ------------------------------------------------------------

def enabled(config=None) -> bool:
    """Online payment is offered: both Stripe secrets are set (environment, not settings)."""
    config = config if config is not None else current_app.config
    return bool((config.get("STRIPE_SECRET_KEY") or "").strip() and (config.get("STRIPE_WEBHOOK_SECRET") or "").strip())


def client(max_network_retries: int = 0) -> stripe.StripeClient:
    """A Stripe API client for the configured key, pointed at ``STRIPE_API_BASE`` if set."""
    config = current_app.config
    base = config.get("STRIPE_API_BASE")
    return stripe.StripeClient(
        config["STRIPE_SECRET_KEY"],
        base_addresses={"api": base.rstrip("/")} if base else None,
        max_network_retries=max_network_retries,
        http_client=stripe.new_default_http_client(timeout=float(config.get("STRIPE_TIMEOUT_SECONDS") or 20)),
    )


def can_pay_online(booking) -> bool:
    """The booking page offers "Pay online": switched on, awaiting payment, a currency Stripe serves."""
    return (enabled() and booking.state == State.AWAITING_PAYMENT.value
            and booking.currency in PAYMENT_METHOD_TYPES and bool((booking.call_handle or "").strip()))


def _names_text(methods) -> str:
    names = [str(METHOD_NAMES[m]) for m in methods]
    if len(names) < 2:
        return "".join(names)
    return _("%(first)s or %(last)s", first=", ".join(names[:-1]), last=names[-1])


def methods_text(booking) -> str:
    """The methods offered for the booking's currency, in the current language ("card or Klarna")."""
    return _names_text(PAYMENT_METHOD_TYPES.get(booking.currency, ()))


def processing_text(booking) -> str:
    """What the booking page says while an online payment is processed: how long confirmation takes
    with the methods of the booking's currency (no SEPA Direct Debit where it is not offered)."""
    methods = PAYMENT_METHOD_TYPES.get(booking.currency, ())
    delayed = [m for m in methods if m in DELAYED_METHODS]
    instant = [m for m in methods if m not in DELAYED_METHODS]
    if delayed and instant:
        return _("Thank you: your online payment is being processed. As soon as Stripe confirms it, this page "
                 "shows your confirmation data and we send you the calendar invite by e-mail (by %(instant)s "
                 "within a minute or two, by %(delayed)s after a few business days). Please do not pay twice.",
                 instant=_names_text(instant), delayed=_names_text(delayed))
    if delayed:
        return _("Thank you: your online payment is being processed. As soon as Stripe confirms it, after a few "
                 "business days, this page shows your confirmation data and we send you the calendar invite by "
                 "e-mail. Please do not pay twice.")
    return _("Thank you: your online payment is being processed. As soon as Stripe confirms it, usually within a "
             "minute or two, this page shows your confirmation data and we send you the calendar invite by "
             "e-mail. Please do not pay twice.")


def payment_in_progress(booking) -> bool:
    """A completed checkout whose money is still on its way (SEPA Direct Debit)."""
    return db.session.scalar(select(StripeCheckout.id).where(
        StripeCheckout.booking_id == booking.id, StripeCheckout.status == "processing").limit(1)) is not None


# --- the Checkout Session -------------------------------------------------------------------

def checkout_params(booking, lang: str, *, success_url: str, cancel_url: str, now) -> dict:
    """What the Checkout Session is created with (pure: no API call)."""
    currency = booking.currency
    minutes = "{:g}".format((booking.end_at - booking.start_at).total_seconds() / 60)
    with force_locale(lang):
        name = _("Video conversation, %(minutes)s minutes, on %(when)s (booking %(ref)s)",
                 minutes=minutes, when=format_instant(booking.start_at, "full", lang), ref=booking.ref)
    deadline = booking.payment_deadline or now + SESSION_MAX
    expires = min(max(deadline, now + SESSION_MIN), now + SESSION_MAX)
    return {
        "mode": "payment",
        "line_items": [{"quantity": 1, "price_data": {
            "currency": currency.lower(), "unit_amount": booking.fee_cents, "product_data": {"name": name}}}],
        "payment_method_types": list(PAYMENT_METHOD_TYPES[currency]),
        "client_reference_id": booking.ref,
        "metadata": {"booking_ref": booking.ref},
        "payment_intent_data": {"metadata": {"booking_ref": booking.ref}, "description": booking.ref},
        "locale": CHECKOUT_LOCALES.get(lang, "auto"),
        "success_url": success_url,
        "cancel_url": cancel_url,
        "expires_at": int(expires.timestamp()),
    }


def start_checkout(booking, lang: str, *, success_url: str, cancel_url: str) -> str:
    """Create the Checkout Session for ``booking``; return the URL of Stripe's payment page.

    Raises :class:`CheckoutUnavailable` (nothing stored) if Stripe does not answer or refuses.
    The caller commits the recorded :class:`StripeCheckout`.
    """
    now = clock.now()
    params = checkout_params(booking, lang, success_url=success_url, cancel_url=cancel_url, now=now)
    try:
        session = client(max_network_retries=1).v1.checkout.sessions.create(params=params).to_dict()
    except stripe.StripeError as exc:
        # The error's type and Stripe's request id only: its message may quote what was sent.
        log.warning("stripe: checkout session for booking %s not created (%s, request %s)",
                    booking.id, type(exc).__name__, getattr(exc, "request_id", None))
        raise CheckoutUnavailable() from exc
    url = session.get("url")
    if not url or not session.get("id"):
        log.warning("stripe: checkout session for booking %s came without id or url", booking.id)
        raise CheckoutUnavailable()
    db.session.add(StripeCheckout(session_id=session["id"], booking=booking, amount_cents=booking.fee_cents,
                                  currency=booking.currency, created_at=now, status="open"))
    db.session.flush()
    return url


# --- the webhook ----------------------------------------------------------------------------

def verify_event(payload: bytes, signature: str | None) -> dict:
    """The event, if ``payload`` (the raw request body) carries Stripe's valid signature made
    within :data:`SIGNATURE_TOLERANCE` of the checked clock; else :class:`InvalidWebhook`."""
    secret = current_app.config.get("STRIPE_WEBHOOK_SECRET")
    try:
        # The library checks the HMAC over the raw body; the age is checked below against the
        # checked clock (the library would use the system's, and knows no future limit).
        event = stripe.Webhook.construct_event(payload, signature, secret, tolerance=None)
    except (stripe.SignatureVerificationError, ValueError, UnicodeDecodeError) as exc:
        raise InvalidWebhook(type(exc).__name__) from exc
    stamps = [part.split("=", 1)[1] for part in (signature or "").split(",") if part.startswith("t=")]
    try:
        signed_at = int(stamps[0])
    except (IndexError, ValueError) as exc:
        raise InvalidWebhook("no timestamp") from exc
    age = abs(clock.now().timestamp() - signed_at)
    if age > SIGNATURE_TOLERANCE.total_seconds():
        raise InvalidWebhook("timestamp outside the tolerance")
    return event.to_dict()  # plain dicts from here on


def handle_event(event: dict) -> str:
    """Apply a verified webhook event once; return what it did (stored with the event id).

    Outcomes: ``duplicate`` (seen before), ``ignored`` (a type not handled), ``unknown_booking``,
    ``processing`` (completed, money on its way), ``failed``, ``confirmed``, ``already_confirmed``,
    ``mismatch``, ``not_applied``; for refund events those of :func:`_apply_refund`. The caller commits.
    """
    event_id, kind = event.get("id"), event.get("type")
    if not event_id or not kind:
        raise InvalidWebhook("no event id or type")
    if db.session.get(StripeEvent, event_id) is not None:
        return "duplicate"
    session = (event.get("data") or {}).get("object") or {}
    record = StripeEvent(event_id=event_id, type=str(kind)[:64], received_at=clock.now(),
                         session_id=(session.get("id") or None) if kind in HANDLED else None, outcome="ignored")
    db.session.add(record)
    if kind in HANDLED:
        record.outcome = _apply(kind, session)
    elif kind in REFUND_EVENTS and session.get("object") == "refund":
        record.outcome = _apply_refund(kind, session, _event_time(event))
    db.session.flush()  # a concurrent delivery of the same event fails here (the id is the key)
    return record.outcome


def _apply(kind: str, session) -> str:
    booking = _booking_of(session)
    if booking is None:
        log.warning("stripe: %s for session %s names no booking here", kind, session.get("id"))
        return "unknown_booking"
    now = clock.now()
    checkout = _checkout_for(session, booking, now)
    intent = _id(session.get("payment_intent"))
    if intent:
        checkout.payment_intent = intent
    checkout.updated_at = now
    if kind == ASYNC_FAILED:
        if checkout.status in ("open", "processing"):
            checkout.status = "failed"
        return "failed"
    if session.get("payment_status") != "paid":
        # Completed, but the money is still on its way (SEPA): the succeeded/failed event follows.
        if checkout.status == "open":
            checkout.status = "processing"
        return "processing"
    if intent and _already_recorded(booking, intent):
        checkout.status = "paid"
        return "already_confirmed"
    if checkout.status in ("paid", "mismatch", "not_applied"):
        return "already_confirmed"  # the other event of the same payment, handled before
    amount, currency = session.get("amount_total"), str(session.get("currency") or "").upper()
    checkout.paid_cents, checkout.paid_currency = amount, currency[:3] or None
    if amount != booking.fee_cents or currency != booking.currency:
        checkout.status, checkout.needs_attention = "mismatch", True
        _note(booking, Note.ONLINE_PAYMENT_MISMATCH, now, amount_cents=_cents(amount), currency=currency,
              expected_cents=booking.fee_cents, expected_currency=booking.currency)
        log.warning("stripe: payment for booking %s has another amount or currency; not confirmed", booking.id)
        return "mismatch"
    if can_transition(booking, State.CONFIRMED, Actor.PROVIDER):
        try:
            confirm_payment(booking, actor=Actor.PROVIDER, method=METHOD, amount_cents=amount, currency=currency,
                            paid_at=now, provider_reference=intent)
        except PaymentError:
            pass  # no call handle: cannot be confirmed; listed for the operator below
        else:
            checkout.status = "paid"
            return "confirmed"
    return _not_applied(booking, checkout, amount, currency, now)


def _event_time(event):
    try:
        return datetime.fromtimestamp(int(event.get("created")), timezone.utc)
    except (TypeError, ValueError, OverflowError):
        return clock.now()


def settle_refund(refund: dict, reported_at) -> str:
    """A refund's status as Stripe's API tells it when asked (:func:`reflexion.payments.stripe_refunds.check_refund`),
    applied exactly as a ``refund.updated`` event saying the same; the outcomes of :func:`_apply_refund`."""
    return _apply_refund(REFUND_UPDATED, refund, reported_at)


def _apply_refund(kind: str, refund, reported_at) -> str:
    """A refund's later status: succeeded completes a pending refund; failed or canceled hands it
    (pending, or completed before) back to the operator as due, with an audit note.

    Outcomes: ``unknown_refund`` (no online payment here it belongs to), ``other_refund`` (not the
    refund this app asked for, e.g. one made in Stripe's dashboard), ``stale`` (older than the
    status already applied), ``refund_pending``, ``refunded``, ``refund_failed``, ``unchanged``.
    """
    refund_id = _id(refund.get("id"))
    status = "failed" if kind == REFUND_FAILED else str(refund.get("status") or "")[:16]
    checkout = _checkout_of_refund(refund_id, refund)
    if checkout is None:
        log.warning("stripe: %s for refund %s names no online payment here", kind, refund_id)
        return "unknown_refund"
    if checkout.refund_id and checkout.refund_id != refund_id:
        log.warning("stripe: %s for refund %s, but booking %s waits for another refund", kind, refund_id,
                    checkout.booking_id)
        return "other_refund"
    if checkout.refund_reported_at is not None and reported_at < checkout.refund_reported_at:
        return "stale"  # events arrive out of order: a newer status was applied already
    booking = checkout.booking
    checkout.refund_id, checkout.refund_status, checkout.refund_reported_at = refund_id, status, reported_at
    checkout.updated_at = clock.now()
    if status in REFUND_LOST:
        if booking.refund_state not in (PENDING, REFUNDED):
            return "unchanged"  # the operator's already (handed back before)
        if booking.refund_state == REFUNDED:
            booking.refunded_at = None  # reported done, but the money did not go back
        hand_back_refund(booking, f"refund {status}: {refund.get('failure_reason') or '-'}")
        log.warning("stripe: refund for booking %s %s; the operator pays it back", booking.id, status)
        return "refund_failed"
    if status == "succeeded":
        if booking.refund_state != PENDING:
            return "unchanged"
        try:
            mark_refunded(booking, actor=Actor.PROVIDER, expected=PENDING, params={"refund": refund_id})
        except RefundError:
            return "unchanged"  # the refund job completed it a moment ago
        return "refunded"
    return "refund_pending"


def _checkout_of_refund(refund_id, refund) -> StripeCheckout | None:
    """The online payment a refund event is about: by the refund id kept, else by its PaymentIntent."""
    if refund_id:
        checkout = db.session.scalar(select(StripeCheckout).where(StripeCheckout.refund_id == refund_id).limit(1))
        if checkout is not None:
            return checkout
    intent = _id(refund.get("payment_intent"))
    if not intent:
        return None
    return db.session.scalar(select(StripeCheckout).where(
        StripeCheckout.payment_intent == intent, StripeCheckout.status.in_(("paid", "not_applied")))
        .order_by(StripeCheckout.id.desc()).limit(1))


def hand_back_refund(booking, error: str):
    """The refund is the operator's again (listed as due), with the reason in the audit log."""
    booking.refund_state = DUE
    _note(booking, Note.ONLINE_REFUND_FAILED, clock.now(), error=error[:80])


def _not_applied(booking, checkout, amount, currency, now) -> str:
    """Money for a booking that is no longer awaiting payment: refund it (or ask the operator)."""
    checkout.status = "not_applied"
    _note(booking, Note.ONLINE_PAYMENT_NOT_APPLIED, now, amount_cents=_cents(amount), currency=currency,
          state=booking.state)
    if booking.state in (State.EXPIRED.value, State.CANCELLED.value) and booking.refund_state is None:
        # Never paid otherwise: the whole amount is due back, as a cancellation's refund is.
        booking.refund_cents = amount
        booking.refund_state = DUE
        booking.refund_due_at = now
        signals.refund_due.send(booking, amount=Decimal(amount) / 100)
    else:
        checkout.needs_attention = True  # paid twice, or a refund of its own: the operator decides
    log.warning("stripe: payment for booking %s arrived while it was %s", booking.id, booking.state)
    return "not_applied"


def _booking_of(session) -> Booking | None:
    for ref in (session.get("client_reference_id"), (session.get("metadata") or {}).get("booking_ref")):
        if ref:
            ref = normalise_reference(str(ref))
            if REF_PATTERN.match(ref):
                booking = db.session.scalar(select(Booking).where(Booking.ref == ref))
                if booking is not None:
                    return booking
    return None


def _checkout_for(session, booking, now) -> StripeCheckout:
    """The stored checkout of this session (one made elsewhere, e.g. in Stripe's dashboard, is added)."""
    session_id = str(session.get("id") or "")[:255]
    checkout = db.session.scalar(select(StripeCheckout).where(StripeCheckout.session_id == session_id)) \
        if session_id else None
    if checkout is None:
        checkout = StripeCheckout(session_id=session_id or f"unknown-{now.timestamp()}", booking=booking,
                                  amount_cents=booking.fee_cents, currency=booking.currency, created_at=now,
                                  status="open")
        db.session.add(checkout)
    return checkout


def _already_recorded(booking, intent: str) -> bool:
    return any(p.method == METHOD and p.provider_reference == intent for p in booking.payments)


def _note(booking, code, now, **params):
    """An audit line for the operator without a state change (as a refund's)."""
    db.session.add(Transition(booking=booking, from_state=booking.state, to_state=booking.state,
                              actor=Actor.PROVIDER.value, at=now, note_code=code, note_params=params))


def _id(value) -> str | None:
    """An object's id, whether Stripe sent it expanded or as the id."""
    if isinstance(value, dict):
        value = value.get("id")
    return str(value)[:255] if value else None


def _cents(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# --- for the operator -----------------------------------------------------------------------

def checkouts_needing_attention(limit: int = 50):
    """Online payments the operator has to look at (wrong amount, paid twice), oldest first."""
    return db.session.scalars(select(StripeCheckout).where(StripeCheckout.needs_attention.is_(True))
                              .order_by(StripeCheckout.updated_at, StripeCheckout.id).limit(limit)).all()


def dismiss(checkout: StripeCheckout):
    """The operator has dealt with ``checkout`` (in Stripe's dashboard or by hand)."""
    checkout.needs_attention = False
    checkout.updated_at = clock.now()


def refundable_payment(booking) -> StripeCheckout | None:
    """The online payment of ``booking`` a refund goes back to: confirmed, or paid too late."""
    return db.session.scalar(select(StripeCheckout).where(
        StripeCheckout.booking_id == booking.id, StripeCheckout.status.in_(("paid", "not_applied")),
        StripeCheckout.payment_intent.is_not(None), StripeCheckout.needs_attention.is_(False))
        .order_by(StripeCheckout.id.desc()).limit(1))

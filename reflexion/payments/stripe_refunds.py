"""Refunds of online payments go back through Stripe's API, in an RQ job with retries.

Subscribed to ``signals.refund_due`` at app start (:func:`connect_signals`): when the
cancellation policy grants a refund (:func:`reflexion.booking.refunds.record_refund`), or an
online payment arrived for a booking that had expired (:mod:`reflexion.payments.stripe_checkout`),
and the booking was paid through Stripe, the refund becomes ``pending`` in the same transaction
and, after the commit, :func:`refund_online` asks Stripe to pay it back (``Refund.create`` with
the PaymentIntent and the amount, under an idempotency key, so a retried job never refunds
twice). Stripe's answer completes it (``refunded``, with Stripe's refund id in the audit line,
the credit note follows); when Stripe refuses, or every retry failed, the refund is ``due``
again and listed for the operator, who pays it back by hand.

Stripe may answer ``pending`` and settle the refund later: the refund id and status are kept
on the checkout, the booking's refund stays ``pending`` (the sweep does not send it again), and
the ``refund.updated``/``refund.failed`` webhook events complete it or hand it back
(:func:`reflexion.payments.stripe_checkout.handle_event`) — also a refund that fails after
Stripe had reported it succeeded. Should that event never come (a webhook endpoint set up
without refund events, or events Stripe stopped retrying), the periodic sweep asks Stripe
itself once ``ASK_AGAIN_AFTER`` (an hour) has passed without news (:func:`check_refund`).
"""
import logging
from datetime import timedelta

import stripe
from flask import current_app
from rq import get_current_job
from sqlalchemy import select

from reflexion import clock, signals
from reflexion.booking.models import Booking
from reflexion.booking.refunds import PENDING, RefundError, mark_refunded
from reflexion.booking.states import Actor
from reflexion.db import unit_of_work
from reflexion.effects import after_commit
from reflexion.extensions import db
from reflexion.jobs.queue import DEFAULT, get_queue, job_app
from reflexion.jobs.scheduling import job_status
from reflexion.mail.tasks import retry_policy
from reflexion.payments.stripe_checkout import (REFUND_LOST, client, enabled, hand_back_refund, refundable_payment,
                                                settle_refund)

log = logging.getLogger(__name__)

#: Stripe's answers that retrying will not change (a bad request, a wrong or revoked key).
FINAL_ERRORS = (stripe.InvalidRequestError, stripe.AuthenticationError, stripe.PermissionError)


#: RQ states in which a refund job will still run.
ALIVE = ("queued", "scheduled", "started", "deferred")
#: A refund Stripe still calls pending is asked about this long after the last news of it.
ASK_AGAIN_AFTER = timedelta(hours=1)


class RefundNotSent(Exception):
    """Stripe could not be reached or failed (RQ retries the job)."""


def refund_due(booking, amount=None, **_):
    """Receiver: a refund became due; if the booking was paid online, refund it through Stripe."""
    if not enabled():
        return
    checkout = refundable_payment(booking)
    if checkout is None:
        return  # paid by bank transfer or cash: the operator pays it back
    cents = min(booking.refund_cents or 0, checkout.paid_cents or checkout.amount_cents)
    if cents <= 0:
        return
    booking.refund_state = PENDING
    after_commit(enqueue_refund, booking.id, checkout.payment_intent, cents, _idempotency_key(booking, checkout))


def _idempotency_key(booking, checkout) -> str:
    """One key per refund: a retried job, or the same job enqueued twice, refunds once at Stripe."""
    return f"reflexion-refund-{booking.ref}-{checkout.payment_intent}-{int(booking.refund_due_at.timestamp())}"


def _job_id(booking_id: int, idempotency_key: str) -> str:
    return f"stripe-refund-{booking_id}-{idempotency_key[-10:]}"


def enqueue_refund(booking_id: int, payment_intent: str, amount_cents: int, idempotency_key: str):
    """After the commit: one job per refund (ids and amounts only, never personal data)."""
    get_queue(DEFAULT).enqueue(
        refund_online, booking_id, payment_intent, amount_cents, idempotency_key,
        retry=retry_policy(current_app.config), job_id=_job_id(booking_id, idempotency_key),
        description=f"stripe refund for booking {booking_id}")


def requeue_pending(now=None, grace=timedelta(minutes=5)) -> int:
    """Enqueue again the refunds left ``pending`` whose job Redis does not hold (Redis was down
    when it should have been enqueued, or lost it), and ask Stripe about the refunds it has held
    as pending for ``ASK_AGAIN_AFTER`` without news; run by the periodic sweep. Return how many
    jobs it enqueued."""
    if not enabled():
        return 0
    now = now or clock.now()
    waiting = db.session.scalars(select(Booking).where(
        Booking.refund_state == PENDING, Booking.refund_due_at <= now - grace)).all()
    count = 0
    for booking in waiting:
        checkout = refundable_payment(booking)
        if checkout is None:
            continue
        if checkout.refund_status == "pending":  # Stripe holds it: its webhook event settles it, else we ask
            last_news = checkout.refund_reported_at or checkout.updated_at or booking.refund_due_at
            if (checkout.refund_id and last_news <= now - ASK_AGAIN_AFTER
                    and job_status(_check_job_id(checkout.refund_id)) not in ALIVE):
                enqueue_check(booking.id, checkout.refund_id)
                count += 1
            continue
        key = _idempotency_key(booking, checkout)
        if job_status(_job_id(booking.id, key)) in ALIVE:
            continue
        cents = min(booking.refund_cents or 0, checkout.paid_cents or checkout.amount_cents)
        enqueue_refund(booking.id, checkout.payment_intent, cents, key)
        count += 1
    if count:
        log.info("stripe: enqueued %d refund job(s) (lost, or pending at Stripe without news)", count)
    return count


def _check_job_id(refund_id: str) -> str:
    return f"stripe-refund-check-{refund_id}"


def enqueue_check(booking_id: int, refund_id: str):
    get_queue(DEFAULT).enqueue(check_refund, booking_id, refund_id, job_id=_check_job_id(refund_id),
                               description=f"stripe refund status for booking {booking_id}")


def check_refund(booking_id: int, refund_id: str) -> str:
    """Job: ask Stripe how a refund it called pending stands, and apply the answer as its webhook
    event would have (:func:`reflexion.payments.stripe_checkout.settle_refund`)."""
    app = job_app()
    with app.app_context(), unit_of_work():
        booking = db.session.get(Booking, booking_id)
        checkout = refundable_payment(booking) if booking is not None else None
        if booking is None or booking.refund_state != PENDING or checkout is None or checkout.refund_id != refund_id:
            return "gone"  # settled meanwhile (or the booking was erased)
        try:
            refund = client().v1.refunds.retrieve(refund_id).to_dict()
        except stripe.StripeError as exc:
            log.warning("stripe: could not ask about refund for booking %s (%s, request %s); asking again later",
                        booking_id, type(exc).__name__, getattr(exc, "request_id", None))
            checkout.updated_at = clock.now()  # the next question in ASK_AGAIN_AFTER, not at every sweep
            return "not reached"
        return settle_refund(refund, clock.now())


def refund_online(booking_id: int, payment_intent: str, amount_cents: int, idempotency_key: str) -> str:
    """Job: ask Stripe to refund ``amount_cents`` of ``payment_intent``; complete the booking's refund."""
    app = job_app()
    with app.app_context(), unit_of_work():
        booking = db.session.get(Booking, booking_id)
        if booking is None or booking.refund_state != PENDING:
            return "gone"  # done meanwhile (or the booking was erased)
        try:
            refund = client().v1.refunds.create(
                params={"payment_intent": payment_intent, "amount": amount_cents,
                        "metadata": {"booking_ref": booking.ref}},
                options={"idempotency_key": idempotency_key}).to_dict()
        except stripe.StripeError as exc:
            job = get_current_job()
            last_try = job is None or not job.retries_left
            log.warning("stripe: refund for booking %s failed (%s, request %s)%s", booking_id,
                        type(exc).__name__, getattr(exc, "request_id", None), "" if last_try else "; retrying")
            if isinstance(exc, FINAL_ERRORS) or last_try:
                hand_back_refund(booking, type(exc).__name__)
                return "failed"
            raise RefundNotSent(type(exc).__name__) from exc
        status = str(refund.get("status") or "")[:16]
        checkout = refundable_payment(booking)
        if checkout is not None and checkout.payment_intent == payment_intent:
            # kept for the webhook's later word (not over a status a webhook event settled already)
            if checkout.refund_id != str(refund.get("id")) or checkout.refund_status in (None, "pending"):
                checkout.refund_id, checkout.refund_status = str(refund.get("id"))[:255], status
        if status in REFUND_LOST:
            hand_back_refund(booking, f"refund {status}")
            return "failed"
        if status != "succeeded":
            # pending (or requires_action): Stripe settles it later and says so by webhook
            log.info("stripe: refund for booking %s is %s at Stripe", booking_id, status or "without status")
            return "pending"
        try:
            mark_refunded(booking, actor=Actor.PROVIDER, expected=PENDING, params={"refund": str(refund.get("id"))})
        except RefundError:
            return "gone"  # Stripe's webhook completed it a moment ago
        return "refunded"



def connect_signals():
    """Subscribe to the domain's refund signal (at app start)."""
    signals.refund_due.connect(refund_due)

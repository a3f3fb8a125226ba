"""Stripe's webhook: ``POST /payments/stripe/webhook`` (404 while online payment is off).

Configured in Stripe's dashboard (Developers → Webhooks) for the events
``checkout.session.completed``, ``checkout.session.async_payment_succeeded``,
``checkout.session.async_payment_failed``, ``refund.updated`` and ``refund.failed`` (a refund
Stripe settles later); its signing secret is ``STRIPE_WEBHOOK_SECRET``.
Exempt from CSRF (Stripe's signature on the raw body stands in for it) and from the app's
form-bodies-only rule (:data:`reflexion.security.OTHER_BODIES`). 400 for a forged or old
signature (nothing changed); 200 for everything handled, also what is not confirmed (a wrong
amount is the operator's to see, not Stripe's to retry).
"""
import logging

from flask import Blueprint, abort, jsonify, request
from sqlalchemy.exc import IntegrityError

from reflexion.db import abandon
from reflexion.extensions import csrf, limiter
from reflexion.payments.stripe_checkout import InvalidWebhook, enabled, handle_event, verify_event

log = logging.getLogger(__name__)

bp = Blueprint("stripe", __name__, url_prefix="/payments/stripe")

#: Stripe sends a burst at most after an outage of ours; forged floods stop here.
WEBHOOK_LIMIT = "300 per minute"


@bp.route("/webhook", methods=["POST"])
@csrf.exempt  # signed by Stripe instead (checked on the raw body)
@limiter.limit(WEBHOOK_LIMIT)
def webhook():
    if not enabled():
        abort(404)
    try:
        event = verify_event(request.get_data(cache=False), request.headers.get("Stripe-Signature"))
        outcome = handle_event(event)
    except InvalidWebhook as exc:
        log.warning("stripe: webhook refused (%s)", exc)
        return jsonify(ok=False, error="invalid signature"), 400
    except IntegrityError:
        # The same event, delivered twice at once, committed first elsewhere: nothing applied
        # here; Stripe retries later and finds it handled.
        abandon()
        return jsonify(ok=False, error="conflict, retry"), 409
    return jsonify(ok=True, outcome=outcome)

"""Online payment with Stripe Checkout (issue #13 part 3), against a stand-in of Stripe's API on loopback.

The app's stripe library is pointed at the stand-in (``STRIPE_API_BASE``), which records every
request; webhook events are built here and signed with the test secret exactly as Stripe signs
them. Only the signed webhook confirms a booking; refunds go out through the stand-in, run by a
real RQ worker.
"""
import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from reflexion import clock
from reflexion.booking.models import Booking, Payment
from reflexion.booking.notes import Note, entry_text_in
from reflexion.i18n import format_money
from reflexion.payments.models import StripeCheckout, StripeEvent
from reflexion.receipts.documents import credit_note_for, receipt_for
from frozen import NOW
from mail_helpers import run_worker, translated
from stripe_standin import SECRET, nested, signed_headers, stripe_settings

START = NOW + timedelta(days=3, hours=1)  # Thursday 10:00 MEZ, well before any cut-off
WEBHOOK = "/payments/stripe/webhook"


@pytest.fixture
def app_config(app_config, stripe_api):
    """Online payment switched on, the library pointed at the stand-in (``stripe_api``, conftest)."""
    return {**app_config, **stripe_settings(stripe_api), "MAIL_RETRY_INTERVALS": [0, 0]}


@pytest.fixture
def booking(app, frozen_now, make_booking):
    frozen_now(NOW)
    return make_booking(START)


def _open(client, booking, lang="de"):
    response = client.post(f"/{lang}/booking/{booking.ref}", data={"access_key": "abcd-efgh-jkmn"})
    assert response.status_code == 303


def _event(booking, kind="checkout.session.completed", *, event_id="evt_1", amount=9000, currency="eur",
           payment_status="paid", intent="pi_test_1", session_id="cs_test_0001"):
    return {
        "id": event_id, "object": "event", "type": kind, "api_version": "2025-10-29.clover",
        "created": int(clock.now().timestamp()), "livemode": False,
        "data": {"object": {
            "id": session_id, "object": "checkout.session", "mode": "payment", "status": "complete",
            "payment_status": payment_status, "amount_total": amount, "currency": currency,
            "client_reference_id": booking.ref, "metadata": {"booking_ref": booking.ref},
            "payment_intent": intent,
        }},
    }


def _post(client, event, *, secret=SECRET, at=None, body=None):
    payload = body if body is not None else json.dumps(event)
    stamp = int((at or clock.now()).timestamp())
    return client.post(WEBHOOK, data=payload, headers=signed_headers(payload, secret, stamp))


def _reload(db, booking) -> Booking:
    db.session.expire_all()
    return db.session.get(Booking, booking.id)


def _count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# --- the button and the Checkout Session --------------------------------------------------

@pytest.mark.parametrize("lang", ["de", "sv"])
def test_pay_online_creates_the_session_stripe_is_asked_for_and_redirects(app, client, db, booking, stripe_api, lang):
    _open(client, booking, lang)
    page = client.get(f"/{lang}/booking/{booking.ref}").get_data(as_text=True)
    assert "data-pay-online-button" in page
    with app.test_request_context("/"):
        amount = format_money(9000, "EUR", lang)
    assert translated(app, lang, "Pay %(amount)s online now", amount=amount) in page
    assert translated(app, lang, "SEPA Direct Debit") in page
    assert f'action="/{lang}/booking/{booking.ref}/pay-online"' in page

    response = client.post(f"/{lang}/booking/{booking.ref}/pay-online")
    assert response.status_code == 303
    assert response.headers["Location"] == "https://checkout.stripe.com/c/pay/cs_test_0001"

    [sent] = stripe_api.to("/v1/checkout/sessions")
    assert sent.headers["Authorization"] == "Bearer sk_test_reflexion"
    params = nested(sent.params)
    assert params["mode"] == "payment"
    assert params["line_items"] == [{"quantity": "1", "price_data": {
        "currency": "eur", "unit_amount": "9000", "product_data": {"name": params["line_items"][0]["price_data"]
                                                                    ["product_data"]["name"]}}}]
    assert booking.ref in params["line_items"][0]["price_data"]["product_data"]["name"]
    assert params["payment_method_types"] == ["card", "sepa_debit"]
    assert params["client_reference_id"] == booking.ref
    assert params["metadata"] == {"booking_ref": booking.ref}
    assert params["payment_intent_data"]["metadata"] == {"booking_ref": booking.ref}
    assert params["locale"] == lang
    assert params["success_url"] == f"http://localhost:5000/{lang}/booking/{booking.ref}?online=done"
    assert params["cancel_url"] == f"http://localhost:5000/{lang}/booking/{booking.ref}?online=cancelled"
    # the session ends with the payment deadline at the latest (Stripe's bounds: 30 min .. 24 h)
    assert int(params["expires_at"]) <= int((clock.now() + timedelta(hours=24)).timestamp())

    checkout = db.session.scalar(select(StripeCheckout))
    assert (checkout.session_id, checkout.booking_id, checkout.amount_cents, checkout.currency, checkout.status) == (
        "cs_test_0001", booking.id, 9000, "EUR", "open")
    assert _reload(db, booking).state == "awaiting_payment"


def test_a_booking_in_swedish_kronor_offers_the_methods_stripe_has_for_sek(app, client, db, booking, stripe_api):
    booking.currency, booking.fee_cents = "SEK", 95000
    db.session.commit()
    _open(client, booking, "sv")
    page = client.get(f"/sv/booking/{booking.ref}").get_data(as_text=True)
    assert "Klarna" in page and "Swish" in page and "SEPA" not in page
    assert client.post(f"/sv/booking/{booking.ref}/pay-online").status_code == 303
    params = nested(stripe_api.to("/v1/checkout/sessions")[0].params)
    assert params["payment_method_types"] == ["card", "klarna", "swish"]
    assert params["line_items"][0]["price_data"]["currency"] == "sek"
    assert params["line_items"][0]["price_data"]["unit_amount"] == "95000"
    assert params["locale"] == "sv"


@pytest.mark.parametrize("lang", ["de", "sv"])
def test_coming_back_from_stripe_confirms_nothing_and_says_the_payment_is_processed(app, client, db, booking, lang):
    _open(client, booking, lang)
    page = client.get(f"/{lang}/booking/{booking.ref}?online=done").get_data(as_text=True)
    assert "data-online-processing" in page and "data-pay-online-button" not in page
    processing = page.split("data-online-processing>", 1)[1].split("</p>", 1)[0]
    assert processing == _html_text(translated(
        app, lang, "Thank you: your online payment is being processed. As soon as Stripe confirms it, this page "
        "shows your confirmation data and we send you the calendar invite by e-mail (by %(instant)s within a minute "
        "or two, by %(delayed)s after a few business days). Please do not pay twice.",
        instant=translated(app, lang, "card"), delayed=translated(app, lang, "SEPA Direct Debit")))
    assert {"de": "mit Karte in ein, zwei Minuten, per SEPA-Lastschrift nach einigen Werktagen",
            "sv": "med kort inom en minut eller två, med SEPA-autogiro efter några bankdagar"}[lang] in processing
    assert _reload(db, booking).state == "awaiting_payment" and _count(db, Payment) == 0
    cancelled = client.get(f"/{lang}/booking/{booking.ref}?online=cancelled").get_data(as_text=True)
    assert "data-online-cancelled" in cancelled and "data-pay-online-button" in cancelled


def _html_text(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&#34;").replace(
        "'", "&#39;")


@pytest.mark.parametrize("lang, expected", [
    ("de", "Sobald Stripe sie bestätigt, meist in ein, zwei Minuten, zeigt diese Seite"),
    ("sv", "Så snart Stripe bekräftar den, oftast inom en minut eller två, visar den här sidan"),
])
def test_a_payment_in_kronor_being_processed_mentions_no_sepa_direct_debit(app, client, db, booking, lang, expected):
    """SEK offers card, Klarna and Swish (all confirmed at once): no word of SEPA or business days."""
    booking.currency, booking.fee_cents = "SEK", 95000
    db.session.commit()
    _open(client, booking, lang)
    page = client.get(f"/{lang}/booking/{booking.ref}?online=done").get_data(as_text=True)
    processing = page.split("data-online-processing>", 1)[1].split("</p>", 1)[0]
    assert expected in processing
    for word in ("SEPA", translated(app, lang, "SEPA Direct Debit"), "Werktag", "bankdag"):
        assert word not in processing


def test_the_processing_text_follows_the_methods_of_the_currency(app, booking, monkeypatch):
    """Derived from PAYMENT_METHOD_TYPES: a currency with only a delayed method says "a few business days"."""
    from reflexion.payments import stripe_checkout

    monkeypatch.setitem(stripe_checkout.PAYMENT_METHOD_TYPES, "EUR", ("sepa_debit",))
    with app.test_request_context("/"):
        text = stripe_checkout.processing_text(booking)
    assert "nach einigen Werktagen" in text and "Karte" not in text and "Minuten" not in text


@pytest.mark.parametrize("lang, failure", [("de", 400), ("sv", 500)])
def test_stripe_failing_gives_a_localized_503_and_saves_nothing(app, client, db, booking, stripe_api, lang, failure):
    _open(client, booking, lang)
    stripe_api.fail("/v1/checkout/sessions", failure, failure)  # a 500 is retried once by the library
    response = client.post(f"/{lang}/booking/{booking.ref}/pay-online")
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert translated(app, lang, "Online payment is not available at the moment. Please try again in a few minutes, "
                      "or pay by bank transfer as shown below.") in page
    assert _count(db, StripeCheckout) == 0 and _reload(db, booking).state == "awaiting_payment"


def test_stripe_unreachable_gives_503(app, client, db, booking, stripe_api):
    app.config["STRIPE_API_BASE"] = "http://127.0.0.1:9"  # nothing listens there
    _open(client, booking)
    assert client.post(f"/de/booking/{booking.ref}/pay-online").status_code == 503
    assert _count(db, StripeCheckout) == 0


def test_only_the_clients_own_booking_awaiting_payment_can_be_paid_online(app, client, db, booking, make_booking,
                                                                           stripe_api):
    assert client.post(f"/de/booking/{booking.ref}/pay-online").status_code == 403  # not opened here
    paid = make_booking(START + timedelta(hours=2), state="confirmed")
    _open(client, paid)
    assert "data-pay-online-button" not in client.get(f"/de/booking/{paid.ref}").get_data(as_text=True)
    assert client.post(f"/de/booking/{paid.ref}/pay-online").status_code == 409
    assert stripe_api.requests == []


def test_the_pay_online_form_needs_its_csrf_token_and_the_webhook_none(app_config, make_app, booking, stripe_api):
    strict = make_app(WTF_CSRF_ENABLED=True)
    client = strict.test_client()
    with strict.app_context():
        page = client.get(f"/de/booking/{booking.ref}")  # the access-key form: with its token
        token = page.get_data(as_text=True).split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        assert client.post(f"/de/booking/{booking.ref}", data={"access_key": "abcd-efgh-jkmn",
                                                               "csrf_token": token}).status_code == 303
        assert client.post(f"/de/booking/{booking.ref}/pay-online").status_code == 400
        assert stripe_api.requests == []
        assert client.post(f"/de/booking/{booking.ref}/pay-online", data={"csrf_token": token}).status_code == 303
        assert _post(client, _event(booking)).status_code == 200  # Stripe sends no CSRF token


def test_the_csp_lets_the_pay_online_form_end_on_stripes_page(app, client, booking):
    _open(client, booking)
    policy = client.get(f"/de/booking/{booking.ref}").headers["Content-Security-Policy"]
    assert "form-action 'self' https://checkout.stripe.com" in policy


# --- the webhook ----------------------------------------------------------------------------

def test_a_signed_completed_event_confirms_the_booking_once(app, client, db, booking):
    response = _post(client, _event(booking))
    assert response.status_code == 200 and response.get_json()["outcome"] == "confirmed"
    confirmed = _reload(db, booking)
    assert confirmed.state == "confirmed" and confirmed.confirmation_hash
    [payment] = confirmed.payments
    assert (payment.method, payment.amount_cents, payment.currency, payment.provider_reference, payment.recorded_by) == (
        "stripe", 9000, "EUR", "pi_test_1", "provider")
    entry = confirmed.transitions[-1]
    assert (entry.from_state, entry.to_state, entry.actor, entry.note_code, entry.note_params) == (
        "awaiting_payment", "confirmed", "provider", "paid", {"method": "stripe"})
    assert receipt_for(confirmed) is not None  # the receipt follows every confirmed payment

    again = _post(client, _event(booking))  # Stripe retries the same event
    assert again.status_code == 200 and again.get_json()["outcome"] == "duplicate"
    other_id = _post(client, _event(booking, event_id="evt_2"))  # another delivery of the same payment
    assert other_id.get_json()["outcome"] == "already_confirmed"
    confirmed = _reload(db, booking)
    assert len(confirmed.payments) == 1 and len([t for t in confirmed.transitions if t.to_state == "confirmed"]) == 1
    assert _count(db, StripeEvent) == 2


def test_sepa_completed_then_succeeded_confirms_when_the_money_arrives(app, client, db, booking):
    first = _post(client, _event(booking, payment_status="unpaid"))
    assert first.get_json()["outcome"] == "processing"
    assert _reload(db, booking).state == "awaiting_payment"
    _open(client, booking)
    page = client.get(f"/de/booking/{booking.ref}").get_data(as_text=True)
    assert "data-online-processing" in page and "data-pay-online-button" not in page  # not twice
    done = _post(client, _event(booking, "checkout.session.async_payment_succeeded", event_id="evt_2"))
    assert done.get_json()["outcome"] == "confirmed"
    assert _reload(db, booking).state == "confirmed"


def test_events_out_of_order_confirm_once(app, client, db, booking):
    """async_payment_succeeded arrives before completed (Stripe promises no order)."""
    early = _post(client, _event(booking, "checkout.session.async_payment_succeeded", event_id="evt_2"))
    assert early.get_json()["outcome"] == "confirmed"
    late = _post(client, _event(booking, payment_status="unpaid"))  # the older snapshot
    assert late.status_code == 200
    confirmed = _reload(db, booking)
    assert confirmed.state == "confirmed" and len(confirmed.payments) == 1
    assert db.session.scalar(select(StripeCheckout)).status == "paid"


def test_a_failed_delayed_payment_leaves_the_booking_awaiting_payment(app, client, db, booking):
    _post(client, _event(booking, payment_status="unpaid"))
    failed = _post(client, _event(booking, "checkout.session.async_payment_failed", event_id="evt_2",
                                  payment_status="unpaid"))
    assert failed.get_json()["outcome"] == "failed"
    assert _reload(db, booking).state == "awaiting_payment"
    assert db.session.scalar(select(StripeCheckout)).status == "failed"
    _open(client, booking)
    assert "data-pay-online-button" in client.get(f"/de/booking/{booking.ref}").get_data(as_text=True)


@pytest.mark.parametrize("amount, currency", [(8000, "eur"), (9000, "sek")])
def test_a_wrong_amount_or_currency_is_not_confirmed_but_noted_for_the_operator(app, client, db, booking, amount,
                                                                                currency):
    response = _post(client, _event(booking, amount=amount, currency=currency))
    assert response.status_code == 200 and response.get_json()["outcome"] == "mismatch"  # Stripe stops retrying
    kept = _reload(db, booking)
    assert kept.state == "awaiting_payment" and kept.payments == []
    note = kept.transitions[-1]
    assert (note.note_code, note.actor, note.from_state, note.to_state) == (
        Note.ONLINE_PAYMENT_MISMATCH, "provider", "awaiting_payment", "awaiting_payment")
    assert (note.note_params["amount_cents"], note.note_params["expected_cents"]) == (amount, 9000)
    checkout = db.session.scalar(select(StripeCheckout))
    assert checkout.status == "mismatch" and checkout.needs_attention
    # the other event of the same payment changes nothing
    assert _post(client, _event(booking, "checkout.session.async_payment_succeeded", event_id="evt_2",
                                amount=amount, currency=currency)).status_code == 200
    assert _reload(db, booking).state == "awaiting_payment"


@pytest.mark.parametrize("how", ["other secret", "changed body", "no signature", "garbage header"])
def test_a_forged_webhook_gets_400_and_changes_nothing(app, client, db, booking, how):
    event = _event(booking)
    payload = json.dumps(event)
    stamp = int(clock.now().timestamp())
    if how == "other secret":
        headers = signed_headers(payload, "whsec_someone_else", stamp)
    elif how == "changed body":
        headers = signed_headers(payload, SECRET, stamp)
        payload = payload.replace('"amount_total": 9000', '"amount_total": 1')
    elif how == "no signature":
        headers = {"Content-Type": "application/json"}
    else:
        headers = {"Content-Type": "application/json", "Stripe-Signature": "t=abc,v1=zz"}
    response = client.post(WEBHOOK, data=payload, headers=headers)
    assert response.status_code == 400
    assert _reload(db, booking).state == "awaiting_payment"
    assert _count(db, StripeEvent) == 0 and _count(db, StripeCheckout) == 0 and _count(db, Payment) == 0


@pytest.mark.parametrize("offset", [timedelta(minutes=-10), timedelta(minutes=10)])
def test_a_replayed_or_future_signed_webhook_gets_400(app, client, db, booking, offset):
    response = _post(client, _event(booking), at=clock.now() + offset)  # valid HMAC, outside the tolerance
    assert response.status_code == 400
    assert _reload(db, booking).state == "awaiting_payment" and _count(db, StripeEvent) == 0
    assert _post(client, _event(booking), at=clock.now() - timedelta(minutes=4)).status_code == 200  # inside


def test_other_event_types_are_acknowledged_and_ignored(app, client, db, booking):
    response = _post(client, {**_event(booking), "type": "payment_intent.created"})
    assert response.status_code == 200 and response.get_json()["outcome"] == "ignored"
    assert _reload(db, booking).state == "awaiting_payment"


def test_an_event_for_no_booking_of_ours_is_acknowledged(app, client, db, booking):
    event = _event(booking)
    event["data"]["object"]["client_reference_id"] = "R-ZZZZZZ"
    event["data"]["object"]["metadata"] = {}
    assert _post(client, event).get_json()["outcome"] == "unknown_booking"


# --- refunds through Stripe -----------------------------------------------------------------

def _paid_online(client, db, booking):
    assert _post(client, _event(booking)).get_json()["outcome"] == "confirmed"
    return _reload(db, booking)


def test_a_payment_for_an_expired_booking_becomes_a_refund_paid_back_through_stripe(app, client, db, jobs, booking,
                                                                                    stripe_api):
    booking.state = "expired"
    db.session.commit()
    response = _post(client, _event(booking))
    assert response.get_json()["outcome"] == "not_applied"
    kept = _reload(db, booking)
    assert kept.state == "expired" and kept.payments == []
    assert (kept.refund_cents, kept.refund_state) == (9000, "pending")
    assert kept.transitions[-1].note_code == Note.ONLINE_PAYMENT_NOT_APPLIED
    run_worker(app)
    [sent] = stripe_api.to("/v1/refunds")
    assert (sent.params["payment_intent"], sent.params["amount"]) == ("pi_test_1", "9000")
    kept = _reload(db, booking)
    assert kept.refund_state == "refunded"
    assert kept.transitions[-1].note_code == Note.REFUNDED and kept.transitions[-1].note_params["refund"].startswith(
        "re_test_")


def test_the_policys_refund_of_a_booking_paid_online_goes_back_through_stripe(app_config, app, client, db, jobs,
                                                                              booking, stripe_api):
    app.config["REFUND_PERCENT_BEFORE_CUTOFF"] = 80
    _paid_online(client, db, booking)
    _open(client, booking)
    assert client.post(f"/de/booking/{booking.ref}/cancel").status_code == 303
    cancelled = _reload(db, booking)
    assert (cancelled.state, cancelled.refund_cents, cancelled.refund_state) == ("cancelled", 7200, "pending")
    page = client.get(f"/de/booking/{booking.ref}").get_data(as_text=True)
    assert 'data-refund="pending"' in page

    stripe_api.fail("/v1/refunds", 500)  # the first try fails: RQ retries it
    run_worker(app)
    sent = stripe_api.to("/v1/refunds")
    assert len(sent) == 2
    assert all((r.params["payment_intent"], r.params["amount"]) == ("pi_test_1", "7200") for r in sent)
    assert sent[0].headers["Idempotency-Key"] == sent[1].headers["Idempotency-Key"]  # never refunded twice
    done = _reload(db, booking)
    assert done.refund_state == "refunded" and done.refunded_at is not None
    assert done.transitions[-1].actor == "provider"
    assert credit_note_for(done) is not None
    page = client.get(f"/de/booking/{booking.ref}").get_data(as_text=True)
    assert 'data-refund="refunded"' in page


def test_a_refund_whose_job_redis_lost_is_sent_by_the_next_sweep(app, client, db, jobs, booking, stripe_api,
                                                                 frozen_now):
    """Redis down at the cancellation (or flushed): the refund stays pending until the periodic
    sweep finds it without a job and enqueues it again, once."""
    from reflexion.jobs.periodic import run_reconcile
    from reflexion.redis_conn import get_redis

    _paid_online(client, db, booking)
    _open(client, booking)
    assert client.post(f"/de/booking/{booking.ref}/cancel").status_code == 303
    get_redis(app).flushdb()  # the refund's job is gone
    assert _reload(db, booking).refund_state == "pending"
    run_reconcile()
    run_worker(app)
    assert stripe_api.to("/v1/refunds") == []  # within the grace period: its job may still be coming
    frozen_now(clock.now() + timedelta(minutes=6))
    run_reconcile()
    run_reconcile()  # the job is queued: not a second one
    run_worker(app)
    [sent] = stripe_api.to("/v1/refunds")
    assert (sent.params["payment_intent"], sent.params["amount"]) == ("pi_test_1", "9000")
    assert _reload(db, booking).refund_state == "refunded"
    run_reconcile()
    run_worker(app)
    assert len(stripe_api.to("/v1/refunds")) == 1


def test_a_refund_completed_elsewhere_meanwhile_is_completed_once(app, client, db, booking, make_app):
    """The refund job and Stripe's webhook (or two processes) completing one refund: once."""
    from reflexion.booking.refunds import RefundError, mark_refunded
    from reflexion.booking.states import Actor

    _paid_online(client, db, booking)
    _open(client, booking)
    assert client.post(f"/de/booking/{booking.ref}/cancel").status_code == 303
    stale = _reload(db, booking)
    assert stale.refund_state == "pending"
    other = make_app()
    with other.app_context():
        mark_refunded(db.session.get(Booking, booking.id), actor=Actor.PROVIDER, expected="pending")
        db.session.commit()
        db.session.remove()
    with pytest.raises(RefundError):
        mark_refunded(stale, actor=Actor.PROVIDER, expected="pending")  # this one still read "pending"
    db.session.rollback()
    done = _reload(db, booking)
    assert done.refund_state == "refunded"
    assert sum(1 for t in done.transitions if t.note_code == Note.REFUNDED) == 1


def test_a_refund_stripe_refuses_is_the_operators_again(app, client, db, jobs, booking, stripe_api):
    _paid_online(client, db, booking)
    _open(client, booking)
    stripe_api.fail("/v1/refunds", 400)
    assert client.post(f"/de/booking/{booking.ref}/cancel").status_code == 303
    run_worker(app)
    assert len(stripe_api.to("/v1/refunds")) == 1  # a refusal is not retried
    back = _reload(db, booking)
    assert back.refund_state == "due" and back.refund_cents == 9000
    assert back.transitions[-1].note_code == Note.ONLINE_REFUND_FAILED


def _refund_event(refund_id, status, *, kind="refund.updated", event_id="evt_refund_1", booking=None,
                  intent="pi_test_1", created=None, failure_reason=None):
    """A refund event as Stripe sends it (the refund object at the event's time)."""
    return {
        "id": event_id, "object": "event", "type": kind, "api_version": "2025-10-29.clover",
        "created": int((created or clock.now()).timestamp()), "livemode": False,
        "data": {"object": {
            "id": refund_id, "object": "refund", "status": status, "amount": 9000, "currency": "eur",
            "payment_intent": intent, "failure_reason": failure_reason,
            "metadata": {"booking_ref": booking.ref} if booking is not None else {},
        }},
    }


def _cancel_paid_online(client, db, booking):
    _paid_online(client, db, booking)
    _open(client, booking)
    assert client.post(f"/de/booking/{booking.ref}/cancel").status_code == 303


def test_a_refund_stripe_answers_pending_is_completed_by_its_succeeded_event(app, client, db, jobs, booking,
                                                                               stripe_api, frozen_now):
    """Stripe settles some refunds later: pending until refund.updated says succeeded, then refunded once."""
    from reflexion.jobs.periodic import run_reconcile

    stripe_api.refund_status = "pending"
    _cancel_paid_online(client, db, booking)
    run_worker(app)
    [sent] = stripe_api.to("/v1/refunds")
    waiting = _reload(db, booking)
    assert waiting.refund_state == "pending" and waiting.refunded_at is None
    assert credit_note_for(waiting) is None
    checkout = db.session.scalar(select(StripeCheckout))
    assert checkout.refund_id.startswith("re_test_") and checkout.refund_status == "pending"
    frozen_now(clock.now() + timedelta(minutes=10))
    run_reconcile()  # Stripe holds it: the sweep does not send it again
    run_worker(app)
    assert len(stripe_api.to("/v1/refunds")) == 1

    still = _post(client, _refund_event(checkout.refund_id, "pending", event_id="evt_r0", booking=booking))
    assert still.get_json()["outcome"] == "refund_pending" and _reload(db, booking).refund_state == "pending"
    event = _refund_event(checkout.refund_id, "succeeded", event_id="evt_r1", booking=booking)
    assert _post(client, event).get_json()["outcome"] == "refunded"
    done = _reload(db, booking)
    assert done.refund_state == "refunded" and done.refunded_at is not None
    assert (done.transitions[-1].note_code, done.transitions[-1].actor) == (Note.REFUNDED, "provider")
    assert done.transitions[-1].note_params == {"refund": checkout.refund_id}
    assert credit_note_for(done) is not None
    assert _post(client, event).get_json()["outcome"] == "duplicate"  # Stripe delivers twice
    again = _post(client, {**event, "id": "evt_r2"})  # the same news in another event
    assert again.get_json()["outcome"] == "unchanged"
    assert [t.note_code for t in _reload(db, booking).transitions].count(Note.REFUNDED) == 1
    assert db.session.scalar(select(StripeCheckout.refund_status)) == "succeeded"


def test_a_pending_refund_whose_event_never_comes_is_asked_about_after_an_hour(app, client, db, jobs, booking,
                                                                                stripe_api, frozen_now):
    """No refund.updated arrives (the endpoint was set up without refund events, or Stripe gave
    up retrying): the sweep asks Stripe itself, once an hour, and applies the answer as the
    event would have."""
    from reflexion.jobs.periodic import run_reconcile

    stripe_api.refund_status = "pending"
    _cancel_paid_online(client, db, booking)
    run_worker(app)
    refund_id = db.session.scalar(select(StripeCheckout.refund_id))
    asked = lambda: stripe_api.to(f"/v1/refunds/{refund_id}")  # noqa: E731

    frozen_now(clock.now() + timedelta(minutes=50))
    run_reconcile()
    run_worker(app)
    assert asked() == []  # its event may still come
    frozen_now(clock.now() + timedelta(minutes=11))
    run_reconcile()
    run_reconcile()  # the question is queued: not a second one
    run_worker(app)
    [question] = asked()
    assert question.method == "GET" and _reload(db, booking).refund_state == "pending"  # still pending at Stripe
    run_reconcile()
    run_worker(app)
    assert len(asked()) == 1  # the next question in an hour, not at every sweep

    stripe_api.refund_now[refund_id] = "succeeded"
    frozen_now(clock.now() + timedelta(minutes=61))
    run_reconcile()
    run_worker(app)
    assert len(asked()) == 2
    done = _reload(db, booking)
    assert done.refund_state == "refunded" and done.refunded_at is not None
    assert (done.transitions[-1].note_code, done.transitions[-1].note_params) == (Note.REFUNDED, {"refund": refund_id})
    assert credit_note_for(done) is not None
    frozen_now(clock.now() + timedelta(hours=3))
    run_reconcile()
    run_worker(app)
    assert len(asked()) == 2 and len(stripe_api.to("/v1/refunds")) == 1  # settled: never asked or sent again
    # the event arriving late after all changes nothing
    late = _refund_event(refund_id, "succeeded", event_id="evt_late", booking=booking)
    assert _post(client, late).get_json()["outcome"] in ("stale", "unchanged")
    assert [t.note_code for t in _reload(db, booking).transitions].count(Note.REFUNDED) == 1


@pytest.mark.parametrize("answer", ["failed", "canceled", "unreachable"])
def test_asking_stripe_about_a_pending_refund_hands_a_failed_one_back_and_survives_an_outage(
        app, client, db, jobs, booking, stripe_api, frozen_now, answer):
    from reflexion.jobs.periodic import run_reconcile

    stripe_api.refund_status = "pending"
    _cancel_paid_online(client, db, booking)
    run_worker(app)
    refund_id = db.session.scalar(select(StripeCheckout.refund_id))
    if answer == "unreachable":
        stripe_api.fail(f"/v1/refunds/{refund_id}", 500)
    else:
        stripe_api.refund_now[refund_id] = answer
    frozen_now(clock.now() + timedelta(minutes=61))
    run_reconcile()
    run_worker(app)
    assert len(stripe_api.to(f"/v1/refunds/{refund_id}")) == 1
    back = _reload(db, booking)
    if answer == "unreachable":
        assert back.refund_state == "pending"  # nothing decided without Stripe's word
        run_reconcile()
        run_worker(app)
        assert len(stripe_api.to(f"/v1/refunds/{refund_id}")) == 1  # asked again in an hour, not at once
        frozen_now(clock.now() + timedelta(minutes=61))
        run_reconcile()
        run_worker(app)
        assert len(stripe_api.to(f"/v1/refunds/{refund_id}")) == 2
        assert _reload(db, booking).refund_state == "pending"
    else:
        assert (back.refund_state, back.refund_cents, back.refunded_at) == ("due", 9000, None)
        assert back.transitions[-1].note_code == Note.ONLINE_REFUND_FAILED
        assert answer in back.transitions[-1].note_params["error"]


@pytest.mark.parametrize("answer, kind, status", [
    ("pending", "refund.updated", "canceled"),   # pending, then canceled
    ("pending", "refund.failed", "failed"),       # pending, then failed
    ("succeeded", "refund.failed", "failed"),     # reported succeeded, fails afterwards (a closed card)
])
def test_a_refund_stripe_later_reports_failed_or_canceled_is_the_operators_again(
        app, client, db, jobs, booking, stripe_api, answer, kind, status):
    stripe_api.refund_status = answer
    _cancel_paid_online(client, db, booking)
    run_worker(app)
    assert _reload(db, booking).refund_state == ("refunded" if answer == "succeeded" else "pending")
    refund_id = db.session.scalar(select(StripeCheckout.refund_id))
    earlier = clock.now()
    failed = _refund_event(refund_id, status, kind=kind, event_id="evt_r1", booking=booking,
                           failure_reason="expired_or_canceled_card",
                           created=earlier + timedelta(seconds=30))
    assert _post(client, failed).get_json()["outcome"] == "refund_failed"
    back = _reload(db, booking)
    assert (back.refund_state, back.refund_cents, back.refunded_at) == ("due", 9000, None)
    note = back.transitions[-1]
    assert (note.note_code, note.actor) == (Note.ONLINE_REFUND_FAILED, "provider")
    assert status in note.note_params["error"] and "expired_or_canceled_card" in note.note_params["error"]
    with app.test_request_context("/"):
        assert entry_text_in(note, "de").startswith("die Online-Erstattung ist fehlgeschlagen (refund ")
        assert entry_text_in(note, "sv").startswith("återbetalningen online misslyckades (refund ")
    # an older event (Stripe's order is not guaranteed) changes nothing now
    late = _refund_event(refund_id, "succeeded", event_id="evt_r0", booking=booking, created=earlier)
    assert _post(client, late).get_json()["outcome"] == "stale"
    assert _reload(db, booking).refund_state == "due"
    assert _post(client, {**failed, "id": "evt_r3"}).get_json()["outcome"] == "unchanged"  # handed back once
    assert [t.note_code for t in _reload(db, booking).transitions].count(Note.ONLINE_REFUND_FAILED) == 1

    # the operator sees it as theirs to pay back (the button to mark it paid out)
    from reflexion.operator.auth import create_operator

    create_operator("op@example.org", "correct horse battery")
    db.session.commit()
    operator = app.test_client()
    assert operator.post("/operator/login", data={"email": "op@example.org",
                                                  "password": "correct horse battery"}).status_code == 303
    refunds = operator.get("/operator/").get_data(as_text=True).split('id="refunds"', 1)[1].split("</section>", 1)[0]
    assert f'data-booking="{booking.ref}" data-refund="due"' in refunds
    assert 'action="/operator/bookings/%d/refunded"' % booking.id in refunds


def test_refund_events_are_signed_and_must_name_a_payment_here(app, client, db, booking, stripe_api):
    event = _refund_event("re_elsewhere", "failed", kind="refund.failed", intent="pi_elsewhere")
    assert _post(client, event, secret="whsec_forged").status_code == 400
    assert _count(db, StripeEvent) == 0
    assert _post(client, event).get_json()["outcome"] == "unknown_refund"
    _paid_online(client, db, booking)
    checkout = db.session.scalar(select(StripeCheckout))
    checkout.refund_id, checkout.refund_status = "re_ours", "pending"
    booking.refund_state = "pending"
    db.session.commit()
    other = _refund_event("re_dashboard", "failed", kind="refund.failed", event_id="evt_r2", booking=booking)
    assert _post(client, other).get_json()["outcome"] == "other_refund"  # not the refund this app made
    assert _reload(db, booking).refund_state == "pending"


def test_a_bank_transfer_refund_stays_with_the_operator(app, client, db, jobs, booking, stripe_api):
    from reflexion.booking.payments import confirm_payment

    confirm_payment(booking)
    db.session.commit()
    _open(client, booking)
    assert client.post(f"/de/booking/{booking.ref}/cancel").status_code == 303
    run_worker(app)
    assert stripe_api.to("/v1/refunds") == []
    assert _reload(db, booking).refund_state == "due"


# --- switched off -------------------------------------------------------------------------

def test_without_the_keys_there_is_no_button_and_no_webhook(app_config, make_app, booking, stripe_api):
    off = make_app(STRIPE_SECRET_KEY=None, STRIPE_WEBHOOK_SECRET=None)
    client = off.test_client()
    with off.app_context():
        _open(client, booking)
        response = client.get(f"/de/booking/{booking.ref}")
        assert "data-pay-online" not in response.get_data(as_text=True)
        assert "checkout.stripe.com" not in response.headers["Content-Security-Policy"]
        assert client.post(f"/de/booking/{booking.ref}/pay-online").status_code == 404
        assert _post(client, _event(booking)).status_code == 404
        assert "data-payment-provider" not in client.get("/de/privacy").get_data(as_text=True)
    only_one = make_app(STRIPE_WEBHOOK_SECRET=None)  # both are needed
    with only_one.app_context():
        assert _post(only_one.test_client(), _event(booking)).status_code == 404
    assert stripe_api.requests == []


def test_the_privacy_notice_names_stripe_when_it_is_on(app, client):
    assert "data-payment-provider>Stripe" in client.get("/de/privacy").get_data(as_text=True)


# --- what the operator sees -----------------------------------------------------------------

def _operator(client, db):
    from reflexion.operator.auth import create_operator

    create_operator("op@example.com", "correct horse battery")
    db.session.commit()
    client.application.config["OPERATOR_SESSION_MAX_HOURS"] = 24 * 365
    assert client.post("/operator/login", data={"email": "op@example.com",
                                                "password": "correct horse battery"}).status_code == 303


def test_the_operator_sees_a_mismatch_and_a_refund_in_flight_and_marks_the_mismatch_dealt_with(
        app, client, db, booking, make_booking):
    _post(client, _event(booking, amount=4500))
    other = make_booking(START + timedelta(hours=2))
    other.state = "expired"
    db.session.commit()
    _post(client, _event(other, event_id="evt_2", intent="pi_test_2", session_id="cs_test_0002"))
    _operator(client, db)
    page = client.get("/operator/").get_data(as_text=True)
    online = page.split('id="online-payments"', 1)[1].split("</section>", 1)[0]
    assert f'data-booking="{booking.ref}"' in online and 'data-online-payment="mismatch"' in online
    assert "pi_test_1" in online and other.ref not in online  # the late one is refunded by itself
    refunds = page.split('id="refunds"', 1)[1].split("</section>", 1)[0]
    assert f'data-booking="{other.ref}" data-refund="pending"' in refunds
    assert 'action="/operator/bookings/%d/refunded"' % other.id not in refunds  # Stripe's to do, not the operator's
    panel = client.get(f"/operator/sessions/{booking.id}").get_data(as_text=True)
    assert "45,00\xa0€" in panel and "90,00\xa0€" in panel  # the audit note, in the panel's language (German)
    checkout = db.session.scalar(select(StripeCheckout).where(StripeCheckout.booking_id == booking.id))
    assert client.post(f"/operator/payments/online/{checkout.id}/done").status_code == 303
    assert 'id="online-payments"' not in client.get("/operator/").get_data(as_text=True)


def test_the_secrets_stay_out_of_the_logs_and_the_settings(app, client, db, jobs, booking, stripe_api, runner, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    _open(client, booking)
    assert client.post(f"/de/booking/{booking.ref}/pay-online").status_code == 303
    _post(client, _event(booking))
    _post(client, _event(booking), secret="whsec_forged")
    assert client.post(f"/de/booking/{booking.ref}/cancel").status_code == 303
    run_worker(app)
    assert len(stripe_api.to("/v1/refunds")) == 1
    assert "sk_test_reflexion" not in caplog.text and SECRET not in caplog.text
    shown = runner.invoke(args=["settings", "show", "--json"]).output
    assert "STRIPE" not in shown and "sk_test" not in shown and "whsec" not in shown

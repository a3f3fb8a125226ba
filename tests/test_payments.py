"""Payment confirmation and the confirmation data on the client's booking page."""
import logging
import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text

from reflexion.booking import codes
from reflexion.booking.models import Payment
from reflexion.booking.payments import PaymentError, confirm_payment, issue_confirmation_code
from reflexion.booking.states import Actor, IllegalTransition
from frozen import NOW

UTC = timezone.utc

START = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)  # Tue 09:00 MEZ


def _open(client, booking, lang="de"):
    response = client.post(f"/{lang}/booking/{booking.ref}", data={"access_key": "abcd-efgh-jkmn"})
    assert response.status_code == 303
    return client.get(f"/{lang}/booking/{booking.ref}").get_data(as_text=True)


def test_mark_paid_confirms_through_the_audit_log_and_records_the_payment(app, db, make_booking, frozen_now):
    """awaiting_payment -> confirmed by the operator at now; Payment with amount, currency, method, instant."""
    frozen_now(NOW)
    booking = make_booking(START)
    entry = confirm_payment(booking)
    db.session.commit()
    db.session.refresh(booking)
    assert booking.state == "confirmed" and booking.confirmed_at == NOW
    assert (entry.from_state, entry.to_state, entry.actor, entry.at) == ("awaiting_payment", "confirmed",
                                                                         "operator", NOW)
    assert booking.transitions[-1].id == entry.id and entry.note_params == {"method": "bank_transfer"}
    (payment,) = db.session.scalars(select(Payment)).all()
    assert (payment.amount_cents, payment.currency, payment.method, payment.paid_at, payment.recorded_by) == (
        9000, "EUR", "bank_transfer", NOW, "operator")
    assert booking.ical_sequence == 1


def test_a_payment_provider_plugs_in_at_the_same_function(app, db, make_booking, frozen_now):
    """method, amount, currency, instant and the provider's reference are recorded as given."""
    frozen_now(NOW)
    booking = make_booking(START)
    paid_at = NOW - timedelta(minutes=3)
    confirm_payment(booking, method="card", amount_cents=9000, currency="EUR", paid_at=paid_at,
                    provider_reference="pi_123")
    db.session.commit()
    (payment,) = booking.payments
    assert (payment.method, payment.provider_reference, payment.paid_at, payment.recorded_at) == (
        "card", "pi_123", paid_at, NOW)


@pytest.mark.parametrize("state", ["confirmed", "expired", "cancelled", "completed"])
def test_only_an_unpaid_booking_can_be_marked_paid(app, db, make_booking, frozen_now, state):
    """Any other state raises IllegalTransition and records nothing."""
    frozen_now(NOW)
    booking = make_booking(START, state=state)
    with pytest.raises(IllegalTransition):
        confirm_payment(booking)
    db.session.rollback()
    assert db.session.scalars(select(Payment)).all() == []


def test_the_client_cannot_mark_their_own_booking_paid(app, db, make_booking, frozen_now):
    frozen_now(NOW)
    booking = make_booking(START)
    with pytest.raises(IllegalTransition):
        confirm_payment(booking, actor=Actor.CLIENT)


def test_a_booking_without_call_handle_cannot_be_confirmed(app, db, make_booking, frozen_now):
    """PRODUCT.md §2 rule 2: no handle, no confirmation."""
    frozen_now(NOW)
    booking = make_booking(START, call_handle="  ")
    with pytest.raises(PaymentError):
        confirm_payment(booking)
    assert booking.state == "awaiting_payment"


def test_confirmation_data_are_digits_unlike_the_reference_and_stored_only_as_hash(app, db, make_booking,
                                                                                   frozen_now):
    """Eight digits '1234 5678'; no column of the booking holds them; the hash verifies them."""
    frozen_now(NOW)
    booking = make_booking(START)
    confirm_payment(booking)
    db.session.commit()
    code = codes.confirmation_code_for(booking)
    assert re.fullmatch(r"\d{4} \d{4}", code)
    assert codes.REF_PATTERN.match(booking.ref) and not codes.REF_PATTERN.match(code)
    row = db.session.execute(text("SELECT * FROM booking WHERE id = :id"), {"id": booking.id}).mappings().one()
    for value in row.values():
        assert code not in str(value) and code.replace(" ", "") not in str(value)
    assert codes.check_confirmation_code(booking.confirmation_hash, code)
    assert codes.check_confirmation_code(booking.confirmation_hash, code.replace(" ", "-"))
    wrong = f"{(int(code.replace(' ', '')) + 1) % 10**8:08d}"
    assert not codes.check_confirmation_code(booking.confirmation_hash, wrong)
    # Re-issuing gives new data; the old digits stop matching.
    issue_confirmation_code(booking)
    new = codes.confirmation_code_for(booking)
    assert codes.check_confirmation_code(booking.confirmation_hash, new)
    assert new == code or not codes.check_confirmation_code(booking.confirmation_hash, code)


def test_booking_page_before_payment_shows_payment_instructions_and_no_confirmation_data(app, client, db,
                                                                                          make_booking, frozen_now):
    frozen_now(NOW)
    booking = make_booking(START)
    page = _open(client, booking)
    assert 'data-booking-state="awaiting_payment"' in page
    assert app.config["BANK_IBAN"] in page
    assert "data-confirmation-code" not in page and "invite.ics" not in page
    assert "MEZ" in page  # every time with its zone


def test_booking_page_after_payment_shows_data_handle_rules_and_invite(app, client, db, make_booking, frozen_now):
    """data-confirmation-code, the operator's handle with 'add to contacts', the rules, the .ics link."""
    frozen_now(NOW)
    booking = make_booking(START, lang="sv")
    confirm_payment(booking)
    db.session.commit()
    page = _open(client, booking, "sv")
    shown = re.search(r"data-confirmation-code>([^<]+)<", page).group(1)
    assert shown == codes.confirmation_code_for(booking)
    handle = "kontakt@internet-reflexion.example"  # the operator's handle on the booked platform (Teams)
    assert f"data-operator-handle>{handle}<" in page
    assert "contacts" in page or "kontakt" in page
    assert "15" in page and "45" in page
    assert f"/sv/booking/{booking.ref}/invite.ics" in page
    assert "CET" in page
    # Paid and ahead: the client may cancel (refund per policy) and move it (issue #12).
    assert "data-cancel-booking" in page and "data-refund-if-cancelled" in page


def test_confirmation_data_hidden_when_they_no_longer_match_their_hash(app, client, db, make_booking, frozen_now):
    """A changed SECRET_KEY would show digits the operator cannot verify: the page shows a notice instead."""
    frozen_now(NOW)
    booking = make_booking(START)
    confirm_payment(booking)
    db.session.commit()
    app.config["SECRET_KEY"] = "rotated-secret"
    page = _open(client, booking)
    assert "data-confirmation-code" not in page
    assert 'role="alert"' in page


def test_confirmation_data_never_reach_a_log_line(app, client, db, make_booking, frozen_now, caplog):
    """Confirm, send, show the page: no log record carries the digits."""
    from reflexion.jobs.queue import use_job_app
    from mail_helpers import run_worker

    frozen_now(NOW)
    use_job_app(app)
    try:
        with caplog.at_level(logging.DEBUG):
            booking = make_booking(START)
            confirm_payment(booking)
            db.session.commit()
            run_worker(app)
            _open(client, booking)
    finally:
        use_job_app(None)
    code = codes.confirmation_code_for(booking)
    for record in caplog.records:
        message = record.getMessage()
        assert code not in message and code.replace(" ", "") not in message


def test_the_booking_page_shows_the_digits_without_a_slow_hash_check(app, client, db, make_booking, frozen_now,
                                                                     monkeypatch):
    """The nonce carries a check of the secret it was made under: no scrypt runs for the page
    (the operator's check still uses the stored slow hash)."""
    frozen_now(NOW)
    booking = make_booking(START)
    confirm_payment(booking)
    db.session.commit()
    monkeypatch.setattr(codes, "check_confirmation_code", lambda *a: pytest.fail("slow check ran"))
    page = _open(client, booking)
    assert f"data-confirmation-code>{codes.confirmation_code_for(booking)}<" in page
    assert codes.nonce_fits_secret(booking.confirmation_nonce) is True
    app.config["SECRET_KEY"] = "rotated-secret"
    assert codes.nonce_fits_secret(booking.confirmation_nonce) is False


def test_an_older_nonce_without_its_check_falls_back_to_the_hash(app, client, db, make_booking, frozen_now):
    """Confirmation data issued before the check existed are still shown (checked once by hash)."""
    frozen_now(NOW)
    booking = make_booking(START)
    confirm_payment(booking)
    booking.confirmation_nonce = "0123456789abcdef0123456789abcdef"  # the old form: random only
    booking.confirmation_hash = codes.hash_confirmation_code(codes.confirmation_code_for(booking))
    db.session.commit()
    assert codes.nonce_fits_secret(booking.confirmation_nonce) is None
    page = _open(client, booking)
    assert f"data-confirmation-code>{codes.confirmation_code_for(booking)}<" in page
    app.config["SECRET_KEY"] = "rotated-secret"
    assert "data-confirmation-code" not in _open(client, booking)

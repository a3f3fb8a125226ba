"""The EPC QR code ("GiroCode") in the payment instructions: page and e-mail, decoded for real."""
import html as html_module
import re
from datetime import datetime, timezone

import pytest

from mail_helpers import outbox_messages, parts_by_type, run_worker, translated
from qr_helpers import data_uri_png, decode_qr, epc_fields
from reflexion.booking.payment_qr import EPCError, epc_payload
from reflexion.mail import messages
from reflexion.mail.tasks import queue_email

UTC = timezone.utc
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
START = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
ALT = "QR code for the bank transfer (GiroCode): account holder, IBAN, amount %(amount)s and reference %(ref)s"


def _open(client, booking, lang):
    response = client.post(f"/{lang}/booking/{booking.ref}", data={"access_key": "abcd-efgh-jkmn"})
    assert response.status_code == 303
    return client.get(f"/{lang}/booking/{booking.ref}")


def _expected(app, booking, amount):
    return ["BCD", "002", "1", "SCT", app.config["BANK_BIC"], app.config["BANK_ACCOUNT_HOLDER"],
            app.config["BANK_IBAN"].replace(" ", ""), amount, "", "", booking.ref]


@pytest.mark.parametrize("lang, fee_cents, amount, shown", [
    ("de", 9000, "EUR90.00", "90,00\xa0€"),
    ("sv", 9000, "EUR90.00", "90,00\xa0€"),
    ("de", 8950, "EUR89.50", "89,50\xa0€"),
    ("sv", 8950, "EUR89.50", "89,50\xa0€"),
])
def test_the_booking_page_shows_a_qr_code_that_decodes_to_the_bookings_transfer(
        app, client, db, make_booking, frozen_now, lang, fee_cents, amount, shown):
    """Every field, decoded by zxing-cpp from the <img data-payment-qr>: holder, IBAN, BIC, amount, reference."""
    frozen_now(NOW)
    booking = make_booking(START, lang=lang)
    booking.fee_cents = fee_cents
    db.session.commit()
    response = _open(client, booking, lang)
    page = response.get_data(as_text=True)
    assert epc_fields(data_uri_png(page)) == _expected(app, booking, amount)
    alt = html_module.unescape(re.search(r'<img[^>]*data-payment-qr[^>]*alt="([^"]+)"', page).group(1))
    assert alt == translated(app, lang, ALT, amount=shown, ref=booking.ref)
    assert alt != ALT % {"amount": shown, "ref": booking.ref}  # translated, not the English source
    # The page's own CSP lets the data: image load.
    assert "img-src 'self' data:" in response.headers["Content-Security-Policy"]


def test_the_page_right_after_booking_shows_the_code_too(app, client, db, weekly_hours, frozen_now):
    frozen_now(NOW)
    response = client.post("/de/book/2026-11-24T08:00:00Z", data={
        "name": "Erika Muster", "email": "erika@example.org", "call_handle": "erika.muster@example.org", "accept_terms": "y", "early_start": "y"})
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    ref = re.search(r"data-booking-ref>([^<]+)<", page).group(1)
    assert epc_fields(data_uri_png(page))[-1] == ref


def test_names_outside_ascii_are_carried_as_utf8(app, client, db, make_booking, frozen_now):
    """Character set 1 is UTF-8: å, ö, ü, – arrive unchanged."""
    frozen_now(NOW)
    app.config["BANK_ACCOUNT_HOLDER"] = "Åsa Söderström – Praxis Müller"
    booking = make_booking(START, lang="sv")
    page = _open(client, booking, "sv").get_data(as_text=True)
    fields = epc_fields(data_uri_png(page))
    assert fields[2] == "1" and fields[5] == "Åsa Söderström – Praxis Müller"


def test_no_code_once_paid(app, client, db, make_booking, frozen_now):
    frozen_now(NOW)
    booking = make_booking(START, state="confirmed")
    page = _open(client, booking, "de").get_data(as_text=True)
    assert "data-payment-qr" not in page


@pytest.mark.parametrize("lang", ["de", "sv"])
def test_no_code_and_no_word_of_one_for_a_fee_in_swedish_crowns(app, client, db, make_booking, frozen_now, lang):
    """SEPA credit transfers are in euros: for SEK the page shows the bank details only."""
    frozen_now(NOW)
    booking = make_booking(START, lang=lang)
    booking.currency = "SEK"
    db.session.commit()
    page = _open(client, booking, lang).get_data(as_text=True)
    assert app.config["BANK_IBAN"] in page and booking.ref in page
    # The random reference may itself contain the letters "QR": look at the page without it.
    page = page.replace(booking.ref, "")
    assert "data-payment-qr" not in page and "GiroCode" not in page and "QR" not in page


def test_bank_details_that_do_not_fit_the_standard_give_no_code_and_no_error(app, client, db, make_booking,
                                                                             frozen_now):
    frozen_now(NOW)
    app.config["BANK_IBAN"] = "DE02 1203 0000 0000 2020 52"  # wrong check digits
    booking = make_booking(START)
    response = _open(client, booking, "de")
    assert response.status_code == 200 and "data-payment-qr" not in response.get_data(as_text=True)


GOOD = dict(name="Internet Reflexion", iban="DE02 1203 0000 0000 2020 51", bic="BYLADEM1001", amount_cents=9000,
            currency="EUR", text="R-7KQ4M2")


@pytest.mark.parametrize("change, problem", [
    ({"currency": "SEK"}, "euro"),
    ({"name": "x" * 71}, "holder"),
    ({"name": "Line\nbreak"}, "line breaks"),
    ({"text": "y" * 141}, "remittance"),
    ({"iban": "DE02120300000000202052"}, "IBAN"),
    ({"bic": "BYLA"}, "BIC"),
    ({"amount_cents": 0}, "amount"),
    ({"amount_cents": 100_000_000_000}, "amount"),
])
def test_the_payload_keeps_the_standards_limits(change, problem):
    with pytest.raises(EPCError, match=problem):
        epc_payload(**{**GOOD, **change})


def test_the_payload_at_its_limits_fits_331_bytes_and_decodes():
    """70-character name, 140-character text, the largest amount: still one valid code."""
    from reflexion.booking.payment_qr import qr_image

    payload = epc_payload(**{**GOOD, "name": "N" * 70, "text": "T" * 140, "amount_cents": 99_999_999_999})
    assert len(payload) <= 331
    assert payload.split(b"\n")[7] == b"EUR999999999.99"
    assert decode_qr(qr_image(payload).png) == payload
    assert epc_payload(**{**GOOD, "bic": ""}).split(b"\n")[4] == b""  # BIC optional in version 002


@pytest.mark.parametrize("lang", ["de", "sv"])
def test_the_received_email_carries_the_code_inline(app, db, make_booking, frozen_now, jobs, lang):
    """multipart/alternative: text/plain, then multipart/related (text/html + image/png by Content-ID)."""
    frozen_now(NOW)
    booking = make_booking(START, lang=lang)
    booking.fee_cents = 8950
    queue_email(messages.BOOKING_RECEIVED, booking=booking)
    db.session.commit()
    run_worker(app)
    (message,) = outbox_messages(app)
    alternative = next(part for part in message.walk() if part.get_content_type() == "multipart/alternative")
    kinds = [part.get_content_type() for part in alternative.iter_parts()]
    assert kinds == ["text/plain", "multipart/related"], kinds
    related = list(alternative.iter_parts())[1]
    html_part, image = list(related.iter_parts())
    assert html_part.get_content_type() == "text/html" and image.get_content_type() == "image/png"
    cid = str(image["Content-ID"]).strip().strip("<>")
    html = html_part.get_content()
    assert f'src="cid:{cid}"' in html
    alt = html_module.unescape(re.search(r'<img[^>]*alt="([^"]+)"', html).group(1))
    assert alt == translated(app, lang, ALT, amount="89,50\xa0€", ref=booking.ref)
    assert epc_fields(image.get_content()) == _expected(app, booking, "EUR89.50")
    text = parts_by_type(message)["text/plain"][0].get_content()
    assert "cid:" not in text and booking.ref in text


def test_no_inline_image_for_a_fee_in_swedish_crowns(app, db, make_booking, frozen_now, jobs):
    frozen_now(NOW)
    booking = make_booking(START, lang="sv")
    booking.currency = "SEK"
    queue_email(messages.BOOKING_RECEIVED, booking=booking)
    db.session.commit()
    run_worker(app)
    (message,) = outbox_messages(app)
    assert "image/png" not in parts_by_type(message) and "multipart/related" not in str(message)
    html = parts_by_type(message)["text/html"][0].get_content()
    # The random reference may itself contain the letters "QR": look at the mail without it.
    assert "<img" not in html and "QR" not in html.replace(booking.ref, "")

"""PDF receipts and credit notes: numbers, content in both languages, access, e-mail attachment."""
import re
from datetime import datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select

from mail_helpers import outbox_messages, run_worker
from qr_helpers import pdf_text
from reflexion import signals
from reflexion.booking.payments import confirm_payment
from reflexion.receipts import documents
from reflexion.receipts.models import Receipt
from reflexion.receipts.vat import vat_split

UTC = timezone.utc
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
START = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)  # Tue 09:00 MEZ


def _open(client, booking, lang="de"):
    response = client.post(f"/{lang}/booking/{booking.ref}", data={"access_key": "abcd-efgh-jkmn"})
    assert response.status_code == 303
    return client.get(f"/{lang}/booking/{booking.ref}").get_data(as_text=True)


def _paid(db, make_booking, start=START, **kwargs):
    booking = make_booking(start, **kwargs)
    confirm_payment(booking)
    db.session.commit()
    return booking


def _receipt_pdf(client, booking, lang="de", opened=False):
    if not opened:
        _open(client, booking, lang)
    response = client.get(f"/{lang}/booking/{booking.ref}/receipt.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    return response, pdf_text(response.data)


def _flat(text):
    return re.sub(r"\s+", " ", text)


def test_a_confirmed_payment_gets_a_german_receipt_with_the_19_ustg_note(app, client, db, make_booking,
                                                                          frozen_now):
    frozen_now(NOW)
    booking = _paid(db, make_booking, name="Jürgen Weiß")
    response, text = _receipt_pdf(client, booking)
    flat = _flat(text)
    assert 'filename="Quittung-B-000001.pdf"' in response.headers["Content-Disposition"]
    assert "Quittung B-000001" in flat
    assert "Jürgen Weiß" in flat and booking.ref in flat
    assert app.config["OPERATOR_NAME"] in flat
    for line in app.config["POSTAL_ADDRESS"].splitlines():
        assert line in flat
    assert "Videogespräch, 45 Minuten, am Dienstag, 24. November 2026, 09:00 MEZ" in flat
    assert "90,00 €" in flat
    assert "§ 19 UStG" in flat and "keine Umsatzsteuer" in flat
    assert "23. November 2026" in flat  # date of issue and of payment
    assert "MwSt" not in flat and "Nettobetrag" not in flat


def test_a_swedish_client_gets_a_swedish_receipt(app, client, db, make_booking, frozen_now):
    frozen_now(NOW)
    booking = _paid(db, make_booking, lang="sv", name="Åsa Öberg")
    response, text = _receipt_pdf(client, booking, "sv")
    flat = _flat(text)
    assert 'filename="Kvitto-B-000001.pdf"' in response.headers["Content-Disposition"]
    assert "Kvitto B-000001" in flat and "Åsa Öberg" in flat
    assert "Videosamtal, 45 minuter, tisdag 24 november 2026 kl. 09:00 CET" in flat
    assert "90,00 €" in flat
    assert "§ 19 UStG" in flat and "ingen mervärdesskatt" in flat
    assert "Quittung" not in flat and "Umsatzsteuer" not in flat


@pytest.mark.parametrize("lang, fee_cents, net, vat, gross, words", [
    ("de", 9000, "75,63 €", "14,37 €", "90,00 €", ("Nettobetrag", "MwSt. 19 %", "Gesamt")),
    ("sv", 8950, "75,21 €", "14,29 €", "89,50 €", ("Nettobelopp", "Moms 19 %", "Totalt")),
])
def test_standard_vat_prints_net_rate_vat_and_gross(app, client, db, make_booking, frozen_now, lang, fee_cents,
                                                    net, vat, gross, words):
    frozen_now(NOW)
    app.config.update(VAT_MODE="standard", VAT_RATE_PERCENT="19", VAT_ID="DE123456789")
    booking = make_booking(START, lang=lang)
    booking.fee_cents = fee_cents
    confirm_payment(booking)
    db.session.commit()
    _, text = _receipt_pdf(client, booking, lang)
    flat = _flat(text)
    for word in words:
        assert word in flat, word
    assert net in flat and vat in flat and gross in flat
    assert "DE123456789" in flat and "19 UStG" not in flat


def test_vat_split_adds_up():
    for gross in (1, 99, 8950, 9000, 12345):
        for rate in ("19", "7", "25", "0"):
            net, vat = vat_split(gross, rate)
            assert net + vat == gross and net >= 0 and vat >= 0
    assert vat_split(9000, "19") == (7563, 1437)


def test_numbers_follow_each_other_and_a_rollback_gives_its_number_back(app, db, make_booking, frozen_now):
    frozen_now(NOW)
    first = _paid(db, make_booking)
    lost = make_booking(datetime(2026, 11, 25, 8, tzinfo=UTC))
    confirm_payment(lost)
    assert documents.receipt_for(lost).number == 2
    db.session.rollback()
    second = _paid(db, make_booking, datetime(2026, 11, 26, 8, tzinfo=UTC))
    third = _paid(db, make_booking, datetime(2026, 11, 27, 8, tzinfo=UTC))
    numbers = [documents.receipt_for(b).display_number for b in (first, second, third)]
    assert numbers == ["B-000001", "B-000002", "B-000003"]
    assert db.session.scalar(select(Receipt).where(Receipt.booking_id == lost.id)) is None


def test_the_receipt_keeps_what_it_said_when_settings_change(app, client, db, make_booking, frozen_now):
    frozen_now(NOW)
    booking = _paid(db, make_booking)
    _, before = _receipt_pdf(client, booking)
    app.config.update(OPERATOR_NAME="Someone Else", VAT_MODE="standard", POSTAL_ADDRESS="Elsewhere 9")
    booking.name = "Renamed"
    db.session.commit()
    _, after = _receipt_pdf(client, booking, opened=True)
    assert after == before


def test_the_receipt_route_needs_the_booking_pages_access(app, client, db, make_booking, frozen_now):
    frozen_now(NOW)
    booking = _paid(db, make_booking)
    assert client.get(f"/de/booking/{booking.ref}/receipt.pdf").status_code == 404
    other = make_booking(datetime(2026, 11, 25, 8, tzinfo=UTC), access_key="wxyz-wxyz-wxyz")
    client.post(f"/de/booking/{other.ref}", data={"access_key": "wxyz-wxyz-wxyz"})
    assert client.get(f"/de/booking/{booking.ref}/receipt.pdf").status_code == 404
    assert client.get(f"/de/booking/{other.ref}/receipt.pdf").status_code == 404  # opened, but not paid
    assert client.get("/de/booking/R-ZZZZZZ/receipt.pdf").status_code == 404
    assert client.get(f"/de/booking/{booking.ref}/credit-note.pdf").status_code == 404
    _open(client, booking)
    assert client.get(f"/de/booking/{booking.ref}/receipt.pdf").status_code == 200
    assert client.get(f"/de/booking/{booking.ref}/credit-note.pdf").status_code == 404  # no refund


def test_the_booking_page_links_the_receipt_once_paid(app, client, db, make_booking, frozen_now):
    frozen_now(NOW)
    booking = make_booking(START)
    page = _open(client, booking)
    assert "data-receipt" not in page
    confirm_payment(booking)
    db.session.commit()
    page = client.get(f"/de/booking/{booking.ref}").get_data(as_text=True)
    link = re.search(r'<a[^>]*href="([^"]+)"[^>]*data-receipt[^>]*>(.+?)</a>', page)
    assert link.group(1) == f"/de/booking/{booking.ref}/receipt.pdf"
    label = re.sub(r"<[^>]+>", "", link.group(2))
    assert label == "Quittung B-000001 herunterladen (PDF)"


@pytest.mark.parametrize("lang, filename, title", [("de", "Quittung-B-000001.pdf", "Quittung"),
                                                   ("sv", "Kvitto-B-000001.pdf", "Kvitto")])
def test_the_confirmation_email_carries_the_receipt(app, db, make_booking, frozen_now, jobs, lang, filename, title):
    frozen_now(NOW)
    booking = _paid(db, make_booking, lang=lang)
    run_worker(app)
    (message,) = [m for m in outbox_messages(app) if "invite.ics" in str(m)]
    attachments = {part.get_filename(): part for part in message.iter_attachments()}
    assert set(attachments) == {"invite.ics", filename}
    part = attachments[filename]
    assert part.get_content_type() == "application/pdf"
    text = _flat(pdf_text(part.get_content()))
    assert f"{title} B-000001" in text and booking.name in text and "90,00 €" in text


def test_a_completed_refund_gives_a_credit_note_referring_to_the_receipt(app, client, db, make_booking,
                                                                          frozen_now):
    """Own gap-free series S-…; sent twice, still one; shown on the booking page."""
    frozen_now(NOW)
    booking = _paid(db, make_booking)
    other = _paid(db, make_booking, datetime(2026, 11, 25, 8, tzinfo=UTC))
    signals.refund_completed.send(booking, amount=Decimal("45.00"))
    signals.refund_completed.send(booking, amount=Decimal("45.00"))
    signals.refund_completed.send(other)
    db.session.commit()
    note = documents.credit_note_for(booking)
    assert (note.display_number, note.refers_to.display_number, note.amount_cents) == ("S-000001", "B-000001", 4500)
    assert documents.credit_note_for(other).display_number == "S-000002"
    assert documents.credit_note_for(other).amount_cents == 9000
    page = _open(client, booking)
    assert f'href="/de/booking/{booking.ref}/credit-note.pdf"' in page and "data-credit-note" in page
    response = client.get(f"/de/booking/{booking.ref}/credit-note.pdf")
    assert 'filename="Gutschrift-S-000001.pdf"' in response.headers["Content-Disposition"]
    flat = _flat(pdf_text(response.data))
    assert "Gutschrift S-000001" in flat and "B-000001" in flat and "-45,00 €" in flat
    assert booking.name in flat and "§ 19 UStG" in flat


def test_a_swedish_credit_note(app, client, db, make_booking, frozen_now):
    frozen_now(NOW)
    booking = _paid(db, make_booking, lang="sv")
    signals.refund_completed.send(booking)
    db.session.commit()
    _open(client, booking, "sv")
    response = client.get(f"/sv/booking/{booking.ref}/credit-note.pdf")
    flat = _flat(pdf_text(response.data))
    assert 'filename="Kreditnota-S-000001.pdf"' in response.headers["Content-Disposition"]
    assert "Kreditnota S-000001" in flat and "B-000001" in flat and "-90,00 €" in flat


def test_a_refund_for_a_booking_without_receipt_issues_nothing(app, db, make_booking, frozen_now):
    frozen_now(NOW)
    booking = make_booking(START, state="confirmed")  # paid before receipts existed
    signals.refund_completed.send(booking)
    db.session.commit()
    assert db.session.scalars(select(Receipt)).all() == []

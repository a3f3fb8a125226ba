"""In a real browser: the booking page's GiroCode is readable off the screen, and once paid
the receipt link downloads the PDF. German and Swedish, 1280 and 375 px, under the CSP.

Screenshots go to /tmp/shots/ (payment-qr-*.png, receipt-link-*.png).
"""
from datetime import datetime, timezone
from pathlib import Path

import pytest

from qr_helpers import epc_fields, pdf_text
from reflexion.booking.payments import confirm_payment

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/shots")
UTC = timezone.utc
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
START = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


def _page(browser, width, locale):
    page = browser.new_page(viewport={"width": width, "height": 900}, locale=locale, accept_downloads=True)
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return page, errors


@pytest.mark.parametrize("lang, locale, heading", [("de", "de-DE", "Quittung"), ("sv", "sv-SE", "Kvitto")])
def test_the_qr_code_reads_off_the_screen_and_the_receipt_downloads_once_paid(
        app, db, live_server, browser, make_booking, frozen_now, lang, locale, heading):
    SHOTS.mkdir(parents=True, exist_ok=True)
    frozen_now(NOW)
    booking = make_booking(START, lang=lang, name="Jürgen Åström")
    booking.fee_cents = 8950
    db.session.commit()
    for width in (1280, 375):
        page, errors = _page(browser, width, locale)
        page.goto(f"{live_server}/{lang}/booking/{booking.ref}")
        page.fill("#access_key", "abcd-efgh-jkmn")
        page.click("button[type=submit]")
        page.wait_for_selector('[data-booking-state="awaiting_payment"]')
        page.screenshot(path=str(SHOTS / f"payment-qr-{lang}-{width}.png"), full_page=True)
        qr = page.locator("img[data-payment-qr]")
        assert qr.is_visible()
        box = qr.bounding_box()
        assert box["width"] >= 180 and box["x"] >= 0 and box["x"] + box["width"] <= width  # whole, on screen
        assert page.evaluate("document.querySelector('img[data-payment-qr]').naturalWidth") > 0  # CSP let it load
        # What a banking app's camera would read: the code as the browser drew it.
        fields = epc_fields(qr.screenshot())
        assert fields[5:8] == [app.config["BANK_ACCOUNT_HOLDER"], app.config["BANK_IBAN"].replace(" ", ""),
                               "EUR89.50"] and fields[-1] == booking.ref
        assert not errors, errors
        if width == 375:
            confirm_payment(booking)
            db.session.commit()
            page.reload()
            page.wait_for_selector('[data-booking-state="confirmed"]')
            assert page.locator("img[data-payment-qr]").count() == 0
            link = page.locator("a[data-receipt]")
            assert link.is_visible() and "B-000001" in link.inner_text()
            page.screenshot(path=str(SHOTS / f"receipt-link-{lang}-{width}.png"), full_page=True)
            with page.expect_download() as download:
                link.click()
            target = SHOTS / f"receipt-{lang}.pdf"
            download.value.save_as(str(target))
            text = pdf_text(target.read_bytes())
            assert f"{heading} B-000001" in text and "Jürgen Åström" in text and "89,50" in text
        page.close()

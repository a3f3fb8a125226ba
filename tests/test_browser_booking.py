"""A client books in a real browser (system Chromium, headless), in German and Swedish, under the CSP.

Screenshots go to /tmp/shots/ (booking-*.png).
"""
from datetime import datetime, timezone
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/shots")


@pytest.fixture
def app_config(app_config):
    app_config["WTF_CSRF_ENABLED"] = True  # the real form, with its token
    return app_config


@pytest.fixture(autouse=True)
def monday_morning(weekly_hours, frozen_now):
    frozen_now(datetime(2026, 11, 23, 8, tzinfo=timezone.utc))  # Monday 09:00 MEZ


def _page(browser, width=1280, lang="de-DE"):
    page = browser.new_page(viewport={"width": width, "height": 900}, locale=lang)
    errors = []
    # The deliberate invalid submission answers 400; anything else logged as an error (a CSP
    # violation, a script error) fails the test.
    page.on("console", lambda msg: errors.append(msg.text)
            if msg.type == "error" and "status of 400" not in msg.text else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return page, errors


@pytest.mark.parametrize("lang, accept, heading, zone", [
    ("de", "de-DE", "Ihre Buchungsdaten", "MEZ"),
    ("sv", "sv-SE", "Dina bokningsuppgifter", "CET"),
])
def test_a_client_books_a_slot_and_opens_the_booking_page(live_server, browser, lang, accept, heading, zone):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page, errors = _page(browser, lang=accept)
    page.goto(f"{live_server}/")
    assert page.url.endswith(f"/{lang}/")
    page.goto(f"{live_server}/{lang}/book")
    # Week navigation through htmx, without a full reload.
    page.evaluate("window.__same = true")
    page.click("a[rel=next]")
    page.wait_for_url("**/book?week=2026-11-30")
    assert page.evaluate("window.__same") is True
    page.click("a[rel=prev]")
    page.wait_for_url("**/book?week=2026-11-23")
    slot = page.locator("[data-slot]").first
    assert slot.get_attribute("data-slot") == "2026-11-24T08:00:00Z"
    assert zone in slot.get_attribute("aria-label")
    page.screenshot(path=str(SHOTS / f"booking-{lang}-calendar.png"), full_page=True)
    slot.click()
    page.fill("#name", "Erika Muster")
    page.fill("#email", "erika@example.org")
    page.fill("#call_handle", "erika.muster@example.org")
    page.click("button[type=submit]")  # forgot the tick: the form comes back with a message
    assert page.locator(".field.checkbox .error").is_visible()
    page.check("#accept_terms")
    if page.locator("#early_start").count():  # a session inside the withdrawal period
        page.check("#early_start")
    page.screenshot(path=str(SHOTS / f"booking-{lang}-form.png"), full_page=True)
    page.click("button[type=submit]")
    page.wait_for_selector("[data-access-key]")
    assert heading in page.content()
    ref = page.locator("[data-booking-ref]").inner_text().strip()
    key = page.locator("[data-access-key]").inner_text().strip()
    page.screenshot(path=str(SHOTS / f"booking-{lang}-created.png"), full_page=True)

    other, other_errors = _page(browser, width=390, lang=accept)
    other.goto(f"{live_server}/{lang}/booking/{ref}")
    other.fill("#access_key", key)
    other.click("button[type=submit]")
    other.wait_for_selector('[data-booking-state="awaiting_payment"]')
    other.screenshot(path=str(SHOTS / f"booking-{lang}-page-mobile.png"), full_page=True)
    assert not errors and not other_errors, errors + other_errors

"""In a real browser: the booking page's "Pay online" button, German and Swedish, under the CSP.

The button's form is answered with a redirect to Stripe's Checkout page; the browser must be
allowed to follow it (CSP ``form-action``). Stripe's page itself is answered by Playwright
(never the internet). Screenshots: /tmp/shots/stripe-pay-online-*.png.
"""
from datetime import timedelta
from pathlib import Path

import pytest

from frozen import NOW
from stripe_standin import nested, stripe_settings

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/shots")
START = NOW + timedelta(days=2)


@pytest.fixture
def app_config(app_config, stripe_api):
    return {**app_config, **stripe_settings(stripe_api)}


@pytest.mark.parametrize("lang, locale, button", [("de", "de-DE", "Jetzt 90,00\u00a0€ online bezahlen"),
                                                   ("sv", "sv-SE", "Betala 90,00\u00a0€ online nu")])
def test_the_pay_online_button_leads_to_stripes_checkout_page(app, db, live_server, browser, make_booking,
                                                              frozen_now, stripe_api, lang, locale, button):
    SHOTS.mkdir(parents=True, exist_ok=True)
    frozen_now(NOW)
    booking = make_booking(START, lang=lang)
    page = browser.new_page(viewport={"width": 1000, "height": 900}, locale=locale)
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    reached = []

    def stripe_page(route):
        reached.append(route.request.url)
        route.fulfill(status=200, content_type="text/html", body="<title>Stripe Checkout</title><p>stand-in")

    page.route("https://checkout.stripe.com/**", stripe_page)
    page.goto(f"{live_server}/{lang}/booking/{booking.ref}")
    page.fill("#access_key", "abcd-efgh-jkmn")
    page.click("button[type=submit]")
    page.wait_for_selector('[data-booking-state="awaiting_payment"]')
    pay = page.locator("[data-pay-online-button]")
    assert pay.is_visible() and pay.inner_text() == button
    page.screenshot(path=str(SHOTS / f"stripe-pay-online-{lang}.png"), full_page=True)
    pay.click()
    page.wait_for_url("https://checkout.stripe.com/**")
    assert reached == ["https://checkout.stripe.com/c/pay/cs_test_0001"]
    assert nested(stripe_api.to("/v1/checkout/sessions")[0].params)["locale"] == lang
    # Back from Stripe: the page says the payment is being processed, and offers no second payment.
    page.goto(f"{live_server}/{lang}/booking/{booking.ref}?online=done")
    page.wait_for_selector("[data-online-processing]")
    assert page.locator("[data-pay-online-button]").count() == 0
    page.screenshot(path=str(SHOTS / f"stripe-processing-{lang}.png"), full_page=True)
    assert not errors, errors
    page.close()

"""The call-platform choice and the operator's copy button in a real browser (system Chromium).

Screenshots go to /work/notes/shots/platforms/ when that folder's parent exists, else /tmp/shots/.
"""
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from reflexion.booking.models import Booking

pytestmark = pytest.mark.browser
NOTES = Path("/work/notes/shots")
SHOTS = NOTES / "platforms" if NOTES.is_dir() else Path("/tmp/shots")
SLOT = "2026-11-25T08:00:00Z"  # Wed 09:00 MEZ


@pytest.fixture
def app_config(app_config):
    app_config["WTF_CSRF_ENABLED"] = True  # the real form, with its token
    app_config["PLATFORMS"] = "teams=kontakt@example.org,whatsapp=+49 151 11122233,signal=+49 151 11122233"
    return app_config


@pytest.fixture(autouse=True)
def monday_morning(weekly_hours, frozen_now):
    frozen_now(datetime(2026, 11, 23, 8, tzinfo=timezone.utc))  # Monday 09:00 MEZ


def _page(browser, width=1280, locale="de-DE"):
    context = browser.new_context(viewport={"width": width, "height": 900}, locale=locale,
                                  timezone_id="Europe/Berlin")
    page = context.new_page()
    errors = []
    page.on("console", lambda msg: errors.append(msg.text)
            if msg.type == "error" and "status of 4" not in msg.text else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return page, errors


def _visible_hints(page):
    return page.eval_on_selector_all("[data-platform-hint]", "els => els.filter(e => !e.hidden)"
                                                             ".map(e => e.dataset.platformHint)")


@pytest.mark.parametrize("lang, locale, national, stored", [
    ("de", "de-DE", "0151 2345 6789", "+4915123456789"),
    ("sv", "sv-SE", "070 123 45 67", "+46701234567"),
])
def test_the_hint_follows_the_chosen_platform_and_whatsapp_books_with_a_phone_number(
        live_server, browser, db, lang, locale, national, stored):
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1280, 375):
        page, errors = _page(browser, width, locale)
        page.goto(f"{live_server}/{lang}/book/{SLOT}")
        assert _visible_hints(page) == ["teams"]  # the preselected platform's hint only
        page.focus("#call_platform-teams")  # the choice works by keyboard: arrows move between the radios
        page.keyboard.press("ArrowRight")
        assert page.is_checked("#call_platform-whatsapp")
        assert _visible_hints(page) == ["whatsapp"]
        assert page.get_attribute("#call_handle", "inputmode") == "tel"
        page.fill("#name", "Erika Muster")
        page.fill("#email", "erika@example.org")
        page.fill("#call_handle", national)
        page.screenshot(path=str(SHOTS / f"booking-form-{lang}-{width}.png"), full_page=True)
        assert not errors, errors
        page.context.close()

    page, errors = _page(browser, 1280, locale)
    page.goto(f"{live_server}/{lang}/book/{SLOT}")
    page.check("#call_platform-whatsapp")
    page.fill("#name", "Erika Muster")
    page.fill("#email", "erika@example.org")
    page.fill("#call_handle", "erika@example.org")  # not a phone number: refused, kept, explained
    page.check("#accept_terms")
    if page.locator("#early_start").count():  # a session inside the withdrawal period
        page.check("#early_start")
    page.click("button[type=submit]")
    page.wait_for_selector("#call_handle-error")
    assert page.input_value("#call_handle") == "erika@example.org"
    assert page.is_checked("#call_platform-whatsapp") and _visible_hints(page) == ["whatsapp"]
    page.screenshot(path=str(SHOTS / f"booking-form-error-{lang}.png"), full_page=True)
    page.fill("#call_handle", national)
    page.check("#accept_terms")
    if page.locator("#early_start").count():  # a session inside the withdrawal period
        page.check("#early_start")
    page.click("button[type=submit]")
    page.wait_for_selector("[data-access-key]")
    assert page.locator("[data-booked-platform=whatsapp]").count() == 1
    db.session.expire_all()
    booking = db.session.scalar(select(Booking))
    assert (booking.call_platform, booking.call_handle) == ("whatsapp", stored)
    assert not errors, errors


def test_without_javascript_every_hint_is_readable(live_server, browser):
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server}/de/book/{SLOT}")
    assert _visible_hints(page) == ["teams", "whatsapp", "signal"]
    assert page.locator("[data-platform-hint]").evaluate_all("els => els.every(e => e.offsetHeight > 0)")
    page.screenshot(path=str(SHOTS / "booking-form-de-no-js.png"), full_page=True)
    page.goto(f"{live_server}/sv/contact")
    assert _visible_hints(page) == ["teams", "whatsapp", "signal"]
    page.screenshot(path=str(SHOTS / "contact-sv-no-js.png"), full_page=True)
    context.close()


def test_the_panel_copies_the_handle_by_keyboard_and_links_the_call(app, db, make_booking, live_server, browser,
                                                                    log_in_operator):
    from reflexion import clock

    SHOTS.mkdir(parents=True, exist_ok=True)
    booking = make_booking(clock.now() + timedelta(hours=2), state="confirmed", name="Erika Muster",
                           call_platform="whatsapp", call_handle="+4915123456789")
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    page = context.new_page()
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    log_in_operator(page)
    assert "WhatsApp" in page.locator(f"[data-booking='{booking.ref}'] [data-booked-platform]").inner_text()
    page.screenshot(path=str(SHOTS / "dashboard-platform.png"), full_page=True)
    page.goto(f"{live_server}/operator/sessions/{booking.id}")
    assert page.get_attribute("[data-call-link]", "href") == "https://wa.me/4915123456789"
    button = page.locator(".call-card button.copy")
    button.focus()
    page.keyboard.press("Enter")
    page.wait_for_function("document.querySelector('.call-card button.copy').dataset.copyState")
    assert button.get_attribute("data-copy-state") == "done"
    # The clipboard API needs a secure context; on http://127.0.0.1 the fallback copies (execCommand).
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == "+4915123456789"
    page.screenshot(path=str(SHOTS / "panel-whatsapp.png"), full_page=True)
    assert not errors, errors
    context.close()


@pytest.mark.parametrize("lang, locale", [("de", "de-DE"), ("sv", "sv-SE")])
def test_the_platform_choice_has_no_axe_violation(live_server, browser, lang, locale):
    """The radio group, the hints and the error state, at both widths (axe-core, as the a11y suite runs it)."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import provision
    from test_browser_accessibility import RUN_AXE

    axe = provision.ensure_axe().read_text()
    found = []
    for width in (1280, 375):
        page, errors = _page(browser, width, locale)
        page.goto(f"{live_server}/{lang}/book/{SLOT}")
        page.check("#call_platform-signal")
        page.evaluate(axe)
        found += [f"{width} {v['id']} {v['nodes']}" for v in page.evaluate(RUN_AXE)]
        page.fill("#call_handle", "erika muster")
        page.click("button[type=submit]")
        page.wait_for_selector("#call_handle-error")
        page.evaluate(axe)
        found += [f"{width} error {v['id']} {v['nodes']}" for v in page.evaluate(RUN_AXE)]
        assert not errors, errors
        page.context.close()
    assert not found, found

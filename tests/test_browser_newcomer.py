"""A first-time client in a real browser (system Chromium, headless) never gets lost (issue 14).

Screenshots go to /tmp/shots/ (newcomer-*.png).
"""
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/shots")
SLOT = "2026-11-25T08:00:00Z"  # Wed 09:00 MEZ


@pytest.fixture
def app_config(app_config):
    app_config["WTF_CSRF_ENABLED"] = True  # the real form, with its token
    return app_config


@pytest.fixture(autouse=True)
def monday_morning(weekly_hours, frozen_now):
    frozen_now(datetime(2026, 11, 23, 8, tzinfo=timezone.utc))  # Monday 09:00 MEZ


def _page(browser, width=1280, locale="de-DE", timezone_id="Europe/Berlin"):
    context = browser.new_context(viewport={"width": width, "height": 900}, locale=locale, timezone_id=timezone_id)
    page = context.new_page()
    errors = []
    page.on("console", lambda msg: errors.append(msg.text)
            if msg.type == "error" and "status of 4" not in msg.text else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return page, errors


def _fill(page):
    page.fill("#name", "Erika Muster")
    page.fill("#email", "erika@example.org")
    page.fill("#call_handle", "erika.muster@example.org")
    page.check("#accept_terms")
    if page.locator("#early_start").count():  # a session inside the withdrawal period
        page.check("#early_start")


@pytest.mark.parametrize("lang, locale", [("de", "de-DE"), ("sv", "sv-SE")])
def test_back_after_booking_shows_the_own_booking_not_a_taken_page(live_server, browser, lang, locale):
    page, errors = _page(browser, locale=locale)
    page.goto(f"{live_server}/{lang}/book/{SLOT}")
    _fill(page)
    page.click("button[type=submit]")
    page.wait_for_selector("[data-access-key]")
    ref = page.locator("[data-booking-ref]").first.inner_text().strip()
    page.go_back()
    page.wait_for_load_state()
    assert f"/booking/{ref}" in page.url
    assert page.locator("[data-unavailable]").count() == 0
    assert not errors, errors


@pytest.mark.parametrize("lang, locale, word", [("de", "de-DE", "Woche"), ("sv", "sv-SE", "ecka")])
def test_after_a_week_change_focus_is_on_the_new_weeks_heading(live_server, browser, lang, locale, word):
    page, errors = _page(browser, locale=locale)
    page.goto(f"{live_server}/{lang}/book")
    page.focus("a[rel=next]")
    page.keyboard.press("Enter")
    page.wait_for_url("**/book?week=2026-11-30")
    page.wait_for_function("document.activeElement && document.activeElement.id === 'week-title'")
    announced = page.locator("#week-announce").inner_text()
    assert word in announced and "30" in announced
    assert not errors, errors


def test_the_language_switch_on_the_booking_form_keeps_what_was_typed(live_server, browser):
    page, errors = _page(browser)
    page.goto(f"{live_server}/de/book/{SLOT}")
    _fill(page)
    page.click(".lang-switch a[hreflang=sv]")
    page.wait_for_url(f"**/sv/book/{SLOT}")
    assert page.input_value("#name") == "Erika Muster"
    assert page.input_value("#email") == "erika@example.org"
    assert page.input_value("#call_handle") == "erika.muster@example.org"
    assert page.is_checked("#accept_terms")
    page.click("button[type=submit]")  # and it books in Swedish
    page.wait_for_selector("[data-access-key]")
    assert "/sv/booking/" in page.url
    assert not errors, errors


@pytest.fixture
def operator_page(browser, log_in_operator):
    def open_page(width=1280):
        page, errors = _page(browser, width=width)
        return log_in_operator(page), errors

    return open_page


def test_ending_a_session_takes_a_confirmation_step_that_works_with_the_keyboard(
        live_server, operator_page, db, make_booking, frozen_now):
    """Point 11: the first press only asks; Tab to the confirmation and Enter ends the session."""
    start = datetime(2026, 11, 23, 8, tzinfo=timezone.utc)
    frozen_now(start + timedelta(minutes=5))
    booking = make_booking(start, state="in_progress")
    page, errors = operator_page()
    page.goto(f"{live_server}/operator/sessions/{booking.id}")
    page.focus('[data-action-ask="end"]')
    page.keyboard.press("Enter")  # opens the question, ends nothing
    db.session.expire_all()
    assert booking.state == "in_progress"
    assert page.locator('[data-action="end"]').is_visible()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.dataset.action") == "end"
    page.screenshot(path=str(SHOTS / "newcomer-confirm-end.png"), full_page=True)
    page.keyboard.press("Enter")
    page.wait_for_selector('[data-state-badge="completed"]')
    db.session.expire_all()
    assert booking.state == "completed"
    assert not errors, errors


@pytest.mark.parametrize("state, action", [("answered", "identity"), ("in_progress", "abuse"),
                                           ("awaiting_payment", "mark-paid")])
def test_other_irreversible_actions_ask_first(live_server, operator_page, make_booking, frozen_now, state, action):
    start = datetime(2026, 11, 23, 8, tzinfo=timezone.utc)
    frozen_now(start + timedelta(minutes=5) if state != "awaiting_payment" else start - timedelta(hours=30))
    booking = make_booking(start, state=state)
    page, errors = operator_page()
    page.goto(f"{live_server}/operator/sessions/{booking.id}")
    assert not page.locator(f'[data-action="{action}"]').is_visible()  # no one-click action
    page.click(f'[data-action-ask="{action}"]')
    assert page.locator(f'[data-action="{action}"]').is_visible()
    assert not errors, errors


@pytest.mark.parametrize("lang, locale, label", [("de", "de-DE", "Ihre Ortszeit"), ("sv", "sv-SE", "din lokala tid")])
def test_a_client_abroad_sees_the_local_time_beside_the_practice_time(live_server, browser, lang, locale, label):
    """Point 3: New York (03:00 EST) beside 09:00 MEZ; a Berlin browser sees no extra time."""
    page, errors = _page(browser, locale=locale, timezone_id="America/New_York")
    page.goto(f"{live_server}/{lang}/book/{SLOT}")
    local = page.locator("[data-local-time-shown]")
    assert local.count() == 1
    text = local.inner_text()
    assert label in text and "03:00" in text
    page.screenshot(path=str(SHOTS / f"newcomer-{lang}-local-time.png"), full_page=True)
    home, home_errors = _page(browser, locale=locale, timezone_id="Europe/Berlin")
    home.goto(f"{live_server}/{lang}/book/{SLOT}")
    home.wait_for_load_state()
    assert home.locator("[data-local-time-shown]").count() == 0
    assert not errors and not home_errors, errors + home_errors

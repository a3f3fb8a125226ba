"""Issue 14, in the browser: the due session stands out on the panel and its actions fit a phone's
first screen; dashboard handles wrap only between their parts; one badge per fact; labels and
values line up; a client books and an operator runs a session with the keyboard only.

Screenshots go to ``shots_dir`` (REFLEXION_SHOTS, else /tmp/shots): ux-*.png.
"""
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import pytest

from reflexion import clock

from browser_helpers import tab_to

pytestmark = pytest.mark.browser

NOW = datetime(2026, 11, 25, 8, tzinfo=timezone.utc)  # Wednesday 09:00 MEZ
LONG_HANDLE = "erika.muster.lang@beispiel-praxis.example"
DUE_TITLE = {"de": "Fällig: jetzt anrufen", "sv": "Dags: ring klienten nu"}
PHONE = {"width": 375, "height": 667}
DESKTOP = {"width": 1280, "height": 800}


def _context(browser, lang, viewport):
    context = browser.new_context(viewport=viewport, locale="de-DE" if lang == "de" else "sv-SE")
    page = context.new_page()
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return context, page, errors


def _box(page, selector):
    box = page.locator(selector).first.bounding_box()
    assert box is not None, f"{selector} is not rendered"
    return box


def _font_px(page, selector):
    return page.evaluate("s => parseFloat(getComputedStyle(document.querySelector(s)).fontSize)", selector)


# -- the live panel when the session is due ----------------------------------------------------

@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["375", "1280"])
@pytest.mark.parametrize("lang", ["de", "sv"])
def test_a_due_session_is_the_most_prominent_thing_and_its_actions_are_in_the_first_screen(
        db, frozen_now, make_booking, log_in_operator, live_server, browser, axe_violations, shots_dir,
        lang, viewport):
    frozen_now(NOW)
    booking = make_booking(NOW - timedelta(minutes=1), state="due", call_handle=LONG_HANDLE)
    context, page, errors = _context(browser, lang, viewport)
    log_in_operator(page)
    page.goto(f"{live_server}/operator/sessions/{booking.id}")
    banner = page.locator("[data-due-banner]")
    assert banner.is_visible()
    assert banner.locator(".due-title").inner_text().strip() == DUE_TITLE[lang]
    # Above the cards, the call card and the status among them.
    top = _box(page, "[data-due-banner]")["y"]
    for card in (".call-card", "#session-live", "#session-actions"):
        assert top < _box(page, card)["y"], card
    # Larger than every other heading, the client's name (h1) included.
    title = _font_px(page, "[data-due-banner] .due-title")
    others = page.evaluate("""() => [...document.querySelectorAll('h1, h2, h3')]
        .filter(h => !h.closest('[data-due-banner]')).map(h => parseFloat(getComputedStyle(h).fontSize))""")
    assert title > max(others), (title, others)
    # The main actions are visible without scrolling.
    for action in ("[data-due-banner] [data-call-link]", "[data-due-banner] [data-action=answered]"):
        box = _box(page, action)
        assert box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"], (action, box)
        assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], (action, box)
    # The answered button is there once: in the banner, not again in the actions card.
    assert page.locator("[data-action=answered]").count() == 1
    page.screenshot(path=str(shots_dir / f"ux-panel-due-{lang}-{viewport['width']}.png"), full_page=True)
    assert axe_violations(page) == []
    assert not errors, errors
    context.close()


def test_the_session_becoming_due_is_announced_once_and_shows_the_banner_without_a_reload(
        db, make_booking, log_in_operator, live_server, browser, shots_dir):
    context, page, errors = _context(browser, "de", PHONE)
    log_in_operator(page)
    booking = make_booking(clock.now() + timedelta(seconds=3), state="confirmed", call_handle=LONG_HANDLE)
    page.goto(f"{live_server}/operator/sessions/{booking.id}")
    assert page.locator("[data-due-banner]").count() == 0
    announce = page.locator("#session-announce")
    assert announce.get_attribute("aria-live") == "polite" and announce.inner_text() == ""
    page.evaluate("""() => {
        const el = document.getElementById('session-announce');
        el.__original = true; window.__announced = [];
        new MutationObserver(() => window.__announced.push(el.textContent))
            .observe(el, {childList: true, characterData: true, subtree: true});
    }""")
    page.wait_for_selector("[data-due-banner]", timeout=10000)
    assert not errors, errors
    assert page.evaluate("window.__announced") == [DUE_TITLE["de"]]
    # Three more polls of the live part: nothing is read out again, the region is the same node.
    for _ in range(3):
        with page.expect_response(lambda response: "seen=due" in response.url, timeout=10000):
            pass
    page.wait_for_function("document.querySelector('#session-live .now')")
    assert page.evaluate("window.__announced") == [DUE_TITLE["de"]]
    assert page.evaluate("document.getElementById('session-announce').__original") is True
    # Neither the banner nor the polled status is a live region itself (it would speak every second).
    assert page.locator("[data-due-banner][aria-live], #session-live[aria-live]").count() == 0
    page.screenshot(path=str(shots_dir / "ux-panel-became-due-de-375.png"))
    assert not errors, errors
    context.close()


# -- dashboard ---------------------------------------------------------------------------------

PARTS_UNBROKEN = """(selector) => [...document.querySelectorAll(selector + ' .handle-part')]
    .map(p => p.getClientRects().length)"""
PART_TOPS = """(selector) => [...document.querySelectorAll(selector + ' .handle-part')]
    .map(p => Math.round(p.getBoundingClientRect().top))"""


@pytest.mark.parametrize("lang", ["de", "sv"])
def test_dashboard_handles_wrap_only_between_their_parts_and_one_badge_says_one_fact(
        db, frozen_now, make_booking, log_in_operator, live_server, browser, axe_violations, shots_dir, lang):
    frozen_now(NOW)
    unpaid = make_booking(NOW + timedelta(days=1), name="Per Svensson", call_handle="per.svensson.langername@example.org")
    paid = make_booking(NOW + timedelta(days=1, hours=2), state="confirmed", call_handle=LONG_HANDLE)
    due = make_booking(NOW - timedelta(minutes=1), state="due", name="Anna Due", call_handle="anna@example.org")
    for viewport in (DESKTOP, PHONE):
        context, page, errors = _context(browser, lang, viewport)
        log_in_operator(page)
        for booking in (unpaid, paid, due):
            line = f'.tl-item[data-booking="{booking.ref}"]'
            parts = page.evaluate(PARTS_UNBROKEN, line)
            assert parts and all(n == 1 for n in parts), (booking.call_handle, viewport, parts)
            if viewport is DESKTOP:  # room enough: the whole handle on one line
                assert len(set(page.evaluate(PART_TOPS, line))) == 1, booking.call_handle
        # One badge per fact: "awaiting payment" says "not paid", "paid, confirmed" says "paid".
        badges = ".badge, .pill"
        assert page.locator(f'.tl-item[data-booking="{unpaid.ref}"]').locator(badges).count() == 1
        assert page.locator(f'.tl-item[data-booking="{paid.ref}"]').locator(badges).count() == 1
        # Due says nothing about the fee: there the "paid" pill adds a fact.
        assert page.locator(f'.tl-item[data-booking="{due.ref}"]').locator(badges).count() == 2
        page.screenshot(path=str(shots_dir / f"ux-dashboard-{lang}-{viewport['width']}.png"), full_page=True)
        assert axe_violations(page) == []
        assert not errors, errors
        context.close()


LABEL_VALUE_ROWS = """() => [...document.querySelectorAll('.call-facts dt')].map(dt => {
    const dd = dt.nextElementSibling, a = dt.getBoundingClientRect(), b = dd.getBoundingClientRect();
    const base = el => { const r = document.createRange(); r.selectNodeContents(el); return r.getClientRects()[0].bottom; };
    return {dtLeft: Math.round(a.left), ddLeft: Math.round(b.left), dtBase: base(dt), ddBase: base(dd)};
})"""


@pytest.mark.parametrize("lang", ["de", "sv"])
def test_labels_and_values_line_up_in_the_panel_and_in_the_exception_form_with_an_error(
        db, weekly_hours, frozen_now, make_booking, log_in_operator, live_server, browser, axe_violations,
        shots_dir, lang):
    frozen_now(NOW)
    booking = make_booking(NOW + timedelta(hours=3), state="confirmed")
    for viewport in (DESKTOP, PHONE):
        context, page, errors = _context(browser, lang, viewport)
        log_in_operator(page)
        page.goto(f"{live_server}/operator/sessions/{booking.id}")
        rows = page.evaluate(LABEL_VALUE_ROWS)
        assert len(rows) == 3
        assert len({r["dtLeft"] for r in rows}) == 1 and len({r["ddLeft"] for r in rows}) == 1, rows
        for row in rows:  # each label on its value's first line
            assert abs(row["dtBase"] - row["ddBase"]) <= 1, rows

        page.goto(f"{live_server}/operator/availability/")
        form = "form[action$='/exceptions']"
        start, end = "#exception-start", "#exception-end"
        before = {name: _box(page, selector) for name, selector in (("start", start), ("end", end))}
        page.fill(f"{form} #day", "2026-12-03")
        page.locator(f"{form} #closed").uncheck()
        page.fill(start, "19:00")
        page.locator(f"{form} button[type=submit]").click()  # no end: the form comes back with an error
        page.wait_for_selector(f"{form} .has-error .error")
        page.wait_for_load_state("load")  # its stylesheet applied: a slow machine measured it unstyled once
        after = {name: _box(page, selector) for name, selector in (("start", start), ("end", end))}
        labels = [_box(page, f"label[for=exception-{name}]") for name in ("start", "end")]
        if viewport is DESKTOP:  # side by side: one row of labels, one row of inputs
            assert abs(after["start"]["y"] - after["end"]["y"]) <= 1, after
            assert abs(labels[0]["y"] + labels[0]["height"] - labels[1]["y"] - labels[1]["height"]) <= 1, labels
        for name in ("start", "end"):  # the error moved no input sideways
            assert abs(after[name]["x"] - before[name]["x"]) <= 1, (name, before, after)
            assert abs(after[name]["width"] - before[name]["width"]) <= 1, (name, before, after)
        page.screenshot(path=str(shots_dir / f"ux-exception-error-{lang}-{viewport['width']}.png"), full_page=True)
        assert axe_violations(page) == []
        assert not [e for e in errors if "status of 400" not in e], errors
        context.close()


# -- keyboard only ("Checked in the browser, always") ------------------------------------------

KEYBOARD_PLATFORMS = "teams=kontakt@example.org,zoom=kontakt@example.org"


@pytest.fixture
def keyboard_platforms(app_config):
    """Two platforms, so that the booking form has a choice to make with the arrow keys."""
    app_config["PLATFORMS"] = KEYBOARD_PLATFORMS
    return app_config


@pytest.mark.parametrize("lang", ["de", "sv"])
def test_a_client_books_with_the_keyboard_only(keyboard_platforms, weekly_hours, frozen_now, live_server, browser,
                                               shots_dir, lang):
    """Tab, Shift+Tab, Enter, Space and the arrow keys: no click, no fill()."""
    frozen_now(datetime(2026, 11, 23, 8, tzinfo=timezone.utc))  # Monday 09:00 MEZ
    context, page, errors = _context(browser, lang, PHONE)
    page.goto(f"{live_server}/{lang}/book")
    tab_to(page, "a[data-slot]")  # the first free time of the week
    slot = page.evaluate("document.activeElement.dataset.slot")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/{lang}/book/{slot}")
    tab_to(page, "#name")
    page.keyboard.type("Erika Muster")
    page.keyboard.press("Tab")
    page.keyboard.type("erika@example.org")
    if page.locator("input[name=call_platform][type=radio]").count():  # more than one platform
        tab_to(page, "input[name=call_platform]:checked")
        page.keyboard.press("ArrowRight")  # the next platform
        assert page.evaluate("document.activeElement.checked && document.activeElement.value") == "zoom"
        page.keyboard.press("ArrowLeft")
        assert page.evaluate("document.activeElement.value") == "teams"
    tab_to(page, "#call_handle")
    page.keyboard.type("erika.muster@example.org")
    tab_to(page, "#accept_terms")
    page.keyboard.press("Space")
    assert page.locator("#accept_terms").is_checked()
    if page.locator("#early_start").count():  # a session inside the withdrawal period
        tab_to(page, "#early_start")
        page.keyboard.press("Space")
        assert page.locator("#early_start").is_checked()
    tab_to(page, "button[data-book-button]")
    page.screenshot(path=str(shots_dir / f"ux-keyboard-book-{lang}-375.png"))
    page.keyboard.press("Enter")
    page.wait_for_selector("[data-access-key]")
    assert page.locator("[data-booking-ref]").inner_text().strip().startswith("R-")
    assert not errors, errors
    context.close()


@pytest.mark.parametrize("lang", ["de", "sv"])
def test_an_operator_runs_a_session_to_its_end_with_the_keyboard_only(
        db, frozen_now, make_booking, operator_account, live_server, browser, shots_dir, lang):
    from reflexion.booking import codes

    frozen_now(NOW)
    booking = make_booking(NOW - timedelta(minutes=1), state="due", call_handle=LONG_HANDLE)
    code = codes.confirmation_code_for(booking)
    context, page, errors = _context(browser, lang, DESKTOP)
    email, password = operator_account
    page.goto(f"{live_server}/operator/login")
    tab_to(page, "#email")
    page.keyboard.type(email)
    tab_to(page, "#password")
    page.keyboard.type(password)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server}/operator/")
    # From the dashboard to the session: the next session's panel link.
    tab_to(page, f".next-session a[href$='/operator/sessions/{booking.id}']")
    page.keyboard.press("Enter")
    page.wait_for_selector("[data-due-banner]")
    tab_to(page, "[data-due-banner] [data-action=answered]")
    page.keyboard.press("Enter")
    page.wait_for_selector("#session-actions[data-actions-for=answered]")
    focused = "document.activeElement && document.activeElement.id"
    assert page.evaluate(focused) == "confirmation"  # where the next step is typed
    page.keyboard.type("1234")  # a typo first: refused, costs no try
    page.keyboard.press("Enter")
    page.wait_for_selector("[data-error]")
    assert page.evaluate(focused) == "confirmation"
    page.keyboard.type(code)
    page.keyboard.press("Enter")
    page.wait_for_selector("#session-actions[data-actions-for=in_progress]")
    # Ending takes two steps: the summary opens the question (Enter), the button inside ends it (Space).
    tab_to(page, "summary[data-action-ask=end]")
    page.keyboard.press("Enter")
    assert page.locator("[data-confirm-step=end]").get_attribute("open") is not None
    tab_to(page, "[data-confirm-step=end] button[data-action=end]")
    page.screenshot(path=str(shots_dir / f"ux-keyboard-end-{lang}-1280.png"))
    page.keyboard.press("Space")
    page.wait_for_selector('[data-outcome="completed"]')
    db.session.expire_all()
    assert booking.state == "completed"
    assert not [e for e in errors if "status of 400" not in e and "status of 409" not in e], errors
    context.close()


# -- the calendar subscription on the dashboard ------------------------------------------------

FEED_TEXTS = {
    "de": ("Adresse abschalten", "Die Kalenderadresse ist abgeschaltet", "Es ist keine Kalenderadresse aktiv."),
    "sv": ("Stäng av adressen", "Kalenderadressen är avstängd", "Ingen kalenderadress är aktiv."),
}


@pytest.mark.parametrize("lang", ["de", "sv"])
def test_the_operator_switches_the_calendar_address_off_and_on_again(
        db, log_in_operator, live_server, browser, axe_violations, shots_dir, lang):
    switch_off, switched_off, none_active = FEED_TEXTS[lang]
    context, page, errors = _context(browser, lang, PHONE)
    log_in_operator(page)
    if lang == "sv":  # the operator pages follow the browser's language
        assert page.locator("html").get_attribute("lang") == "sv"
    card = page.locator("#calendar-feed")
    card.locator("button[type=submit]").first.click()  # create the address
    address = card.locator("[data-copy]").get_attribute("data-copy")
    feed_on_loopback = live_server + urlsplit(address).path  # the address names PUBLIC_URL's host
    assert page.request.get(feed_on_loopback).status == 200
    card.screenshot(path=str(shots_dir / f"ux-feed-on-{lang}.png"))
    card.get_by_role("button", name=switch_off).click()
    assert switched_off in page.text_content("body") and none_active in card.text_content()
    assert card.locator("[data-feed-url]").count() == 0 and card.get_by_role("button", name=switch_off).count() == 0
    assert page.request.get(feed_on_loopback).status == 404
    page.screenshot(path=str(shots_dir / f"ux-feed-off-{lang}.png"), full_page=True)
    assert axe_violations(page) == []
    card.locator("button[type=submit]").first.click()  # a new address, which works
    assert card.locator("[data-copy]").get_attribute("data-copy") != address
    assert not errors, errors
    context.close()

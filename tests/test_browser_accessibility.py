"""axe-core finds no accessibility violation on any public or operator page, in German and Swedish
(issue 14). axe-core (its npm build, as the pinned axe-playwright-python wheel ships it; the ``axe_source`` fixture in conftest), used by the tests only.

Operator pages have a German interface only (no language in their URLs); they are checked with
a German and a Swedish browser. Screenshots of every page go to /tmp/shots/a11y-*.png.
"""
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from browser_helpers import AXE_RUN as RUN_AXE

pytestmark = pytest.mark.browser
SHOTS = Path("/tmp/shots")
NOW = datetime(2026, 11, 25, 8, tzinfo=timezone.utc)  # Wednesday 09:00 MEZ: the week shows past days
FREE = "2026-11-26T08:00:00Z"
PASSWORD = "correct horse battery"


@pytest.fixture
def scene(db, weekly_hours, frozen_now, make_booking):
    """A practice on a Monday morning: an unpaid and a paid booking, a message, an operator."""
    from reflexion.operator.auth import create_operator
    from reflexion.pages.operations import receive_message

    frozen_now(NOW)
    unpaid = make_booking(datetime(2026, 11, 30, 8, tzinfo=timezone.utc))
    paid = make_booking(NOW + timedelta(minutes=30), state="confirmed", name="Per Svensson", lang="sv")
    make_booking(NOW - timedelta(hours=1), state="completed", name="Anna Early")  # past items in the timeline
    make_booking(NOW + timedelta(hours=5), state="cancelled", name="Otto Cancelled")
    receive_message(name="Erika Muster", email="erika@example.org", call_handle="erika@example.org",
                    message="Geht auch abends?", lang="de")
    create_operator("op@example.org", PASSWORD)
    db.session.commit()
    return {"unpaid": unpaid, "paid": paid}


#: Public pages that answer with an error on purpose (a taken, closed or too distant time).
EXPECTED_ERRORS = {404, 409, 410}


def _check(page, axe_source, url, name, found):
    response = page.goto(url)
    if response.status != 200 and (response.status not in EXPECTED_ERRORS or "/operator/" in url):
        found.append(f"{name} {url}: HTTP {response.status}, not the page meant to be checked")
    page.wait_for_load_state("networkidle")
    page.evaluate(axe_source)  # through DevTools, so the page's CSP stays as it is
    violations = page.evaluate(RUN_AXE)
    page.screenshot(path=str(SHOTS / f"a11y-{name}.png"), full_page=True)
    for v in violations:
        found.append(f"{name} {url}: {v['id']} ({v['impact']}) {v['nodes']}")
    _no_sideways_scrolling(page, name, found)


def _no_sideways_scrolling(page, name, found):
    """Nothing pushes the page wider than the window (a phone would scroll sideways)."""
    width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    if width > inner:
        found.append(f"{name} {page.url}: {width} px wide in a {inner} px window")


@pytest.mark.parametrize("lang, locale", [("de", "de-DE"), ("sv", "sv-SE")])
def test_every_public_page_has_no_axe_violation(live_server, browser, axe_source, scene, lang, locale):
    SHOTS.mkdir(parents=True, exist_ok=True)
    found = []
    ref = scene["unpaid"].ref
    for width in (1280, 375):
        context = browser.new_context(viewport={"width": width, "height": 900}, locale=locale)
        page = context.new_page()
        free = FREE if width == 1280 else "2026-11-27T08:00:00Z"  # the first is booked below
        pages = ["", "video-calls", "how-it-works", "privacy", "terms", "imprint", "contact", "book", "book?week=2026-11-30",
                 f"book/{free}", "book/2026-11-28T08:00:00Z", "book/2026-11-30T08:00:00Z", f"booking/{ref}", f"booking/{ref}/lost-key"]
        for path in pages:
            _check(page, axe_source, f"{live_server}/{lang}/{path}", f"{lang}-{width}-{re.sub(r'[^a-z0-9]+', '_', path) or 'home'}", found)
        # The form with its errors, the page after booking, the booking page itself
        page.goto(f"{live_server}/{lang}/book/{free}")
        page.click("button[type=submit]")
        page.wait_for_selector(".error-summary")
        page.evaluate(axe_source)
        found += [f"{lang}-{width} form with errors: {v['id']} {v['nodes']}" for v in page.evaluate(RUN_AXE)]
        if width == 1280:
            page.fill("#name", "Erika Muster")
            page.fill("#email", "erika@example.org")
            page.fill("#call_handle", "erika.muster@example.org")
            page.check("#accept_terms")
            if page.locator("#early_start").count():  # a session inside the withdrawal period
                page.check("#early_start")
            page.click("button[type=submit]")
            page.wait_for_selector("[data-access-key]")
            created = page.url
            own = created.split("/booking/")[1].split("/")[0]
            _check(page, axe_source, created, f"{lang}-{width}-created", found)
            _check(page, axe_source, f"{live_server}/{lang}/booking/{own}", f"{lang}-{width}-show", found)
        page.goto(f"{live_server}/{lang}/booking/{ref}")
        page.fill("#access_key", "abcd-efgh-jkmn")
        page.click("button[type=submit]")
        page.wait_for_selector("[data-booking-state]")
        page.evaluate(axe_source)
        found += [f"{lang}-{width} booking page: {v['id']} {v['nodes']}" for v in page.evaluate(RUN_AXE)]
        _no_sideways_scrolling(page, f"{lang}-{width}-booking-page", found)
        # Rescheduling (issue #12): the grid in reschedule mode and the confirmation step.
        _check(page, axe_source, f"{live_server}/{lang}/booking/{ref}/reschedule", f"{lang}-{width}-reschedule", found)
        _check(page, axe_source, f"{live_server}/{lang}/booking/{ref}/reschedule/2026-11-26T08:00:00Z",
               f"{lang}-{width}-reschedule-confirm", found)
        # The withdrawal function: the form and its confirmation step.
        _check(page, axe_source, f"{live_server}/{lang}/withdraw", f"{lang}-{width}-withdraw", found)
        page.fill("input[name=reference]", ref)
        page.fill("input[name=name]", "Erika Muster")
        page.fill("input[name=email]", "erika.muster.lang@beispiel-praxis.example")
        page.click("[data-withdrawal] form button[type=submit]")
        page.wait_for_selector("[data-confirm-withdrawal]")
        page.evaluate(axe_source)
        found += [f"{lang}-{width} withdrawal confirmation: {v['id']} {v['nodes']}" for v in page.evaluate(RUN_AXE)]
        _no_sideways_scrolling(page, f"{lang}-{width}-withdraw-confirm", found)
        context.close()
    assert not found, "\n".join(found)


@pytest.mark.parametrize("locale", ["de-DE", "sv-SE"])
def test_every_operator_page_has_no_axe_violation(live_server, browser, axe_source, scene, locale):
    SHOTS.mkdir(parents=True, exist_ok=True)
    found = []
    tag = locale[:2]
    for width in (1280, 375):
        context = browser.new_context(viewport={"width": width, "height": 900}, locale=locale)
        page = context.new_page()
        _check(page, axe_source, f"{live_server}/operator/login", f"op-{tag}-{width}-login", found)
        page.fill("#email", "op@example.org")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/operator/")
        for path in ["", "bookings/new", "availability/", "messages", "client-data/", "account", "settings/", "payments/import",
                     f"sessions/{scene['paid'].id}", f"sessions/{scene['unpaid'].id}",
                     f"bookings/{scene['unpaid'].id}/move"]:
            _check(page, axe_source, f"{live_server}/operator/{path}",
                   f"op-{tag}-{width}-{re.sub(r'[^a-z0-9]+', '_', path) or 'dashboard'}", found)
        context.close()
    assert not found, "\n".join(found)

"""The session panel in a real browser (system Chromium, headless): live countdown, no-show badge.

Screenshots go to /tmp/shots/ (panel-before.png, panel-no-show.png, dashboard.png).
"""
import time
from datetime import timedelta
from pathlib import Path

import pytest

from reflexion import clock

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots")


@pytest.fixture
def app_config(app_config):
    app_config.update(SESSION_MINUTES=0.1, NO_ANSWER_MINUTES=0.05)  # 6 s session, 3 s to answer
    return app_config


COUNTDOWNS_JS = "[...document.querySelectorAll('[data-countdown] dd')].map(e => e.innerText.trim()).join('|')"


def _countdowns(page):
    """The texts of all countdowns (to the start, the no-answer deadline and the hard end)."""
    return page.evaluate(COUNTDOWNS_JS)


def test_panel_counts_down_and_shows_the_no_show_without_a_reload(app, db, make_booking, live_server, browser,
                                                                  log_in_operator):
    SHOTS.mkdir(parents=True, exist_ok=True)
    make_booking(clock.now() + timedelta(hours=3), name="Per Svensson", call_handle="live:per.s", lang="sv")

    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    log_in_operator(page)
    page.screenshot(path=str(SHOTS / "dashboard.png"), full_page=True)

    # Made only now, so that a slow login on a busy machine cannot eat the 4 s before the start.
    booking = make_booking(clock.now() + timedelta(seconds=4), state="confirmed", name="Erika Muster",
                           call_handle="erika.muster")
    page.goto(f"{live_server}/operator/sessions/{booking.id}")
    page.evaluate("window.__noReload = 'still the same page'")
    first = _countdowns(page)
    page.screenshot(path=str(SHOTS / "panel-before.png"), full_page=True)
    page.wait_for_function(f"old => ({COUNTDOWNS_JS}) !== old", arg=first, timeout=5000)
    assert _countdowns(page) != first

    # Due at the start, then no-show 3 s later: the badge appears through the polled partial.
    page.wait_for_selector('[data-state-badge="no_show"]', timeout=15000)
    assert page.evaluate("window.__noReload") == "still the same page"
    assert page.locator('[data-outcome="no_show"]').is_visible()
    assert page.locator('[data-countdown="no-answer"]').get_attribute("data-status") == "missed"
    # The actions were swapped out-of-band for the final state: no buttons left.
    assert page.locator('#session-actions [data-action]').count() == 0
    page.screenshot(path=str(SHOTS / "panel-no-show.png"), full_page=True)

    # Polling has stopped (HTTP 286 and no trigger on the final partial).
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    time.sleep(2.5)
    assert not [url for url in requests if "/operator/sessions/" in url]
    assert not errors, errors

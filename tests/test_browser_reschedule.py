"""A client reschedules their paid booking in a real browser, in Swedish (issue #12).

Screenshots go to /work/notes/shots/change/ when that folder's parent exists, else /tmp/shots/.
"""
from datetime import datetime, timezone
from pathlib import Path

import pytest

from reflexion.booking.models import Booking
from reflexion.booking.payments import confirm_payment

pytestmark = pytest.mark.browser
NOTES = Path("/work/notes/shots")
SHOTS = NOTES / "change" if NOTES.exists() else Path("/tmp/shots")


@pytest.fixture
def app_config(app_config):
    app_config["WTF_CSRF_ENABLED"] = True  # the real forms, with their tokens
    return app_config


@pytest.mark.parametrize("width", [1280, 375])
def test_a_client_reschedules_in_swedish_and_the_page_shows_the_new_time(live_server, browser, db, weekly_hours,
                                                                        frozen_now, make_booking, width):
    SHOTS.mkdir(parents=True, exist_ok=True)
    frozen_now(datetime(2026, 11, 23, 8, tzinfo=timezone.utc))  # Monday 09:00 MEZ
    booking = make_booking(datetime(2026, 11, 25, 9, 0, tzinfo=timezone.utc), lang="sv")  # Wed 10:00
    confirm_payment(booking)
    db.session.commit()
    page = browser.new_page(viewport={"width": width, "height": 900}, locale="sv-SE")
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    page.goto(f"{live_server}/sv/booking/{booking.ref}")
    page.fill("#access_key", "abcd-efgh-jkmn")
    page.click("button[type=submit]")
    page.wait_for_selector('[data-booking-state="confirmed"]')
    assert "onsdag 25 november 2026 kl." in page.locator(".when strong[data-local-time]").inner_text()
    page.screenshot(path=str(SHOTS / f"reschedule-sv-{width}-1-booking.png"), full_page=True)
    page.click("[data-reschedule-link]")
    page.wait_for_selector("[data-reschedule]")
    assert page.locator("h1").inner_text() == "Välj en ny tid"
    page.screenshot(path=str(SHOTS / f"reschedule-sv-{width}-2-grid.png"), full_page=True)
    page.click('[data-slot="2026-11-26T13:00:00Z"]')  # Thursday 14:00 CET
    page.wait_for_selector("[data-reschedule-confirm]")
    page.screenshot(path=str(SHOTS / f"reschedule-sv-{width}-3-confirm.png"), full_page=True)
    page.click("[data-confirm-reschedule]")
    page.wait_for_selector("[data-moved]")
    shown = page.locator(".when strong[data-local-time]").inner_text()
    assert "torsdag 26 november 2026 kl." in shown and "14:00" in shown and "CET" in shown
    page.screenshot(path=str(SHOTS / f"reschedule-sv-{width}-4-moved.png"), full_page=True)
    db.session.expire_all()
    moved = db.session.get(Booking, booking.id)
    assert moved.start_at == datetime(2026, 11, 26, 13, 0, tzinfo=timezone.utc) and moved.reschedule_count == 1
    assert not errors, errors
    page.close()


@pytest.mark.parametrize("width", [1280, 375])
def test_the_operator_moves_a_booking_in_the_panel_in_german(live_server, browser, db, frozen_now, make_booking,
                                                             log_in_operator, width):
    SHOTS.mkdir(parents=True, exist_ok=True)
    frozen_now(datetime(2026, 11, 23, 8, tzinfo=timezone.utc))
    booking = make_booking(datetime(2026, 11, 25, 9, 0, tzinfo=timezone.utc))
    confirm_payment(booking)
    db.session.commit()
    page = browser.new_page(viewport={"width": width, "height": 900}, locale="de-DE")
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in_operator(page)
    page.click(f'[data-move="{booking.ref}"]')
    page.wait_for_selector("[data-move-booking]")
    page.fill("#day", "2026-11-27")
    page.fill("#start_time", "16:30")
    page.click('[data-action="move"]')
    page.wait_for_selector("[data-move-confirm]")
    assert "27. November 2026, 16:30 MEZ" in page.locator("[data-new-start]").inner_text().replace("\xa0", " ")
    page.screenshot(path=str(SHOTS / f"operator-move-de-{width}.png"), full_page=True)
    page.click('[data-action="move-confirm"]')
    page.wait_for_selector("#session-history")
    page.screenshot(path=str(SHOTS / f"operator-moved-de-{width}.png"), full_page=True)
    assert "verschoben von" in page.locator("#session-history").inner_text()
    assert not errors, errors
    page.close()

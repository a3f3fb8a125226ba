"""A third, independent reader of our invites: ical.js (Thunderbird's parser), run in Chromium.

ical.js is vendored in tests/vendor (see its README); the browser is the one the other browser
tests use, so nothing beyond ``tests/provision.py`` is needed.
"""
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from reflexion.booking.changes import move_booking
from reflexion.booking.payments import confirm_payment
from reflexion.booking.states import Actor
from reflexion.calendar.invite import invite_bytes

pytestmark = pytest.mark.browser
ICALJS = (Path(__file__).parent / "vendor" / "ical-2.2.1.min.js").read_text()
UTC = timezone.utc

READ = """text => {
  const comp = new ICAL.Component(ICAL.parse(text));
  for (const tz of comp.getAllSubcomponents('vtimezone')) ICAL.TimezoneService.register(tz);
  const events = comp.getAllSubcomponents('vevent').map(v => new ICAL.Event(v));
  return {method: comp.getFirstPropertyValue('method'),
          events: events.map(e => ({uid: e.uid, sequence: e.sequence,
                                    start: e.startDate.toUnixTime(), end: e.endDate.toUnixTime()}))};
}"""


@pytest.fixture
def icaljs(browser):
    page = browser.new_page()
    page.set_content("<!doctype html><title>ical.js</title>")
    page.add_script_tag(content=ICALJS)
    assert page.evaluate("typeof ICAL.parse") == "function"
    yield lambda raw: page.evaluate(READ, raw.decode())
    page.close()


def test_icaljs_sees_the_moved_invite_as_the_same_event_with_a_higher_sequence(app, db, frozen_now, make_booking,
                                                                            icaljs):
    frozen_now(datetime(2026, 11, 23, 8, tzinfo=UTC))
    booking = make_booking(datetime(2026, 11, 25, 9, 0, tzinfo=UTC))
    confirm_payment(booking)
    db.session.commit()
    first = icaljs(invite_bytes(booking, "REQUEST"))
    move_booking(booking, datetime(2026, 11, 27, 10, 0, tzinfo=UTC), actor=Actor.OPERATOR)
    db.session.commit()
    moved = icaljs(invite_bytes(booking, "REQUEST"))
    assert first["method"] == moved["method"] == "REQUEST"
    (a,), (b,) = first["events"], moved["events"]
    assert a["uid"] == b["uid"] == booking.ical_uid and b["sequence"] > a["sequence"]
    assert b["start"] == datetime(2026, 11, 27, 10, 0, tzinfo=UTC).timestamp()


@pytest.mark.parametrize("start", [
    datetime(2027, 10, 31, 0, 30, tzinfo=UTC),   # the first 02:30 (CEST)
    datetime(2027, 10, 31, 1, 30, tzinfo=UTC),   # the second 02:30 (CET)
    datetime(2027, 10, 30, 23, 30, tzinfo=UTC),  # 01:30 CEST, ending in the repeated hour
    datetime(2027, 11, 1, 9, 0, tzinfo=UTC),     # after the change, with TZID
    datetime(2027, 7, 1, 8, 0, tzinfo=UTC),      # summer, with TZID
])
def test_icaljs_places_autumn_and_summer_sessions_at_the_booked_instant(app, db, frozen_now, make_booking, icaljs,
                                                                     start):
    frozen_now(datetime(2027, 6, 1, 8, tzinfo=UTC))
    booking = make_booking(datetime(2027, 6, 30, 9, 0, tzinfo=UTC))
    confirm_payment(booking)
    db.session.commit()
    move_booking(booking, start, actor=Actor.OPERATOR)
    db.session.commit()
    (event,) = icaljs(invite_bytes(booking, "REQUEST"))["events"]
    assert event["start"] == start.timestamp()
    assert event["end"] == (start + timedelta(minutes=45)).timestamp()

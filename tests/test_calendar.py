"""Calendar invites and the operator's feed, parsed back with icalendar.

The invite must land at the right UTC instant in winter, in summer and on the days around
both DST changes, both through the zone name and through our own VTIMEZONE rules; updates
and cancellations keep the UID and raise SEQUENCE; client-typed fields cannot inject
properties; the feed answers 304 to a matching ETag and dies with its token.
"""
import re
from datetime import datetime, timedelta, timezone

import pytest
from icalendar import Calendar

from reflexion.booking.cancellation import cancel_booking
from reflexion.booking.payments import confirm_payment
from reflexion.booking.states import Actor
from reflexion.calendar import feed
from reflexion.calendar.invite import CANCEL, REQUEST, invite_bytes, vtimezone

UTC = timezone.utc
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _parse(data: bytes) -> Calendar:
    return Calendar.from_ical(data)


def _event(cal):
    (event,) = cal.walk("VEVENT")
    return event


def _utc(event, name="dtstart"):
    return event.decoded(name).astimezone(UTC)


def _via_own_vtimezone(data: bytes):
    """Parse with the TZID renamed, so the instant comes from our VTIMEZONE, not from tzdata."""
    renamed = data.replace(b"Europe/Berlin", b"X-Practice-Zone")
    assert b"Europe/Berlin" not in renamed
    return _event(_parse(renamed))


# Local practice time -> the UTC instant every calendar app must show.
DST_CASES = [
    pytest.param(datetime(2026, 11, 24, 9, 0), datetime(2026, 11, 24, 8, 0, tzinfo=UTC), id="winter"),
    pytest.param(datetime(2027, 6, 15, 10, 0), datetime(2027, 6, 15, 8, 0, tzinfo=UTC), id="summer"),
    pytest.param(datetime(2027, 3, 27, 10, 0), datetime(2027, 3, 27, 9, 0, tzinfo=UTC), id="day-before-spring-change"),
    pytest.param(datetime(2027, 3, 28, 10, 0), datetime(2027, 3, 28, 8, 0, tzinfo=UTC), id="spring-change-day"),
    pytest.param(datetime(2027, 3, 29, 10, 0), datetime(2027, 3, 29, 8, 0, tzinfo=UTC), id="day-after-spring-change"),
    pytest.param(datetime(2026, 10, 24, 10, 0), datetime(2026, 10, 24, 8, 0, tzinfo=UTC), id="day-before-autumn-change"),
    pytest.param(datetime(2026, 10, 25, 10, 0), datetime(2026, 10, 25, 9, 0, tzinfo=UTC), id="autumn-change-day"),
    pytest.param(datetime(2026, 10, 26, 10, 0), datetime(2026, 10, 26, 9, 0, tzinfo=UTC), id="day-after-autumn-change"),
]


@pytest.mark.parametrize("local, expected", DST_CASES)
def test_invite_lands_at_the_right_utc_instant(app, make_booking, frozen_now, local, expected):
    """DTSTART;TZID=Europe/Berlin gives the right instant, through tzdata and through our VTIMEZONE."""
    frozen_now(datetime(2026, 10, 1, 8, 0, tzinfo=UTC))
    booking = make_booking(expected, state="confirmed")
    data = invite_bytes(booking, REQUEST)
    assert f"DTSTART;TZID=Europe/Berlin:{local:%Y%m%dT%H%M%S}".encode() in data
    event = _event(_parse(data))
    assert _utc(event) == expected
    assert _utc(event, "dtend") - _utc(event) == timedelta(minutes=45)
    own = _via_own_vtimezone(data)
    assert _utc(own) == expected
    assert _utc(own, "dtend") == expected + timedelta(minutes=45)


def test_vtimezone_is_outlook_shaped():
    """One STANDARD and one DAYLIGHT, yearly rules, onsets in local time before the change."""
    text = vtimezone("Europe/Berlin", 2027).to_ical().decode()
    assert text.count("BEGIN:STANDARD") == 1 and text.count("BEGIN:DAYLIGHT") == 1
    standard = text.split("BEGIN:STANDARD")[1].split("END:STANDARD")[0]
    daylight = text.split("BEGIN:DAYLIGHT")[1].split("END:DAYLIGHT")[0]
    assert "DTSTART:19701025T030000" in standard and "BYMONTH=10" in standard and "BYDAY=-1SU" in standard
    assert "TZOFFSETFROM:+0200" in standard and "TZOFFSETTO:+0100" in standard and "TZNAME:CET" in standard
    assert "DTSTART:19700329T020000" in daylight and "BYMONTH=3" in daylight and "BYDAY=-1SU" in daylight
    assert "TZOFFSETFROM:+0100" in daylight and "TZOFFSETTO:+0200" in daylight and "TZNAME:CEST" in daylight


def test_request_invite_has_every_part_calendar_apps_need(app, db, make_booking, frozen_now):
    """METHOD:REQUEST, UID, SEQUENCE, DTSTAMP (UTC, checked clock), ORGANIZER, ATTENDEE, texts, VALARM."""
    frozen_now(NOW)
    booking = make_booking(datetime(2026, 11, 24, 8, 0, tzinfo=UTC), call_handle="erika.muster")
    confirm_payment(booking)
    db.session.commit()
    data = invite_bytes(booking)
    cal = _parse(data)
    assert str(cal["METHOD"]) == "REQUEST"
    event = _event(cal)
    assert str(event["UID"]) == booking.ical_uid
    assert event["SEQUENCE"] == 1
    assert event.decoded("dtstamp") == NOW and data.count(b"DTSTAMP:20261102T090000Z") == 1
    assert str(event["ORGANIZER"]).startswith("mailto:")
    assert str(event["ATTENDEE"]) == "mailto:erika@example.org"
    assert event["ATTENDEE"].params["CN"] == "Erika Muster"
    assert str(event["STATUS"]) == "CONFIRMED"
    assert "Microsoft Teams" in str(event["LOCATION"]) and "kontakt@internet-reflexion.example" in str(event["LOCATION"])
    description = str(event["DESCRIPTION"])
    assert "kontakt@internet-reflexion.example" in description and "erika.muster" in description
    assert " 15 " in description and " 45 " in description  # the no-answer window and the hard end
    assert f"/de/booking/{booking.ref}" in description
    (alarm,) = event.walk("VALARM")
    assert alarm.decoded("trigger") == timedelta(minutes=-30)
    assert len(cal.walk("VTIMEZONE")) == 1
    # Wire format: CRLF lines, folded at 75 octets, no bare CR or LF.
    lines = data.split(b"\r\n")
    assert all(len(line) <= 75 for line in lines)
    assert b"\r" not in data.replace(b"\r\n", b"") and b"\n" not in data.replace(b"\r\n", b"")


def test_confirmation_data_never_appear_in_the_invite(app, db, make_booking, frozen_now):
    """The digits are on the booking page only, never in the ICS."""
    from reflexion.booking import codes

    frozen_now(NOW)
    booking = make_booking(datetime(2026, 11, 24, 8, 0, tzinfo=UTC))
    confirm_payment(booking)
    db.session.commit()
    code = codes.confirmation_code_for(booking)
    data = invite_bytes(booking).replace(b"\r\n ", b"")
    assert code.encode() not in data and code.replace(" ", "").encode() not in data


def test_cancel_and_update_keep_uid_and_raise_sequence(app, db, make_booking, frozen_now):
    """Confirm (REQUEST, SEQUENCE 1), move the time (REQUEST, 2), cancel (CANCEL, 3, no alarm)."""
    frozen_now(NOW)
    booking = make_booking(datetime(2026, 11, 24, 8, 0, tzinfo=UTC))
    confirm_payment(booking)
    db.session.commit()
    first = _event(_parse(invite_bytes(booking)))

    from reflexion.calendar.invite import raise_sequence
    from reflexion.conversations.deadlines import session_end

    booking.start_at = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    booking.end_at = session_end(booking.start_at)
    raise_sequence(booking)
    db.session.commit()
    moved = _event(_parse(invite_bytes(booking)))

    cancel_booking(booking, actor=Actor.OPERATOR, note="operator ill")
    db.session.commit()
    cancelled_cal = _parse(invite_bytes(booking))
    cancelled = _event(cancelled_cal)

    assert str(first["UID"]) == str(moved["UID"]) == str(cancelled["UID"]) == booking.ical_uid
    assert first["SEQUENCE"] < moved["SEQUENCE"] < cancelled["SEQUENCE"]
    assert _utc(moved) == datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    assert str(cancelled_cal["METHOD"]) == CANCEL
    assert str(cancelled["STATUS"]) == "CANCELLED"
    assert cancelled.walk("VALARM") == []
    assert str(cancelled["ATTENDEE"]) == "mailto:erika@example.org"


INJECTIONS = [
    'Eve\r\nATTENDEE:mailto:evil@example.org',
    'Eve\nBEGIN:VALARM\nTRIGGER:-PT1M\nEND:VALARM',
    'Eve";RSVP=TRUE:mailto:evil@example.org\r\nX-EVIL:1',
    'Eve\rMETHOD:PUBLISH',
    'Eve\u2028SUMMARY:Free money;,\\',
]


@pytest.mark.parametrize("payload", INJECTIONS)
def test_client_typed_fields_cannot_inject_properties(app, db, make_booking, frozen_now, payload):
    """Name (CN parameter) and call handle (DESCRIPTION) stay inside their own property."""
    frozen_now(NOW)
    booking = make_booking(datetime(2026, 11, 24, 8, 0, tzinfo=UTC), name=payload, call_handle=payload)
    confirm_payment(booking)
    db.session.commit()
    for data in (invite_bytes(booking, REQUEST), invite_bytes(booking, CANCEL), feed.feed_bytes(NOW)):
        unfolded = data.replace(b"\r\n ", b"")
        assert b"\r" not in unfolded.replace(b"\r\n", b"")
        names = [line.split(b":")[0].split(b";")[0] for line in unfolded.split(b"\r\n") if line]
        assert b"X-EVIL" not in names and names.count(b"METHOD") <= 1, names
        assert names.count(b"ATTENDEE") <= 1 and names.count(b"BEGIN") == names.count(b"END")
        cal = _parse(data)
        assert len(cal.walk("VEVENT")) == 1
        event = _event(cal)
        assert len(event.walk("VALARM")) <= 1
        assert "evil@example.org" not in str(event.get("ATTENDEE", ""))
        assert names.count(b"SUMMARY") == 1 and names.count(b"DESCRIPTION") == 1 + len(event.walk("VALARM"))


def test_client_downloads_invite_only_with_access_and_after_payment(app, client, db, make_booking, frozen_now):
    """/<lang>/booking/<ref>/invite.ics: 404 without the access key or before payment; text/calendar after."""
    frozen_now(NOW)
    booking = make_booking(datetime(2026, 11, 24, 8, 0, tzinfo=UTC))
    url = f"/sv/booking/{booking.ref}/invite.ics"
    assert client.get(url).status_code == 404
    assert client.post(f"/sv/booking/{booking.ref}", data={"access_key": "abcd-efgh-jkmn"}).status_code == 303
    assert client.get(url).status_code == 404  # not paid yet
    confirm_payment(booking)
    db.session.commit()
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/calendar; charset=utf-8")
    assert "method=REQUEST" in response.headers["Content-Type"]
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    event = _event(_parse(response.data))
    assert f"/sv/booking/{booking.ref}" in str(event["URL"])
    cancel_booking(booking, actor=Actor.OPERATOR)
    db.session.commit()
    cancelled = client.get(url)
    assert "method=CANCEL" in cancelled.headers["Content-Type"]
    assert str(_parse(cancelled.data)["METHOD"]) == "CANCEL"


# -- the operator's feed ----------------------------------------------------------------

@pytest.fixture
def feed_token(app, db):
    token = feed.regenerate_token()
    db.session.commit()
    return token


def test_feed_lists_live_sessions_without_method_or_attendees(app, client, db, make_booking, frozen_now, feed_token):
    """Correct Content-Type, refresh hint with VALUE=DURATION, one event per booking, cancelled kept."""
    frozen_now(NOW)
    paid = make_booking(datetime(2026, 11, 24, 8, 0, tzinfo=UTC), name="Paid Client", call_handle="paid.one")
    unpaid = make_booking(datetime(2026, 11, 25, 8, 0, tzinfo=UTC), name="Unpaid Client")
    gone = make_booking(datetime(2026, 11, 26, 8, 0, tzinfo=UTC), state="confirmed", name="Gone Client")
    confirm_payment(paid)
    cancel_booking(gone, actor=Actor.OPERATOR)
    db.session.commit()
    response = client.get(f"/calendar/{feed_token}.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    body = response.data
    assert b"METHOD" not in body and b"ATTENDEE" not in body
    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT15M" in body
    assert b"X-PUBLISHED-TTL:PT15M" in body
    cal = _parse(body)
    events = {str(e["UID"]): e for e in cal.walk("VEVENT")}
    assert set(events) == {paid.ical_uid, unpaid.ical_uid, gone.ical_uid}
    assert str(events[paid.ical_uid]["STATUS"]) == "CONFIRMED"
    assert "Paid Client" in str(events[paid.ical_uid]["SUMMARY"])
    assert "paid.one" in str(events[paid.ical_uid]["SUMMARY"])
    assert str(events[unpaid.ical_uid]["STATUS"]) == "TENTATIVE"
    assert str(events[gone.ical_uid]["STATUS"]) == "CANCELLED"
    assert events[gone.ical_uid]["SEQUENCE"] == gone.ical_sequence
    assert _utc(events[paid.ical_uid]) == datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


def test_feed_answers_304_to_its_etag_and_changes_with_a_booking(app, client, db, make_booking, frozen_now,
                                                                 feed_token):
    """Same content -> same ETag and 304 Not Modified; a new booking -> a new ETag."""
    frozen_now(NOW)
    make_booking(datetime(2026, 11, 24, 8, 0, tzinfo=UTC))
    url = f"/calendar/{feed_token}.ics"
    first = client.get(url)
    etag = first.headers["ETag"]
    assert etag and "no-cache" in first.headers["Cache-Control"]
    frozen_now(NOW + timedelta(minutes=5))  # time passing alone changes nothing
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    make_booking(datetime(2026, 11, 25, 8, 0, tzinfo=UTC))
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_regenerating_the_token_stops_the_old_one(app, client, db, feed_token):
    """The old address answers 404 at once; the new one works; unknown tokens are 404."""
    assert client.get(f"/calendar/{feed_token}.ics").status_code == 200
    new = feed.regenerate_token()
    db.session.commit()
    assert client.get(f"/calendar/{feed_token}.ics").status_code == 404
    assert client.get(f"/calendar/{new}.ics").status_code == 200
    assert client.get("/calendar/not-the-token.ics").status_code == 404
    assert re.fullmatch(r"[A-Za-z0-9_-]{40,}", new)
    assert feed.feed_url(new, scheme="webcal").startswith("webcal://")


def test_settings_token_works_until_one_is_generated(app, client, db):
    """CALENDAR_FEED_TOKEN opens the feed until the panel generates a token; then it stops."""
    assert client.get("/calendar/from-settings-0123456789.ics").status_code == 404
    app.config["CALENDAR_FEED_TOKEN"] = "from-settings-0123456789"
    assert client.get("/calendar/from-settings-0123456789.ics").status_code == 200
    feed.regenerate_token()
    db.session.commit()
    assert client.get("/calendar/from-settings-0123456789.ics").status_code == 404
    feed.revoke_tokens()
    db.session.commit()
    assert feed.active_token() is None

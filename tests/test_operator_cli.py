"""``flask bookings create / show / list / mark-paid``: the contract operators' scripts rely on."""
import json
from datetime import datetime, timedelta, timezone

import pytest

from reflexion.booking.models import Booking
from frozen import NOW


def _json(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _create(runner, *extra, start="2026-11-29T21:30:00+01:00"):
    return runner.invoke(args=["bookings", "create", "--start", start, "--name", "Per Svensson",
                               "--email", "per@example.se", "--handle", "per.svensson@example.se", *extra])


def _instant(text):
    value = datetime.fromisoformat(text)
    assert value.utcoffset() is not None, text
    return value


def test_create_prints_the_booking_as_json(runner, frozen_now):
    """Any instant (a Sunday evening, outside the opening hours) that overlaps nothing."""
    frozen_now(NOW)
    data = _json(_create(runner, "--lang", "sv", "--json"))
    assert data["state"] == "awaiting_payment" and data["ref"].startswith("R-")
    assert data["start"] == "2026-11-29T21:30:00+01:00" and data["lang"] == "sv"
    assert data["paid"] is False and data["access_key"]
    assert [(t["from"], t["to"], t["actor"]) for t in data["transitions"]] == [("new", "awaiting_payment", "operator")]
    assert _instant(data["transitions"][0]["at"]) == NOW


def test_create_paid_confirms_at_once(runner, frozen_now):
    frozen_now(NOW)
    data = _json(_create(runner, "--paid", "--json", start="2026-11-24T06:00:00Z"))
    assert data["state"] == "confirmed" and data["paid"] is True
    assert _instant(data["start"]) == datetime(2026, 11, 24, 6, 0, tzinfo=timezone.utc)
    assert [t["to"] for t in data["transitions"]] == ["awaiting_payment", "confirmed"]


def test_a_start_without_offset_is_practice_time(runner, frozen_now):
    frozen_now(NOW)
    data = _json(_create(runner, "--json", start="2027-07-01T10:00"))
    assert data["start"] == "2027-07-01T10:00:00+02:00"  # summer time


@pytest.mark.parametrize("start, message", [
    ("tomorrow", "ISO 8601"),
    ("2027-03-28T02:30", "does not exist"),
    ("2026-11-01T10:00:00+01:00", "past"),
])
def test_create_refuses_bad_starts(runner, db, frozen_now, start, message):
    frozen_now(NOW)
    result = _create(runner, start=start)
    assert result.exit_code == 1 and message in result.output
    assert db.session.query(Booking).count() == 0


def test_create_refuses_an_overlap_and_bad_fields(runner, db, frozen_now):
    frozen_now(NOW)
    _json(_create(runner, "--json"))
    clash = _create(runner, start="2026-11-29T22:00:00+01:00")
    assert clash.exit_code == 1 and "overlap" in clash.output
    bad = runner.invoke(args=["bookings", "create", "--start", "2026-12-29T10:00:00+01:00", "--name", "P",
                              "--email", "nope", "--handle", "two words"])
    assert bad.exit_code == 1 and "--email" in bad.output and "--handle" in bad.output
    assert db.session.query(Booking).count() == 1


def test_mark_paid_show_and_list(runner, frozen_now):
    frozen_now(NOW)
    first = _json(_create(runner, "--json"))
    second = _json(_create(runner, "--json", start="2026-11-30T09:00:00+01:00"))
    paid = runner.invoke(args=["bookings", "mark-paid", first["ref"]])
    assert paid.exit_code == 0 and first["ref"] in paid.output
    again = runner.invoke(args=["bookings", "mark-paid", first["ref"]])
    assert again.exit_code == 1 and "not awaiting payment" in again.output
    shown = _json(runner.invoke(args=["bookings", "show", first["ref"].lower(), "--json"]))
    assert shown["state"] == "confirmed" and "access_key" not in shown
    assert [t["to"] for t in shown["transitions"]] == ["awaiting_payment", "confirmed"]
    for t in shown["transitions"]:
        assert set(t) >= {"from", "to", "at", "actor"} and _instant(t["at"])
    listed = _json(runner.invoke(args=["bookings", "list", "--json"]))
    assert [b["ref"] for b in listed] == [first["ref"], second["ref"]]
    assert all(set(b) >= {"ref", "state", "start", "transitions"} for b in listed)
    only = _json(runner.invoke(args=["bookings", "list", "--json", "--state", "awaiting_payment"]))
    assert [b["ref"] for b in only] == [second["ref"]]
    missing = runner.invoke(args=["bookings", "show", "R-ZZZZZZ", "--json"])
    assert missing.exit_code == 1 and "no booking" in missing.output


def test_show_lists_deadline_transitions_at_their_deadlines(runner, db, frozen_now, make_booking):
    """What the worker recorded late still reads as the deadline instant."""
    from reflexion.jobs.reconcile import reconcile

    frozen_now(NOW)
    booking = make_booking(NOW + timedelta(hours=1), state="confirmed")
    frozen_now(NOW + timedelta(hours=5))
    reconcile()
    db.session.commit()
    shown = _json(runner.invoke(args=["bookings", "show", booking.ref, "--json"]))
    assert [(t["to"], _instant(t["at"]), t["actor"]) for t in shown["transitions"][1:]] == [
        ("due", NOW + timedelta(hours=1), "worker"),
        ("no_show", NOW + timedelta(hours=1, minutes=15), "worker"),
    ]

"""Moving a booking (issue #12): same booking, timers and reminder follow, invite updated in place."""
import json
from datetime import datetime, timedelta, timezone

import pytest
import vobject
from icalendar import Calendar
from sqlalchemy import select

from mail_helpers import message_of, parts_by_type, run_worker, translated
from reflexion.booking import codes
from reflexion.booking.changes import MoveRefused, move_booking, moved_starts
from reflexion.booking.models import Booking
from reflexion.booking.operations import SlotTaken, SlotUnavailable
from reflexion.booking.payments import confirm_payment
from reflexion.booking.states import Actor
from reflexion.calendar import feed
from reflexion.calendar.invite import invite_bytes
from reflexion.i18n import format_instant
from reflexion.jobs import timers
from reflexion.jobs.scheduling import scheduled_time
from reflexion.mail.models import OutgoingEmail
from reflexion.mail.tasks import reminder_job_id
from reflexion.conversations.deadlines import PURPOSES

UTC = timezone.utc
MONDAY_MORNING = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # Mon 09:00 MEZ
WEDNESDAY_TEN = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # Wed 10:00 MEZ
FRIDAY_ELEVEN = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)  # Fri 11:00 MEZ


def _slot(deadline):
    return (deadline - timers.LEAD).replace(microsecond=0)


def _timer_times(booking):
    return {p: scheduled_time(timers.job_id_for(booking.id, p)) for p in PURPOSES}


def _paid(make_booking, db, start, **kw):
    booking = make_booking(start, **kw)
    confirm_payment(booking)
    db.session.commit()
    return booking


def _emails(db, booking, kind):
    db.session.expire_all()
    return db.session.scalars(select(OutgoingEmail).where(
        OutgoingEmail.booking_id == booking.id, OutgoingEmail.kind == kind).order_by(OutgoingEmail.id)).all()


def test_operator_moves_a_paid_booking_by_cli_and_the_timers_and_reminder_follow(app, db, runner, frozen_now,
                                                                                  make_booking):
    """Same ref, access key and confirmation; timers at the new deadlines, none at the old; audit old -> new."""
    frozen_now(MONDAY_MORNING)
    booking = _paid(make_booking, db, WEDNESDAY_TEN)
    code_before, hash_before = codes.confirmation_code_for(booking), booking.confirmation_hash
    ref, uid, seq = booking.ref, booking.ical_uid, booking.ical_sequence
    assert _timer_times(booking)["start"] == _slot(WEDNESDAY_TEN)
    old_reminder = scheduled_time(reminder_job_id(booking.id))
    assert old_reminder == (WEDNESDAY_TEN - timedelta(hours=24)).replace(microsecond=0)

    result = runner.invoke(args=["bookings", "move", ref, "--start", "2026-11-27T11:00+01:00", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["ref"] == ref and data["state"] == "confirmed"
    assert data["start"] == "2026-11-27T11:00:00+01:00" and data["end"] == "2026-11-27T11:45:00+01:00"
    assert data["ical_sequence"] == seq + 1 and data["reschedule_count"] == 0  # the operator's moves are not counted
    last = data["transitions"][-1]
    assert (last["from"], last["to"], last["actor"]) == ("confirmed", "confirmed", "operator")

    db.session.expire_all()
    booking = db.session.get(Booking, booking.id)
    assert (booking.ref, booking.ical_uid, booking.confirmation_hash) == (ref, uid, hash_before)
    assert codes.confirmation_code_for(booking) == code_before
    assert codes.check_access_key(booking.access_key_hash, "abcd-efgh-jkmn")
    assert moved_starts(booking.transitions[-1]) == (WEDNESDAY_TEN, FRIDAY_ELEVEN)
    assert booking.next_deadline_at == FRIDAY_ELEVEN
    # The timers stand at the new deadlines, one job per purpose, none left at the old ones.
    assert _timer_times(booking) == {
        "payment": None,
        "start": _slot(FRIDAY_ELEVEN),
        "no-answer": _slot(FRIDAY_ELEVEN + timedelta(minutes=15)),
        "end": _slot(FRIDAY_ELEVEN + timedelta(minutes=45)),
    }
    scheduled = timers_registry_times(app)
    assert not any(abs((t - _slot(WEDNESDAY_TEN)).total_seconds()) < 1 for t in scheduled)
    assert scheduled_time(reminder_job_id(booking.id)) == (FRIDAY_ELEVEN - timedelta(hours=24)).replace(microsecond=0)


def timers_registry_times(app):
    from reflexion.jobs.queue import get_queue
    from rq.job import Job

    from reflexion.redis_conn import get_redis

    registry = get_queue("timers").scheduled_job_registry
    return [registry.get_scheduled_time(Job.fetch(j, connection=get_redis())).replace(tzinfo=UTC)
            for j in registry.get_job_ids()]


def test_moving_an_unpaid_booking_recomputes_its_payment_deadline(app, db, frozen_now, make_booking):
    """Unpaid: the payment deadline follows the rule for the new start, and its timer with it."""
    frozen_now(MONDAY_MORNING)
    booking = make_booking(FRIDAY_ELEVEN)  # deadline: created + 48 h (the factory)
    timers.schedule_deadlines(booking)
    move_booking(booking, WEDNESDAY_TEN, actor=Actor.OPERATOR)
    db.session.commit()
    db.session.expire_all()
    # PAYMENT_CUTOFF_HOURS before the new start caps the window.
    expected = min(booking.created_at + timedelta(hours=app.config["PAYMENT_WINDOW_HOURS"]),
                   WEDNESDAY_TEN - timedelta(hours=app.config["PAYMENT_CUTOFF_HOURS"]))
    assert booking.payment_deadline == expected
    assert booking.next_deadline_at == expected
    assert _timer_times(booking)["payment"] == _slot(expected)


@pytest.mark.parametrize("start, code", [
    ("2026-11-25T10:30+01:00", "overlap"),   # overlaps the other booking
    ("2026-11-22T10:00+01:00", "past"),
    ("2026-11-24T10:00", "same"),
    ("tomorrow", "bad_start"),
    ("2027-03-28T02:30", "bad_start"),       # does not exist (clocks go forward)
])
def test_cli_move_refuses_with_a_code_and_changes_nothing(app, db, runner, frozen_now, make_booking, start, code):
    frozen_now(MONDAY_MORNING)
    booking = _paid(make_booking, db, datetime(2026, 11, 24, 9, 0, tzinfo=UTC))
    _paid(make_booking, db, WEDNESDAY_TEN, email="other@example.org")
    before = (booking.start_at, booking.ical_sequence, len(booking.transitions))
    result = runner.invoke(args=["bookings", "move", booking.ref, "--start", start, "--json"])
    assert result.exit_code != 0
    assert json.loads(result.stderr.strip().splitlines()[0])["error"] == code
    db.session.expire_all()
    booking = db.session.get(Booking, booking.id)
    assert (booking.start_at, booking.ical_sequence, len(booking.transitions)) == before


def test_cli_cancel_of_a_paid_booking_records_the_full_refund(app, db, runner, frozen_now, make_booking):
    frozen_now(MONDAY_MORNING)
    booking = _paid(make_booking, db, WEDNESDAY_TEN)
    result = runner.invoke(args=["bookings", "cancel", booking.ref, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["state"] == "cancelled"
    assert data["refund"] == {"amount": "90.00", "currency": "EUR", "state": "due"}
    again = runner.invoke(args=["bookings", "cancel", booking.ref, "--json"])
    assert again.exit_code != 0 and json.loads(again.stderr.strip().splitlines()[0])["error"] == "not_cancellable"


def test_a_move_cannot_take_a_time_another_live_booking_holds(app, db, frozen_now, make_booking):
    """Even back to back is fine for the operator, but the same instant or an overlap is refused."""
    frozen_now(MONDAY_MORNING)
    booking = _paid(make_booking, db, WEDNESDAY_TEN)
    other = make_booking(FRIDAY_ELEVEN, email="o@example.org")
    with pytest.raises(SlotTaken):
        move_booking(booking, FRIDAY_ELEVEN, actor=Actor.OPERATOR)
    db.session.rollback()
    with pytest.raises(SlotTaken):
        move_booking(booking, FRIDAY_ELEVEN + timedelta(minutes=30), actor=Actor.OPERATOR)
    db.session.rollback()
    move_booking(booking, FRIDAY_ELEVEN + timedelta(minutes=45), actor=Actor.OPERATOR)  # back to back
    db.session.commit()
    assert other.start_at == FRIDAY_ELEVEN
    with pytest.raises(SlotUnavailable):
        move_booking(booking, MONDAY_MORNING - timedelta(hours=1), actor=Actor.OPERATOR)
    db.session.rollback()


def test_a_stale_expected_start_is_refused(app, db, frozen_now, make_booking):
    frozen_now(MONDAY_MORNING)
    booking = _paid(make_booking, db, WEDNESDAY_TEN)
    with pytest.raises(MoveRefused) as refused:
        move_booking(booking, FRIDAY_ELEVEN, actor=Actor.OPERATOR, expected_start=WEDNESDAY_TEN + timedelta(days=7))
    assert refused.value.reason == "stale"
    db.session.rollback()
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).start_at == WEDNESDAY_TEN


def _calendar_part(message):
    part = parts_by_type(message)["text/calendar"][0]
    return part.get_param("method"), part.get_content()


@pytest.mark.parametrize("lang", ["de", "sv"])
def test_the_updated_email_strikes_the_old_time_and_updates_the_invite_in_place(app, db, jobs, frozen_now,
                                                                                make_booking, lang):
    """Same UID, higher SEQUENCE, METHOD:REQUEST in two readers; old time struck (HTML) and 'previously' (text)."""
    frozen_now(MONDAY_MORNING)
    booking = _paid(make_booking, db, WEDNESDAY_TEN, lang=lang)
    run_worker(app)
    move_booking(booking, FRIDAY_ELEVEN, actor=Actor.OPERATOR)
    db.session.commit()
    run_worker(app)
    (row,) = _emails(db, booking, "booking_updated")
    assert row.status == "sent" and row.lang == lang
    confirmed_row = _emails(db, booking, "booking_confirmed")[0]
    first_method, first = _calendar_part(message_of(app, confirmed_row.id))
    message = message_of(app, row.id)
    method, updated = _calendar_part(message)
    assert method == first_method == "REQUEST"
    old_text = format_instant(WEDNESDAY_TEN, "full", lang)
    new_text = format_instant(FRIDAY_ELEVEN, "full", lang)
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert translated(app, lang, "Previously: %(when)s (no longer valid)", when=old_text) in text
    assert new_text in text and (" MEZ" in new_text if lang == "de" else " CET" in new_text)
    assert f"<del>{old_text}</del>" in html and new_text in html
    assert message["Content-Language"] == lang

    # Reader 1: icalendar.
    old_event = Calendar.from_ical(first).walk("VEVENT")[0]
    new_cal = Calendar.from_ical(updated)
    new_event = new_cal.walk("VEVENT")[0]
    assert str(new_cal["METHOD"]) == "REQUEST"
    assert str(new_event["UID"]) == str(old_event["UID"]) == booking.ical_uid
    assert int(new_event["SEQUENCE"]) > int(old_event["SEQUENCE"])
    assert new_event.decoded("DTSTART").astimezone(UTC) == FRIDAY_ELEVEN
    # Reader 2: vobject (its own parser and time-zone handling).
    parsed = vobject.readOne(updated.decode() if isinstance(updated, bytes) else updated)
    assert parsed.method.value == "REQUEST"
    vevent = parsed.vevent
    assert vevent.uid.value == booking.ical_uid
    assert int(vevent.sequence.value) == int(new_event["SEQUENCE"])
    assert vevent.dtstart.value.astimezone(UTC) == FRIDAY_ELEVEN
    assert vevent.dtend.value.astimezone(UTC) == FRIDAY_ELEVEN + timedelta(minutes=45)


def test_the_feed_shows_the_new_time_and_its_etag_changes(app, db, frozen_now, make_booking):
    frozen_now(MONDAY_MORNING)
    booking = _paid(make_booking, db, WEDNESDAY_TEN)
    before = feed.feed_bytes()
    frozen_now(MONDAY_MORNING + timedelta(minutes=5))
    move_booking(booking, FRIDAY_ELEVEN, actor=Actor.OPERATOR)
    db.session.commit()
    after = feed.feed_bytes()
    assert feed.etag_of(before) != feed.etag_of(after)
    (event,) = [e for e in Calendar.from_ical(after).walk("VEVENT") if str(e["UID"]) == booking.ical_uid]
    assert event.decoded("DTSTART").astimezone(UTC) == FRIDAY_ELEVEN
    assert int(event["SEQUENCE"]) == booking.ical_sequence


AUTUMN = datetime(2027, 10, 31, tzinfo=UTC)  # last Sunday of October 2027: 03:00 CEST -> 02:00 CET


@pytest.mark.parametrize("new_start, label", [
    (datetime(2027, 10, 31, 0, 30, tzinfo=UTC), "first 02:30 (CEST)"),
    (datetime(2027, 10, 31, 1, 30, tzinfo=UTC), "second 02:30 (CET)"),
    (datetime(2027, 10, 30, 23, 30, tzinfo=UTC), "01:30 CEST, ending in the repeated hour"),
    (datetime(2027, 11, 1, 9, 0, tzinfo=UTC), "across the change: Monday 10:00 CET"),
])
def test_an_invite_moved_across_the_autumn_change_lands_at_the_booked_instant(app, db, frozen_now, make_booking,
                                                                               new_start, label):
    """Both occurrences of 02:30 and a 01:30 start: every reader places the event at the booked instant."""
    frozen_now(datetime(2027, 10, 25, 8, 0, tzinfo=UTC))
    booking = _paid(make_booking, db, datetime(2027, 10, 29, 9, 0, tzinfo=UTC))
    move_booking(booking, new_start, actor=Actor.OPERATOR)
    db.session.commit()
    raw = invite_bytes(booking, "REQUEST")
    event = Calendar.from_ical(raw).walk("VEVENT")[0]
    assert event.decoded("DTSTART").astimezone(UTC) == new_start, label
    assert event.decoded("DTEND").astimezone(UTC) == new_start + timedelta(minutes=45), label
    vevent = vobject.readOne(raw.decode()).vevent
    assert vevent.dtstart.value.astimezone(UTC) == new_start, label
    assert vevent.dtend.value.astimezone(UTC) == new_start + timedelta(minutes=45), label
    assert vevent.dtend.value > vevent.dtstart.value


def test_the_public_grid_offers_no_0230_on_the_autumn_sunday(app, db, frozen_now, weekly_hours):
    """The default opening hours never reach the repeated hour; a Sunday is closed anyway."""
    from reflexion.availability.slots import candidate_slots
    from reflexion.i18n import practice_zone

    frozen_now(datetime(2027, 10, 25, 8, 0, tzinfo=UTC))
    day = AUTUMN.date()
    assert candidate_slots(day, day, practice_zone()) == []


def test_a_booking_moved_after_its_reminder_is_reminded_again_for_the_new_time(app, db, jobs, frozen_now,
                                                                              make_booking):
    from reflexion.mail import tasks

    frozen_now(MONDAY_MORNING)
    booking = _paid(make_booking, db, WEDNESDAY_TEN)
    assert tasks.send_reminder(booking.id) == "queued"
    assert tasks.send_reminder(booking.id) == "already queued"
    move_booking(booking, FRIDAY_ELEVEN, actor=Actor.OPERATOR)
    db.session.commit()
    assert tasks.send_reminder(booking.id) == "queued"
    assert tasks.send_reminder(booking.id) == "already queued"
    starts = [row.params["start"] for row in _emails(db, booking, "reminder")]
    assert starts == [WEDNESDAY_TEN.isoformat(), FRIDAY_ELEVEN.isoformat()]

"""The operator moves a booking and records refunds in the panel (issue #12)."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from mail_helpers import translated
from reflexion.booking.changes import moved_starts
from reflexion.booking.cancellation import cancel_booking
from reflexion.booking.models import Booking, Transition
from reflexion.booking.payments import confirm_payment
from reflexion.booking.states import Actor
from reflexion.i18n import format_instant, format_money

UTC = timezone.utc
MONDAY_MORNING = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
WEDNESDAY_TEN = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # 10:00 MEZ
FRIDAY_ELEVEN = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)  # 11:00 MEZ


@pytest.fixture
def client_in(client, db):
    from reflexion.operator.auth import create_operator

    create_operator("op@example.com", "correct horse battery")
    db.session.commit()
    client.application.config["OPERATOR_SESSION_MAX_HOURS"] = 24 * 365
    response = client.post("/operator/login", data={"email": "op@example.com", "password": "correct horse battery"})
    assert response.status_code == 303
    return client


def _paid(make_booking, db, start, **kw):
    booking = make_booking(start, **kw)
    confirm_payment(booking)
    db.session.commit()
    return booking


def _state(db, booking):
    db.session.expire_all()
    b = db.session.get(Booking, booking.id)
    return b.start_at, b.ical_sequence, len(b.transitions)


def test_operator_moves_from_the_session_page_with_a_confirmation_step(app, client_in, db, frozen_now, make_booking):
    frozen_now(MONDAY_MORNING)
    booking = _paid(make_booking, db, WEDNESDAY_TEN)
    before_seq = booking.ical_sequence
    page = client_in.get(f"/operator/sessions/{booking.id}").get_data(as_text=True)
    assert f'href="/operator/bookings/{booking.id}/move"' in page
    dashboard = client_in.get("/operator/").get_data(as_text=True)
    assert f'data-move="{booking.ref}"' in dashboard
    form = client_in.get(f"/operator/bookings/{booking.id}/move").get_data(as_text=True)
    assert 'name="expected_start" type="hidden" value="2026-11-25T09:00:00Z"' in form
    data = {"day": "2026-11-27", "start_time": "11:00", "expected_start": "2026-11-25T09:00:00Z"}
    step = client_in.post(f"/operator/bookings/{booking.id}/move", data=data)
    assert step.status_code == 200
    html = step.get_data(as_text=True)
    assert "data-move-confirm" in html and f'data-new-start="{FRIDAY_ELEVEN.isoformat()}"' in html
    assert _state(db, booking)[0] == WEDNESDAY_TEN  # the first step changes nothing
    done = client_in.post(f"/operator/bookings/{booking.id}/move", data={**data, "confirm": "yes"})
    assert done.status_code == 303
    seq_before = before_seq
    start, seq, _n = _state(db, booking)
    assert start == FRIDAY_ELEVEN and seq == seq_before + 1
    history = client_in.get(f"/operator/sessions/{booking.id}").get_data(as_text=True)
    assert translated(app, "de", "moved from %(old)s to %(new)s", old=format_instant(WEDNESDAY_TEN, "short", "de"),
                      new=format_instant(FRIDAY_ELEVEN, "short", "de")) in history
    last = db.session.scalars(select(Transition).where(Transition.booking_id == booking.id)
                              .order_by(Transition.id.desc())).first()
    assert last.actor == "operator" and moved_starts(last) == (WEDNESDAY_TEN, FRIDAY_ELEVEN)


@pytest.mark.parametrize("data, status, message", [
    ({"day": "2026-11-27", "start_time": "11:30"}, 409, "This session would overlap another booking."),
    ({"day": "2026-11-20", "start_time": "11:00"}, 400, "This start is in the past."),
    ({"day": "2027-03-28", "start_time": "02:30"}, 400,
     "This local time does not exist (the clocks go forward then)."),
    ({"day": "2026-11-25", "start_time": "10:00", "expected_start": "2026-11-24T09:00:00Z"}, 409,
     "The booking was changed in the meantime. Please check the time and try again."),
    ({"day": "", "start_time": "10:00"}, 400, "Please enter the date."),
])
@pytest.mark.parametrize("confirm", ["", "yes"])
def test_a_refused_move_is_a_localized_4xx_and_changes_nothing(app, client_in, db, frozen_now, make_booking,
                                                             data, status, message, confirm):
    frozen_now(MONDAY_MORNING)
    booking = _paid(make_booking, db, WEDNESDAY_TEN)
    _paid(make_booking, db, FRIDAY_ELEVEN, email="other@example.org")
    before = _state(db, booking)
    response = client_in.post(f"/operator/bookings/{booking.id}/move",
                              data={"expected_start": "2026-11-25T09:00:00Z", **data, "confirm": confirm})
    assert response.status_code == status
    assert translated(app, "de", message) in response.get_data(as_text=True)
    assert _state(db, booking) == before


def test_operator_cancel_of_a_paid_booking_shows_refund_due_and_records_refunded(app, client_in, db, frozen_now,
                                                                                make_booking):
    from reflexion import signals

    seen = []

    def due(b, amount):
        seen.append(("due", b.ref, amount))

    def done(b):
        seen.append(("done", b.ref))

    signals.refund_due.connect(due)
    signals.refund_completed.connect(done)
    frozen_now(MONDAY_MORNING)
    booking = _paid(make_booking, db, WEDNESDAY_TEN)
    response = client_in.post(f"/operator/bookings/{booking.id}/cancel", data={"back": "session"})
    assert response.status_code == 303
    db.session.expire_all()
    booking = db.session.get(Booking, booking.id)
    assert (booking.state, booking.refund_cents, booking.refund_state) == ("cancelled", 9000, "due")
    amount = format_money(9000, "EUR", "de")
    due_text = translated(app, "de", "Refund due — %(amount)s", amount=amount)
    assert due_text in client_in.get("/operator/").get_data(as_text=True)
    assert due_text in client_in.get(f"/operator/sessions/{booking.id}").get_data(as_text=True)
    assert client_in.post(f"/operator/bookings/{booking.id}/refunded", data={"back": "session"}).status_code == 303
    db.session.expire_all()
    booking = db.session.get(Booking, booking.id)
    assert booking.refund_state == "refunded" and booking.refunded_at is not None
    assert due_text not in client_in.get("/operator/").get_data(as_text=True)
    assert [s[0] for s in seen if s[1] == booking.ref] == ["due", "done"]
    assert str(seen[0][2]) == "90"
    # Twice is refused, nothing changes.
    client_in.post(f"/operator/bookings/{booking.id}/refunded")
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).refund_state == "refunded"
    signals.refund_due.disconnect(due)
    signals.refund_completed.disconnect(done)


@pytest.mark.parametrize("hours_before, percent_key", [(30, "REFUND_PERCENT_BEFORE_CUTOFF"),
                                                       (5, "REFUND_PERCENT_AFTER_CUTOFF")])
def test_refund_per_policy_for_the_client_and_always_full_for_the_operator(app, db, frozen_now, make_booking,
                                                                         hours_before, percent_key):
    app.config.update(REFUND_PERCENT_BEFORE_CUTOFF=80, REFUND_PERCENT_AFTER_CUTOFF=25, CHANGE_CUTOFF_HOURS=24)
    frozen_now(WEDNESDAY_TEN - timedelta(hours=hours_before))
    by_client = _paid(make_booking, db, WEDNESDAY_TEN)
    by_operator = _paid(make_booking, db, FRIDAY_ELEVEN, email="x@example.org")
    cancel_booking(by_client, actor=Actor.CLIENT)
    cancel_booking(by_operator, actor=Actor.OPERATOR)
    db.session.commit()
    assert by_client.refund_cents == 9000 * app.config[percent_key] // 100
    assert by_operator.refund_cents == 9000 and by_operator.refund_state == "due"

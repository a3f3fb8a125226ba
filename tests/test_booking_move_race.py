"""A deadline timer firing while a move is in flight (issue #12), with a real RQ worker and Redis.

The booking ends in one consistent state: a move that committed first wins (the timer, which read
the booking before, finds the start changed and does nothing); a timer that committed first
makes the move refuse.
"""
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from mail_helpers import run_worker
from reflexion import clock
from reflexion.booking import changes
from reflexion.booking.changes import MoveRefused, move_booking
from reflexion.booking.models import Booking, Transition
from reflexion.booking.states import Actor
from reflexion.extensions import db as _db
from reflexion.jobs import timers
from reflexion.jobs.scheduling import job_status, scheduled_time


def _unpaid_past_its_deadline(db, make_booking):
    now = clock.now()
    booking = make_booking(now + timedelta(days=3))
    booking.payment_deadline = now - timedelta(seconds=5)
    db.session.commit()
    timers.schedule_deadlines(booking)
    return booking


def _history(db, booking):
    db.session.expire_all()
    rows = db.session.scalars(select(Transition).where(Transition.booking_id == booking.id)
                              .order_by(Transition.id)).all()
    return [(r.from_state, r.to_state, r.note_code or (r.note or "").split(" ")[0]) for r in rows]


def test_a_move_that_commits_first_wins_over_the_timer_that_read_the_old_time(app, db, jobs, make_app,
                                                                             make_booking, monkeypatch):
    booking = _unpaid_past_its_deadline(db, make_booking)
    new_start = booking.start_at + timedelta(days=1)
    other = make_app()
    real_apply = timers.apply_deadlines
    raced = []

    def timer_meets_a_move(stale_booking, now):
        # The timer job has read the booking (old start, deadline passed); the operator's move
        # commits in another process's session before the timer writes.
        def operator_moves():
            with other.app_context():
                fresh = _db.session.get(Booking, stale_booking.id)
                move_booking(fresh, new_start, actor=Actor.OPERATOR)
                _db.session.commit()

        # A thread of its own: like the web process, it is not inside the running job.
        thread = threading.Thread(target=operator_moves)
        thread.start()
        thread.join(30)
        raced.append(stale_booking.start_at)
        return real_apply(stale_booking, now)

    monkeypatch.setattr(timers, "apply_deadlines", timer_meets_a_move)
    run_worker(app)
    assert raced, "the payment timer ran in the worker"
    db.session.expire_all()
    booking = db.session.get(Booking, booking.id)
    assert booking.state == "awaiting_payment" and booking.start_at == new_start
    assert booking.payment_deadline > clock.now()
    assert _history(db, booking) == [("new", "awaiting_payment", ""),
                                     ("awaiting_payment", "awaiting_payment", "moved")]
    # The payment timer now waits for the new deadline.
    assert job_status(timers.job_id_for(booking.id, "payment")) == "scheduled"
    assert scheduled_time(timers.job_id_for(booking.id, "payment")) == \
        (booking.payment_deadline - timers.LEAD).replace(microsecond=0)


def test_a_timer_that_commits_first_makes_the_move_in_flight_refuse(app, db, jobs, make_booking, monkeypatch):
    booking = _unpaid_past_its_deadline(db, make_booking)
    old_start = booking.start_at
    real_lock = changes.lock_schedule

    def worker_runs_before_the_lock():
        # The move has begun with the booking as the form showed it; the real worker expires it now.
        run_worker(app)
        real_lock()

    monkeypatch.setattr(changes, "lock_schedule", worker_runs_before_the_lock)
    with pytest.raises(MoveRefused) as refused:
        move_booking(booking, old_start + timedelta(days=1), actor=Actor.OPERATOR)
    assert refused.value.reason == "not_movable"
    db.session.rollback()
    db.session.expire_all()
    booking = db.session.get(Booking, booking.id)
    assert booking.state == "expired" and booking.start_at == old_start
    assert [h[:2] for h in _history(db, booking)] == [("new", "awaiting_payment"), ("awaiting_payment", "expired")]


def test_the_operator_panel_refuses_a_move_after_the_timer_expired_the_booking(app, client, db, jobs,
                                                                                make_booking):
    from reflexion.operator.auth import create_operator

    booking = _unpaid_past_its_deadline(db, make_booking)
    create_operator("op@example.com", "correct horse battery")
    db.session.commit()
    client.post("/operator/login", data={"email": "op@example.com", "password": "correct horse battery"})
    run_worker(app)
    local = (booking.start_at + timedelta(days=1)).astimezone(__import__("zoneinfo").ZoneInfo("Europe/Berlin"))
    response = client.post(f"/operator/bookings/{booking.id}/move", data={
        "day": local.date().isoformat(), "start_time": local.strftime("%H:%M"), "confirm": "yes"})
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).state == "expired"

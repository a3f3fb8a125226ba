"""Unpaid bookings expire at their payment deadline: by their timer job, or by the sweep.

Either way the transition is recorded at the deadline instant by the worker, the slot is
free again, and the client gets exactly one 'reservation lapsed' e-mail in their language.
"""
from datetime import datetime, timedelta, timezone


from mail_helpers import message_of, outbox_messages, run_worker, stored_emails, translated
from reflexion import clock
from reflexion.booking import operations
from reflexion.booking.models import Booking
from reflexion.booking.payments import confirm_payment
from reflexion.jobs import timers
from reflexion.jobs.reconcile import reconcile
from frozen import NOW

UTC = timezone.utc

START = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)  # Thu 09:00 MEZ


def _emails(db, booking, kind=None):
    return stored_emails(booking, kind)


def _expired_correctly(db, booking, deadline):
    db.session.expire_all()
    booking = db.session.get(Booking, booking.id)
    assert booking.state == "expired"
    last = booking.transitions[-1]
    assert (last.from_state, last.to_state, last.actor) == ("awaiting_payment", "expired", "worker")
    assert last.at == deadline
    return booking


def test_unpaid_booking_expires_by_its_timer_job(app, db, jobs):
    """Real time, real scheduler: the job set at booking time expires the booking at its deadline."""
    app.config["PAYMENT_WINDOW_HOURS"] = 0.8 / 3600  # the deadline 0.8 s after booking
    start = (clock.now() + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    new = operations.book_as_operator(start, name="Erika Muster", email="erika@example.org",
                                     call_handle="erika.muster@example.org", lang="sv")
    db.session.commit()  # after commit: the payment-deadline job is scheduled
    booking = new.booking
    deadline = booking.payment_deadline
    assert deadline - booking.created_at == timedelta(seconds=0.8)
    run_worker(app)  # the job is due (LEAD early), waits out the rest, expires the booking
    assert clock.now() >= deadline
    _expired_correctly(db, booking, deadline)
    (lapsed,) = _emails(db, booking, "booking_expired")
    assert lapsed.status == "sent"
    message = message_of(app, lapsed.id)
    assert message["Subject"] == translated(app, "sv", "Your reservation %(ref)s has lapsed", ref=booking.ref)
    # The slot is free again: the same start can be booked.
    again = operations.book_as_operator(start, name="Other", email="o@example.org", call_handle="other.one@example.org")
    db.session.commit()
    assert again.booking.state == "awaiting_payment"


def test_overdue_booking_expires_by_the_sweep_at_its_deadline(app, db, jobs, make_booking, frozen_now):
    """No job ran (Redis lost it): the reconcile sweep expires it, recorded at the deadline, one e-mail."""
    frozen_now(NOW)
    booking = make_booking(START, lang="sv")
    deadline = booking.payment_deadline
    frozen_now(deadline + timedelta(hours=5))  # the sweep comes late
    assert reconcile() == 1
    db.session.commit()
    _expired_correctly(db, booking, deadline)
    assert reconcile() == 0  # idempotent
    db.session.commit()
    assert timers.run_deadlines(booking.id) == []  # a late timer job finds nothing to do
    run_worker(app)
    (lapsed,) = _emails(db, booking, "booking_expired")
    assert lapsed.status == "sent" and lapsed.lang == "sv"
    (message,) = outbox_messages(app)
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert booking.ref in text
    assert "CET" in text and "onsdag 25 november 2026" in text  # the deadline, Swedish, with its zone
    assert "/sv/book" in text and "/sv/contact" in text
    assert "IBAN" not in text


def test_sweep_through_the_periodic_job_also_expires(app, db, jobs, make_booking, frozen_now):
    """The worker's periodic reconcile (what runs every RECONCILE_SECONDS) applies the deadline."""
    from reflexion.jobs import periodic

    frozen_now(NOW)
    booking = make_booking(START)
    deadline = booking.payment_deadline
    frozen_now(deadline + timedelta(seconds=1))
    assert periodic.run_reconcile() == 1
    _expired_correctly(db, booking, deadline)
    assert len(_emails(db, booking, "booking_expired")) == 1


def test_paid_booking_does_not_expire(app, db, jobs, make_booking, frozen_now):
    """Paid before the deadline: neither sweep nor timer touches it; no lapse e-mail."""
    frozen_now(NOW)
    booking = make_booking(START)
    deadline = booking.payment_deadline
    confirm_payment(booking)
    db.session.commit()
    frozen_now(deadline + timedelta(minutes=1))
    assert reconcile() == 0
    assert timers.run_deadlines(booking.id) == []
    db.session.refresh(booking)
    assert booking.state == "confirmed"
    assert _emails(db, booking, "booking_expired") == []

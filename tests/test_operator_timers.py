"""Timer jobs, the reconcile sweep and the periodic chain, against the real test Redis."""
import os
import socket
import subprocess
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from reflexion import clock
from reflexion import signals
from reflexion.booking.models import Transition
from reflexion.booking.states import Actor, State
from reflexion.booking.transitions import transition
from reflexion.jobs import periodic, timers
from reflexion.jobs.queue import ALL_QUEUES, DEFAULT, get_queue
from reflexion.jobs.scheduling import job_status, scheduled_time
from reflexion.redis_conn import get_redis
from mail_helpers import run_worker
from reflexion.conversations.deadlines import PURPOSES

START = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)


def _times(booking):
    return {p: scheduled_time(timers.job_id_for(booking.id, p)) for p in PURPOSES}


def _slot(deadline):
    """Where RQ's scheduled registry keeps a timer for ``deadline``: LEAD early, whole seconds."""
    return (deadline - timers.LEAD).replace(microsecond=0)


def test_confirmation_schedules_start_no_answer_and_end(app, db, frozen_now, make_booking):
    """At payment the three session timers are set, each LEAD before its deadline; the payment one goes."""
    from reflexion.booking.payments import confirm_payment

    frozen_now(START - timedelta(days=1))
    booking = make_booking(START)
    timers.schedule_deadlines(booking)
    assert _times(booking)["payment"] == _slot(booking.payment_deadline)
    confirm_payment(booking)
    db.session.commit()
    assert _times(booking) == {
        "payment": None,
        "start": _slot(START),
        "no-answer": _slot(START + timedelta(minutes=15)),
        "end": _slot(START + timedelta(minutes=45)),
    }


def test_timer_instants_follow_the_settings(app, db, frozen_now, make_booking):
    """REFLEXION_SESSION_MINUTES / NO_ANSWER_MINUTES with fractions: a session in seconds."""
    app.config.update(SESSION_MINUTES=0.2, NO_ANSWER_MINUTES=0.05)
    frozen_now(START - timedelta(minutes=1))
    booking = make_booking(START, state="confirmed")
    timers.schedule_deadlines(booking)
    times = _times(booking)
    assert times["no-answer"] == _slot(START + timedelta(seconds=3))
    assert times["end"] == _slot(START + timedelta(seconds=12))


def test_operator_booking_gets_its_payment_timer(app, db, frozen_now):
    from reflexion.booking.operations import book_as_operator

    frozen_now(START - timedelta(days=3))
    new = book_as_operator(START, name="Per", email="per@example.se", call_handle="per.s@example.se", lang="sv")
    db.session.commit()
    assert _times(new.booking)["payment"] == _slot(new.booking.payment_deadline)


def test_cancelling_drops_every_timer(app, db, frozen_now, make_booking):
    frozen_now(START - timedelta(days=1))
    booking = make_booking(START, state="confirmed")
    timers.schedule_deadlines(booking)
    assert all(_times(booking)[p] for p in ("start", "no-answer", "end"))
    entry = transition(booking, State.CANCELLED, actor=Actor.OPERATOR)
    signals.state_changed.send(booking, entry=entry)
    db.session.commit()
    assert set(_times(booking).values()) == {None}
    assert all(job_status(timers.job_id_for(booking.id, p)) is None for p in PURPOSES)


def test_rescheduling_moves_the_timers(app, db, frozen_now, make_booking):
    frozen_now(START - timedelta(days=1))
    booking = make_booking(START, state="confirmed")
    timers.schedule_deadlines(booking)
    later = START + timedelta(days=2)
    booking.start_at, booking.end_at = later, later + timedelta(minutes=45)
    db.session.commit()
    timers.schedule_deadlines_by_id(booking.id)
    assert _times(booking)["start"] == _slot(later)
    assert _times(booking)["end"] == _slot(later + timedelta(minutes=45))
    # One job per purpose, not a second one beside the old.
    assert len(get_queue("timers").scheduled_job_registry.get_job_ids()) == 3


def test_an_answered_session_keeps_only_the_hard_end(app, db, frozen_now, make_booking):
    frozen_now(START + timedelta(minutes=1))
    booking = make_booking(START, state="answered")
    timers.schedule_deadlines(booking)
    assert [p for p, t in _times(booking).items() if t] == ["end"]


def test_the_timer_job_is_idempotent(app, db, jobs, make_booking):
    """Run twice (or after the operator acted), the job writes each move once."""
    now = clock.now()
    booking = make_booking(now - timedelta(minutes=1), state="confirmed")
    assert timers.run_deadlines(booking.id) == ["confirmed->due"]
    assert timers.run_deadlines(booking.id) == []
    assert timers.run_deadlines(999999) == []  # a deleted booking is no error
    db.session.expire_all()
    rows = db.session.scalars(select(Transition).where(Transition.booking_id == booking.id)).all()
    assert [r.to_state for r in rows] == ["confirmed", "due"]


def test_the_job_waits_out_its_lead_and_lands_on_the_deadline(app, db, jobs, make_booking):
    """Enqueued LEAD early, the job sleeps until the deadline, then applies it (recorded at it)."""
    deadline = clock.now() + timedelta(seconds=0.6)
    booking = make_booking(deadline, state="confirmed")
    assert timers.run_deadlines(booking.id, deadline.isoformat()) == ["confirmed->due"]
    assert clock.now() >= deadline
    db.session.expire_all()
    assert booking.transitions[-1].at == deadline


def test_a_worker_with_scheduler_runs_due_timers_and_keeps_the_rest(app, db, jobs, make_booking):
    """Start passed: the start job runs in a real (burst) worker; the future timers stay scheduled,
    and the running job did not cancel or replace itself."""
    now = clock.now()
    booking = make_booking(now - timedelta(seconds=5), state="confirmed")
    timers.schedule_deadlines(booking)
    run_worker(app)
    db.session.expire_all()
    assert booking.state == "due"
    assert job_status(timers.job_id_for(booking.id, "start")) == "finished"
    assert job_status(timers.job_id_for(booking.id, "no-answer")) == "scheduled"
    assert job_status(timers.job_id_for(booking.id, "end")) == "scheduled"


def test_reconcile_applies_everything_overdue_at_the_deadline_instants(app, db, frozen_now, make_booking):
    from reflexion.jobs.reconcile import reconcile

    frozen_now(START - timedelta(days=2))
    unpaid = make_booking(START)
    due = make_booking(START + timedelta(hours=2), state="confirmed")
    talking = make_booking(START + timedelta(hours=4), state="in_progress")
    future = make_booking(START + timedelta(days=1), state="confirmed")
    frozen_now(START + timedelta(hours=6))
    assert reconcile() == 4
    db.session.commit()
    assert (unpaid.state, due.state, talking.state, future.state) == ("expired", "no_show", "completed", "confirmed")
    assert unpaid.transitions[-1].at == unpaid.payment_deadline
    assert [t.at for t in due.transitions[1:]] == [START + timedelta(hours=2), START + timedelta(hours=2, minutes=15)]
    assert talking.transitions[-1].at == START + timedelta(hours=4, minutes=45)
    assert {t.actor for b in (unpaid, due, talking) for t in b.transitions[1:]} == {"worker"}
    assert reconcile() == 0


def test_the_sweep_reschedules_the_timers_after_its_commit_without_an_error(app, db, frozen_now, make_booking,
                                                                            caplog):
    """A transition the sweep applies moves the booking's timers once committed; no effect fails."""
    frozen_now(START - timedelta(days=1))
    booking = make_booking(START, state="confirmed")
    timers.schedule_deadlines(booking)
    frozen_now(START + timedelta(minutes=1))
    with caplog.at_level("WARNING"):
        assert periodic.run_reconcile() == 1
    assert booking.state == "due"
    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == []
    times = _times(booking)
    assert times["start"] is None
    assert times["no-answer"] == _slot(START + timedelta(minutes=15))


def test_the_next_deadline_is_kept_on_the_row_for_the_sweep(app, db, frozen_now, make_booking):
    """``next_deadline_at`` follows every state change: the sweep's query finds exactly the due ones."""
    from reflexion.jobs.reconcile import overdue_bookings
    from reflexion.conversations.deadlines import next_deadline

    frozen_now(START - timedelta(days=1))
    booking = make_booking(START, state="confirmed")
    assert booking.next_deadline_at == START == next_deadline(booking)
    assert overdue_bookings(START - timedelta(seconds=1)) == []
    assert overdue_bookings(START) == [booking]
    transition(booking, State.CANCELLED, actor=Actor.OPERATOR)
    db.session.commit()
    db.session.expire_all()
    assert booking.next_deadline_at is None
    assert overdue_bookings(START + timedelta(days=1)) == []


def test_the_periodic_chain_continues_under_a_new_id_and_duplicates_stop(app, db, jobs):
    """Each run schedules its successor; a second chain (two starters) ends by itself."""
    assert periodic.ensure(periodic.RECONCILE, periodic.reconcile_job, 30)
    assert not periodic.ensure(periodic.RECONCILE, periodic.reconcile_job, 30)  # one is pending
    registry = get_queue(DEFAULT).scheduled_job_registry
    (first,) = registry.get_job_ids()
    # A duplicate chain appears, then both come due now.
    periodic.schedule_next(periodic.RECONCILE, periodic.reconcile_job, 30)
    current = get_redis().get("reflexion:periodic:reconcile").decode()
    for job_id in registry.get_job_ids():
        registry.schedule(get_queue(DEFAULT).fetch_job(job_id), datetime.now(timezone.utc) - timedelta(seconds=1))
    run_worker(app)
    (successor,) = registry.get_job_ids()
    assert successor not in (first, current)
    assert get_redis().get("reflexion:periodic:reconcile").decode() == successor
    assert get_queue(DEFAULT).fetch_job(first).return_value() == "duplicate chain stopped"
    assert scheduled_time(successor) > datetime.now(timezone.utc) + timedelta(seconds=25)


def test_web_side_scheduling_also_starts_the_safety_net(app, db, frozen_now, make_booking):
    """A plain ``rq worker`` runs no start-up code: scheduling timers makes sure reconcile runs."""
    frozen_now(START - timedelta(days=1))
    timers.schedule_deadlines(make_booking(START, state="confirmed"))
    pending = get_redis().get("reflexion:periodic:reconcile").decode()
    assert job_status(pending) == "scheduled"


def test_worker_start_reconciles_and_starts_the_chain(app, db, jobs, make_booking, monkeypatch):
    from reflexion.jobs import clock_jobs, worker

    monkeypatch.setattr(clock_jobs, "start", lambda app: None)
    booking = make_booking(clock.now() - timedelta(hours=1), state="in_progress")
    worker.on_worker_start(app)
    db.session.expire_all()
    assert booking.state == "completed"
    assert job_status(get_redis().get("reflexion:periodic:reconcile").decode()) == "scheduled"


def test_stale_scheduler_locks_of_dead_processes_are_freed(app):
    """After a crash RQ would wait for the lock to expire (and retry only every 10 min)."""
    from reflexion.jobs.worker import reclaim_stale_scheduler_locks

    redis = get_redis(app)
    dead = subprocess.Popen(["true"])
    dead.wait()
    host = socket.gethostname()
    holders = {"timers": (host, dead.pid), "default": (host, os.getpid()), "mail": ("elsewhere", dead.pid)}
    for queue, (hostname, pid) in holders.items():
        redis.set(f"rq:scheduler-lock:{queue}", f"s-{queue}")
        redis.hset(f"rq:scheduler:s-{queue}", mapping={"hostname": hostname, "pid": pid})
    assert reclaim_stale_scheduler_locks(redis, ALL_QUEUES) == ["timers"]
    assert redis.get("rq:scheduler-lock:timers") is None
    assert redis.get("rq:scheduler-lock:default") and redis.get("rq:scheduler-lock:mail")


def test_worker_start_restores_timers_and_reminders_that_redis_lost(app, db, make_booking, frozen_now):
    """Redis restarted empty: the worker puts every live booking's timers (and a missed reminder) back."""
    from datetime import datetime, timedelta, timezone

    from rq import Queue
    from rq.registry import ScheduledJobRegistry

    from reflexion.jobs.timers import restore_timers
    from reflexion.redis_conn import get_redis

    now = frozen_now(datetime(2026, 11, 23, 8, tzinfo=timezone.utc))
    confirmed = make_booking(now + timedelta(hours=10), state="confirmed")  # reminder (24 h before) missed
    unpaid = make_booking(now + timedelta(days=3))
    make_booking(now - timedelta(days=1), state="completed")
    get_redis().flushdb()
    assert restore_timers() == 2
    connection = get_redis()
    timers = set(ScheduledJobRegistry(queue=Queue("timers", connection=connection)).get_job_ids())
    assert {f"booking-{confirmed.id}-start", f"booking-{confirmed.id}-no-answer", f"booking-{confirmed.id}-end",
            f"booking-{unpaid.id}-payment"} <= timers
    reminders = [j for q in ("timers", "default", "mail")
                 for j in ScheduledJobRegistry(queue=Queue(q, connection=connection)).get_job_ids()
                 if j.endswith("reminder")]
    assert reminders == [f"booking-{confirmed.id}-reminder"]


def test_a_cancellation_runs_each_effect_once(app, db, frozen_now, make_booking):
    """Cancelling goes through the one state-change path: one timer update (dropping all
    timers) and one reminder cancellation after the commit, nothing scheduled again."""
    from reflexion.booking.cancellation import cancel_booking
    from reflexion.effects import _KEY
    from reflexion.mail import tasks

    frozen_now(START - timedelta(days=1))
    booking = make_booking(START, state="confirmed")
    cancel_booking(booking, actor=Actor.OPERATOR)
    pending = [(callback, args) for _savepoint, callback, args, _ in db.session.info[_KEY]]
    names = [callback.__name__ for callback, _ in pending]
    assert names.count("apply_timer_plan") == 1
    assert dict(pending)[timers.apply_timer_plan] == (booking.id, {})
    assert names.count(tasks.cancel_reminder.__name__) == 1
    assert "schedule_reminder" not in names
    db.session.commit()
    assert set(_times(booking).values()) == {None}

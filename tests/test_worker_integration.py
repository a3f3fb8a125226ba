"""The deadline timers in a real ``rq worker --with-scheduler`` process against a real Redis.

Sessions last seconds (``REFLEXION_SESSION_MINUTES=0.075``, ``REFLEXION_NO_ANSWER_MINUTES=0.04``):
the worker subprocess and this test share a file-based SQLite database and the test Redis.
"""
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from reflexion import clock
from reflexion.booking.models import Transition
from reflexion.processes import die_with_parent

pytestmark = pytest.mark.worker

ROOT = Path(__file__).resolve().parent.parent
SESSION_MINUTES, NO_ANSWER_MINUTES = 0.075, 0.04        # 4.5 s and 2.4 s
SESSION, NO_ANSWER = timedelta(minutes=SESSION_MINUTES), timedelta(minutes=NO_ANSWER_MINUTES)
# Generous on purpose: how fast transitions land is measured by bench/, not asserted; what these
# tests hold to is that each one is recorded at its deadline instant.
LAND_WITHIN = timedelta(seconds=5)


@pytest.fixture
def app_config(app_config):
    app_config.update(SESSION_MINUTES=SESSION_MINUTES, NO_ANSWER_MINUTES=NO_ANSWER_MINUTES)
    return app_config


class WorkerProcess:
    """A worker subprocess in its own process group, with its output kept for failures."""

    def __init__(self, app, redis_url, tmp_path):
        self.app, self.redis_url, self.tmp_path = app, redis_url, tmp_path
        self.process = None
        self.runs = 0

    def env(self):
        config = self.app.config
        return {
            **os.environ,
            "DATABASE_URL": config["SQLALCHEMY_DATABASE_URI"],
            "REDIS_URL": self.redis_url,
            "SECRET_KEY": config["SECRET_KEY"],
            "REFLEXION_INSTANCE": config["INSTANCE_DIR"],
            "REFLEXION_SESSION_MINUTES": str(SESSION_MINUTES),
            "REFLEXION_NO_ANSWER_MINUTES": str(NO_ANSWER_MINUTES),
            "REFLEXION_NTP_SERVERS": "127.0.0.1",  # never the internet; fails at once
            "REFLEXION_NTP_TIMEOUT": "0.2",
            "PYTHONUNBUFFERED": "1",
        }

    def start(self, command="flask"):
        if command == "flask":
            args = [sys.executable, "-m", "flask", "--app", "wsgi", "worker"]
        else:  # a plain RQ worker: jobs build their app themselves
            args = [str(Path(sys.executable).parent / "rq"), "worker", "--with-scheduler", "--url", self.redis_url,
                    "timers", "default", "mail"]
        from reflexion.redis_conn import get_redis

        self.known_workers = get_redis(self.app).smembers("rq:workers")
        self.runs += 1
        self.log = open(self.tmp_path / f"worker-{self.runs}.log", "wb")
        self.process = subprocess.Popen(args, cwd=ROOT, env=self.env(), stdout=self.log, stderr=subprocess.STDOUT,
                                        start_new_session=True, preexec_fn=die_with_parent)
        self._wait_until_scheduling()
        return self

    def _wait_until_scheduling(self, timeout=20):
        from reflexion.redis_conn import get_redis

        redis = get_redis(self.app)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"worker exited: {self.output()}")
            # A new worker registered (after its start-up catch-up) and a scheduler holds the lock.
            if redis.smembers("rq:workers") - self.known_workers and redis.exists("rq:scheduler-lock:timers"):
                return
            time.sleep(0.05)
        pytest.fail(f"worker did not start scheduling: {self.output()}")

    def output(self):
        if not self.log.closed:
            self.log.flush()
        return (self.tmp_path / f"worker-{self.runs}.log").read_text(errors="replace")[-4000:]

    def crash(self):
        """SIGKILL the whole group (worker, scheduler, work horse): no clean-up at all."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)
        self.log.close()

    def stop(self):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if self.process and not self.log.closed:
            self.log.close()


def logged_errors(tmp_path) -> list[str]:
    """Lines at ERROR level (or tracebacks) in every log the test's workers wrote.

    Not counted: the one traceback Python prints when the stop signal reaches a scheduler process
    in the instant after its fork (RQ's inherited handler raises SystemExit inside Python's own
    after-fork hook: "Exception ignored in: <function _after_fork …>"); that is the test stopping
    the worker while it restarts its scheduler, not an effect that raised.
    """
    found = []
    for log in sorted(tmp_path.glob("worker-*.log")):
        lines = log.read_text(errors="replace").splitlines()
        for i, line in enumerate(lines):
            if line.startswith("Traceback") and i and lines[i - 1].startswith("Exception ignored in: <function _after_fork"):
                ending = next((later for later in lines[i + 1:] if later and not later.startswith(" ")), "")
                if ending.startswith("SystemExit"):
                    continue
            if " ERROR " in line or line.startswith("Traceback"):
                found.append(line)
    return found


@pytest.fixture
def worker(app, redis_server, tmp_path):
    """A worker subprocess; the test fails if the worker logged an ERROR (an effect that raised)."""
    process = WorkerProcess(app, redis_server.url, tmp_path)
    yield process
    process.stop()
    errors = logged_errors(tmp_path)
    if errors:
        pytest.fail("the worker logged errors:\n" + "\n".join(errors[:20]))


def test_the_log_check_sees_an_error_line(tmp_path):
    """The worker fixture's log check is not vacuous: an effect's ERROR line is found."""
    (tmp_path / "worker-1.log").write_text(
        "2026-12-01 22:00:00,000 INFO rq.worker: started\n"
        "2026-12-01 22:00:01,000 ERROR reflexion.effects: after-commit effect apply_timer_plan failed\n")
    assert logged_errors(tmp_path) == [
        "2026-12-01 22:00:01,000 ERROR reflexion.effects: after-commit effect apply_timer_plan failed"]


def _paid_booking(db, make_booking, start):
    """A booking confirmed through the real payment path, so its timers are set at confirmation."""
    from reflexion.booking.payments import confirm_payment

    booking = make_booking(start)
    confirm_payment(booking)
    db.session.commit()
    return booking


def _wait_for(db, booking, state, timeout):
    """Poll the database until ``booking`` is in ``state``; return when it was seen there."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.expire_all()
        if booking.state == state:
            return clock.now()
        time.sleep(0.05)
    pytest.fail(f"{booking.ref} is {booking.state}, not {state}")  # the worker's log is in tmp_path


def _moves(db, booking):
    db.session.expire_all()
    """The moves after confirmation."""
    return [(t.from_state, t.to_state, t.actor, t.at) for t in booking.transitions
            if t.to_state not in ("awaiting_payment", "confirmed")]


def test_no_show_and_hard_end_land_on_time(app, db, make_booking, worker):
    """A no-show lands within 2 s of its deadline; a verified session completes at its hard end.
    Both are recorded at the deadline instant by the worker."""
    from reflexion.booking import codes
    from reflexion.conversations import actions

    worker.start()
    now = clock.now()
    silent = _paid_booking(db, make_booking, now + timedelta(seconds=2))
    talking = _paid_booking(db, make_booking, now + timedelta(seconds=3))
    no_answer, end = silent.start_at + NO_ANSWER, talking.start_at + SESSION

    _wait_for(db, talking, "due", timeout=5)
    actions.mark_answered(talking)
    actions.verify_confirmation(talking, codes.confirmation_code_for(talking))
    db.session.commit()

    seen = _wait_for(db, silent, "no_show", timeout=8)
    print(f"no-show seen {(seen - no_answer).total_seconds():.3f} s after its deadline")
    assert seen - no_answer <= LAND_WITHIN
    assert _moves(db, silent) == [("confirmed", "due", "worker", silent.start_at),
                                  ("due", "no_show", "worker", no_answer)]

    seen = _wait_for(db, talking, "completed", timeout=8)
    print(f"hard end seen {(seen - end).total_seconds():.3f} s after the deadline")
    assert seen - end <= LAND_WITHIN
    assert _moves(db, talking)[-1] == ("in_progress", "completed", "worker", end)
    assert [m[1] for m in _moves(db, talking)] == ["due", "answered", "in_progress", "completed"]


def test_a_killed_worker_catches_up_on_restart_at_the_deadline_instants(app, db, make_booking, worker):
    """Killed before a session's start and restarted after its no-answer deadline: the restart
    records due and no-show at their own instants; timers work again at once afterwards."""
    worker.start()
    missed = _paid_booking(db, make_booking, clock.now() + timedelta(seconds=1))
    worker.crash()
    no_answer = missed.start_at + NO_ANSWER
    time.sleep(max(0.0, (no_answer - clock.now()).total_seconds()) + 0.5)
    db.session.expire_all()
    assert missed.state == "confirmed"  # nobody ran while the worker was down

    worker.start()
    assert _moves(db, missed) == [("confirmed", "due", "worker", missed.start_at),
                                  ("due", "no_show", "worker", no_answer)]

    # The dead scheduler's lock was freed: the next session's timer is on time again.
    later = _paid_booking(db, make_booking, clock.now() + timedelta(seconds=1))
    seen = _wait_for(db, later, "no_show", timeout=8)
    assert seen - (later.start_at + NO_ANSWER) <= LAND_WITHIN


def test_a_plain_rq_worker_runs_the_timers_too(app, db, make_booking, worker):
    """``rq worker --with-scheduler`` without our command: jobs build their own app."""
    worker.start(command="rq")
    booking = _paid_booking(db, make_booking, clock.now() + timedelta(seconds=1.5))
    no_answer = booking.start_at + NO_ANSWER
    seen = _wait_for(db, booking, "no_show", timeout=8)
    assert seen - no_answer <= LAND_WITHIN
    assert _moves(db, booking)[-1] == ("due", "no_show", "worker", no_answer)
    assert db.session.query(Transition).filter_by(booking_id=booking.id, to_state="no_show").count() == 1


def test_a_scheduler_that_died_on_another_host_is_taken_over_within_seconds(app, db, make_booking, worker):
    """Another host's scheduler holds every lock and stopped beating (host gone): RQ alone would
    wait for the locks to expire (61 s) and retry only every ten minutes; our worker watches the
    holder's beat, frees its locks after a few seconds and schedules the deadlines itself."""
    from rq.scheduler import SCHEDULER_KEY_TEMPLATE, RQScheduler

    from reflexion.jobs.queue import ALL_QUEUES
    from reflexion.redis_conn import get_redis

    redis = get_redis(app)
    ghost = "ghost-scheduler"
    for name in ALL_QUEUES:
        redis.set(RQScheduler.get_locking_key(name), ghost, ex=60)
    redis.hset(SCHEDULER_KEY_TEMPLATE % ghost, mapping={"hostname": "another-host", "pid": "4242",
                                                         "last_heartbeat": "2026-12-02T01:00:00.000000Z"})
    worker.start()
    assert redis.get(RQScheduler.get_locking_key("timers")) == ghost.encode()  # not ours at first

    booking = _paid_booking(db, make_booking, clock.now() + timedelta(seconds=1))
    no_answer = booking.start_at + NO_ANSWER
    seen = _wait_for(db, booking, "no_show", timeout=20)  # stale after 6 s, then the timers run
    print(f"no-show seen {(seen - no_answer).total_seconds():.1f} s after its deadline (takeover)")
    assert _moves(db, booking) == [("confirmed", "due", "worker", booking.start_at),
                                   ("due", "no_show", "worker", no_answer)]
    holders = {redis.get(RQScheduler.get_locking_key(name)) for name in ALL_QUEUES}
    assert ghost.encode() not in holders and None not in holders
    assert "taking over timers" in worker.output()


def test_a_live_scheduler_elsewhere_keeps_its_locks(app, db, worker):
    """The watch does not steal from a scheduler that beats (another healthy host)."""
    import threading

    from rq.scheduler import SCHEDULER_KEY_TEMPLATE, RQScheduler

    from reflexion.jobs.queue import ALL_QUEUES
    from reflexion.redis_conn import get_redis

    redis = get_redis(app)
    other = "healthy-scheduler"
    stop = threading.Event()

    def beat():
        n = 0
        while not stop.is_set():
            n += 1
            for name in ALL_QUEUES:
                redis.set(RQScheduler.get_locking_key(name), other, ex=60)
            redis.hset(SCHEDULER_KEY_TEMPLATE % other, "last_heartbeat", f"beat {n}")
            stop.wait(1.0)

    beater = threading.Thread(target=beat, daemon=True)
    beater.start()
    try:
        time.sleep(0.3)
        worker.start()
        time.sleep(7)  # longer than the stale limit (6 s with the default 2-s heartbeat)
        assert {redis.get(RQScheduler.get_locking_key(name)) for name in ALL_QUEUES} == {other.encode()}
        assert "taking over" not in worker.output()
    finally:
        stop.set()
        beater.join(5)

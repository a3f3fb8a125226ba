"""Redis killed (kill -9, no persistence) and started again on the same socket: the running
worker notices, restarts its scheduler, and enforces every deadline again without a restart."""
import os
import signal
import time
from datetime import timedelta

import pytest

from process_helpers import start_worker, wait_until
from reflexion import clock
from reflexion.booking.models import Transition
from reflexion.redis_conn import PrivateRedis

pytestmark = pytest.mark.worker

SESSION_MINUTES, NO_ANSWER_MINUTES = 0.075, 0.04        # 4.5 s and 2.4 s
RECOVER_WITHIN = 5.0


@pytest.fixture
def own_redis(tmp_path):
    server = PrivateRedis(tmp_path / "own-redis").start()
    yield server
    server.stop()


@pytest.fixture
def app_config(app_config, own_redis):
    app_config.update(SESSION_MINUTES=SESSION_MINUTES, NO_ANSWER_MINUTES=NO_ANSWER_MINUTES, REDIS_URL=own_redis.url,
                      WORKER_HEARTBEAT_SECONDS=1.0)
    return app_config


def _state(db, booking):
    db.session.expire_all()
    return booking.state


def _moves(db, booking):
    db.session.expire_all()
    return [(t.from_state, t.to_state, t.actor, t.at) for t in booking.transitions
            if t.to_state not in ("awaiting_payment", "confirmed")]


def test_deadlines_are_enforced_again_within_5_s_of_redis_returning(app, db, make_booking, own_redis, tmp_path):
    from reflexion.booking.payments import confirm_payment
    from reflexion.redis_conn import get_redis

    worker = start_worker(app, own_redis.url, tmp_path / "worker.log", REFLEXION_SESSION_MINUTES=SESSION_MINUTES,
                          REFLEXION_NO_ANSWER_MINUTES=NO_ANSWER_MINUTES, REFLEXION_WORKER_HEARTBEAT=1)
    try:
        redis = get_redis(app)
        wait_until(lambda: redis.exists("rq:scheduler-lock:timers") and redis.hlen("reflexion:worker-heartbeats"),
                   30, 0.1, f"worker not scheduling: {worker.output()}")
        # A paid session whose timers are in Redis, then Redis dies before its start.
        missed = make_booking(clock.now() + timedelta(seconds=1))
        confirm_payment(missed)
        db.session.commit()
        os.kill(own_redis.process.pid, signal.SIGKILL)
        own_redis.process.wait(5)
        no_answer = missed.start_at + timedelta(minutes=NO_ANSWER_MINUTES)
        time.sleep(max(0.0, (no_answer - clock.now()).total_seconds()) + 0.3)
        assert _state(db, missed) == "confirmed"  # nothing ran while Redis was gone

        own_redis.start()  # same socket, empty
        back = time.monotonic()
        wait_until(lambda: _state(db, missed) == "no_show", 10, 0.05,
                   f"deadline not enforced after Redis returned: {worker.output()}")
        took = time.monotonic() - back
        print(f"overdue transitions applied {took:.2f} s after Redis returned")
        assert took < RECOVER_WITHIN
        assert worker.process.poll() is None  # nothing was restarted
        # Recorded at the deadline instants, not when the sweep ran.
        assert _moves(db, missed) == [("confirmed", "due", "worker", missed.start_at),
                                      ("due", "no_show", "worker", no_answer)]

        # The scheduler is back: a new session's timers fire on time again.
        later = make_booking(clock.now() + timedelta(seconds=1))
        confirm_payment(later)
        db.session.commit()
        deadline = later.start_at + timedelta(minutes=NO_ANSWER_MINUTES)
        wait_until(lambda: _state(db, later) == "no_show", 10, 0.05, f"timers did not resume: {worker.output()}")
        assert clock.now() - deadline < timedelta(seconds=2)
        assert app.test_client().get("/healthz").status_code == 200
        assert "scheduler restarted" in worker.output()
        assert db.session.query(Transition).filter_by(booking_id=later.id, to_state="no_show").one().at == deadline
    finally:
        worker.stop()


def test_a_lost_redis_outside_the_dequeue_does_not_end_the_worker(app, redis_server, caplog):
    """RQ's loop quits on any error raised after a job or at its suspension and maintenance
    checks; with Redis gone there, our worker logs and goes on (the dequeue then waits)."""
    import socket

    from redis import Redis

    from reflexion.jobs.queue import use_job_app
    from reflexion.jobs.worker import ReflexionWorker

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead_port = sock.getsockname()[1]
    use_job_app(app)
    try:
        worker = ReflexionWorker(["timers"], connection=Redis.from_url(redis_server.url))
        worker.connection = Redis(port=dead_port, socket_connect_timeout=0.2)  # then Redis is gone
        worker._main_pid = __import__("os").getpid()
        worker.heartbeat()                      # after a job: no exception, the worker lives on
        assert worker.check_for_suspension(False) is None
        worker.run_maintenance_tasks()
        assert "Redis is away" in caplog.text
    finally:
        use_job_app(None)


def test_when_rqs_loop_ends_on_a_lost_redis_the_worker_runs_it_again(app, redis_server, monkeypatch, caplog):
    """The loop can end on a lost Redis inside a job's bookkeeping, out of our reach: the worker
    waits for Redis and runs the loop again under a new name, instead of exiting."""
    from redis import Redis
    from redis.exceptions import ConnectionError as RedisConnectionError
    from rq import Worker

    from reflexion.jobs.queue import use_job_app
    from reflexion.jobs.worker import ReflexionWorker

    runs = []

    def loop(self, *args, **kwargs):
        runs.append(self.name)
        if len(runs) == 1:
            raise RedisConnectionError("Redis went away during a job")
        return True

    monkeypatch.setattr(Worker, "work", loop)
    use_job_app(app)
    try:
        worker = ReflexionWorker(["timers"], connection=Redis.from_url(redis_server.url))
        assert worker.work() is True
    finally:
        use_job_app(None)
    assert len(runs) == 2 and runs[0] != runs[1]
    assert "loop and scheduler restarted" in caplog.text

"""``flask worker``: an RQ worker with scheduler for this app's queues.

A plain ``rq worker --with-scheduler timers default mail`` runs our jobs too (they build their
app with :func:`reflexion.jobs.queue.job_app`); ``rq worker -w reflexion.jobs.worker.ReflexionWorker``
adds the start-up catch-up that ``flask worker`` does.
"""
import logging
import math
import os
import socket
import time
import uuid

import click
from flask import current_app
from flask.cli import with_appcontext
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq import Queue, Worker
from rq.scheduler import SCHEDULER_KEY_TEMPLATE, RQScheduler

from reflexion import clock
from reflexion.extensions import db
from reflexion.jobs import clock_jobs, heartbeat, periodic, timers
from reflexion.jobs.queue import ALL_QUEUES, job_app, use_job_app
from reflexion.processes import process_exists
from reflexion.redis_conn import get_redis, worker_redis

log = logging.getLogger(__name__)


def on_worker_start(app):
    """Catch up on everything overdue, start the periodic jobs, free stale scheduler locks."""
    with app.app_context():
        reclaim_stale_scheduler_locks(get_redis(app), ALL_QUEUES)
        periodic.run_reconcile()
        timers.restore_timers()
        periodic.start_chains(app)
        clock_jobs.start(app)
        # Work horses are forked from this process: give them no inherited database connections.
        # Return this session's connection first: dispose() closes only what is checked in, and a
        # connection still checked out would be dropped unclosed (a ResourceWarning at GC time).
        db.session.remove()
        db.engine.dispose()



def reclaim_stale_scheduler_locks(connection, queue_names) -> list[str]:
    """Drop scheduler locks held by a dead scheduler process on this host; return the queues freed.

    RQ lets a scheduler's lock expire only after 61 s, and a worker that found the lock taken
    retries only at its next maintenance run (10 min): after a crash, timers would stall.
    """
    freed = []
    hostname = socket.gethostname()
    for name in queue_names:
        lock_key = RQScheduler.get_locking_key(name)
        holder = connection.get(lock_key)
        if holder is None:
            continue
        info = connection.hgetall(SCHEDULER_KEY_TEMPLATE % holder.decode())
        host = info.get(b"hostname", b"").decode()
        pid = int(info.get(b"pid", b"0") or 0)
        if host == hostname and pid and not process_exists(pid) and connection.get(lock_key) == holder:
            connection.delete(lock_key)
            freed.append(name)
    if freed:
        log.warning("freed scheduler locks of a dead scheduler for %s", ", ".join(freed))
    return freed


#: Compare-and-delete: drop a scheduler lock only if ``holder`` still has it.
_DELETE_IF_HELD = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


def scheduler_stale_after(config) -> float:
    """Seconds a scheduler's beat may stand still before another worker takes its locks over.

    RQ's scheduler beats every second (``last_heartbeat`` in its hash); five missed beats, at
    least three of our own heartbeat intervals.
    """
    return max(5.0, 3 * float(config.get("WORKER_HEARTBEAT_SECONDS", 2)))


class SchedulerWatch:
    """Watches the scheduler locks this worker does not hold, and takes over those of a dead scheduler.

    A scheduler on another host that dies (or hangs) keeps its locks until they expire (61 s),
    and RQ tries to acquire them again only at its maintenance run every ten minutes: timers
    would stall that long. The watch notes each holder's ``last_heartbeat`` and when it last
    changed, by this process's monotonic clock (so no two hosts' clocks are compared); a beat
    that stood still for :func:`scheduler_stale_after` seconds frees the lock, and a free lock
    is acquired at once.
    """

    def __init__(self, stale_after: float, queue_names=ALL_QUEUES):
        self.stale_after, self.queue_names = stale_after, tuple(queue_names)
        self._seen = {}  # queue name -> ((holder, beat), monotonic time it was first seen)

    def free_locks(self, connection, now: float) -> list[str]:
        """Free the locks of schedulers whose beat stood still; return the queues now unlocked."""
        unlocked = []
        for name in self.queue_names:
            lock_key = RQScheduler.get_locking_key(name)
            holder = connection.get(lock_key)
            if holder is None:
                self._seen.pop(name, None)
                unlocked.append(name)
                continue
            beat = connection.hget(SCHEDULER_KEY_TEMPLATE % holder.decode(), "last_heartbeat")
            state = (holder, beat)
            seen = self._seen.get(name)
            if seen is None or seen[0] != state:
                self._seen[name] = (state, now)
                continue
            if now - seen[1] >= self.stale_after:
                if connection.eval(_DELETE_IF_HELD, 1, lock_key, holder):
                    log.warning("worker: the scheduler %s stopped beating %.0f s ago; taking over %s",
                                holder.decode(), now - seen[1], name)
                self._seen.pop(name, None)
                unlocked.append(name)
        return unlocked


#: Set by a worker after its catch-up; gone means Redis lost its data (restart without persistence).
CAUGHT_UP_KEY = "reflexion:caught-up"


class ReflexionWorker(Worker):
    """An RQ worker that catches up on overdue deadlines before it takes jobs.

    Its loop wakes at least every ``WORKER_HEARTBEAT_SECONDS`` (a short dequeue timeout) and
    then refreshes the heartbeat /healthz judges it by. It also heals what a lost Redis
    breaks: RQ restarts a dead scheduler child only every ten minutes and never re-creates the
    timers and periodic jobs that an empty Redis forgot; this worker does both on the next
    tick once Redis answers again.
    """

    #: RQ waits up to 60 s between reconnection attempts; deadlines need Redis back at once.
    max_connection_wait_time = 1.0

    def __init__(self, *args, **kwargs):
        self._beat_every = float(job_app().config.get("WORKER_HEARTBEAT_SECONDS", 2))
        # RQ blocks in BLPOP for worker_ttl - 15 s, and beats every job_monitoring_interval
        # while a job runs: make both the heartbeat interval.
        every = max(1, math.ceil(self._beat_every))
        kwargs.setdefault("worker_ttl", 15 + every)
        kwargs.setdefault("job_monitoring_interval", every)
        super().__init__(*args, **kwargs)
        self._main_pid = None
        self._scheduler_watch = SchedulerWatch(scheduler_stale_after(job_app().config))

    def work(self, *args, **kwargs):
        self._main_pid = os.getpid()
        while True:
            on_worker_start(job_app())
            self.connection.set(CAUGHT_UP_KEY, self.name)
            try:
                return super().work(*args, **kwargs)
            except RedisConnectionError:
                # RQ's loop ended on a lost Redis somewhere we do not see (inside a job's
                # bookkeeping) and its teardown could not reach Redis either. Unless asked to
                # stop, wait for Redis and run the loop again, under a new name (the old one
                # may still be registered until it expires).
                if self._stop_requested:
                    raise
                log.warning("worker: the loop ended with Redis away; waiting for Redis")
                self._wait_for_redis()
                self.name = uuid.uuid4().hex
                log.warning("worker: Redis is back; loop and scheduler restarted")
            finally:
                try:
                    heartbeat.forget(self.connection, self.name)
                except Exception:  # noqa: BLE001 - Redis away: the entry ages out
                    pass

    def _wait_for_redis(self):
        while not self._stop_requested:
            try:
                self.connection.ping()
                return
            except (RedisConnectionError, RedisTimeoutError):
                time.sleep(self.max_connection_wait_time)

    # RQ's loop quits on any error raised outside its dequeue: Redis lost right after a job (the
    # heartbeat that follows it), or at the loop's suspension and maintenance checks, would end
    # the worker for good. Redis being away is no reason to stop: the dequeue that comes next
    # waits for the connection and retries (max_connection_wait_time), and the first tick
    # after it catches up.

    def heartbeat(self, timeout=None, pipeline=None):
        if pipeline is not None:
            return super().heartbeat(timeout, pipeline)
        try:
            super().heartbeat(timeout, pipeline)
            self._tick()
        except RedisConnectionError as exc:
            log.warning("worker: Redis is away (%s); waiting for it", exc.__class__.__name__)

    def check_for_suspension(self, burst):
        try:
            return super().check_for_suspension(burst)
        except RedisConnectionError:
            return None  # not suspended as far as anyone can tell; the dequeue waits for Redis

    def run_maintenance_tasks(self):
        try:
            return super().run_maintenance_tasks()
        except RedisConnectionError as exc:
            log.warning("worker: maintenance skipped, Redis is away (%s)", exc.__class__.__name__)

    def maintain_heartbeats(self, job):
        super().maintain_heartbeats(job)
        self._tick()

    def _tick(self):
        """In the main worker process: refresh our heartbeat, heal after a lost Redis."""
        if os.getpid() != self._main_pid:
            return
        heartbeat.beat(self.connection, self.name, clock.now())
        scheduler_died = self._scheduler_died()
        redis_was_emptied = not self.connection.exists(CAUGHT_UP_KEY)
        if scheduler_died or redis_was_emptied:
            log.warning("worker: %s; catching up on overdue deadlines",
                        "Redis lost its data" if redis_was_emptied else "the scheduler had died")
            try:
                # Apply what fell due meanwhile (recorded at the deadlines), re-create the timers
                # and periodic jobs an empty Redis forgot, free the dead scheduler's locks.
                on_worker_start(job_app())
            except RedisTimeoutError as exc:  # RQ quits on a timeout but retries a lost connection
                raise RedisConnectionError(str(exc)) from exc
            except RedisConnectionError:
                raise
            except Exception:  # noqa: BLE001 - e.g. the database is away: try again next tick
                log.exception("worker: catch-up failed; trying again")
                return
            self.connection.set(CAUGHT_UP_KEY, self.name)
        if scheduler_died:
            self.scheduler.acquire_locks(auto_start=True)
            process = self.scheduler._process
            if process is not None and process.is_alive():
                log.warning("worker: scheduler restarted (pid %s)", process.pid)
            else:  # another worker schedules; the watch takes over if it dies
                self.scheduler._process = None
        else:
            self._take_over_idle_locks()

    def _take_over_idle_locks(self):
        """Without a scheduler of our own: take the locks a dead scheduler (any host) left behind."""
        if self.scheduler is None or self.scheduler._process is not None:
            return
        if self._scheduler_watch.free_locks(self.connection, time.monotonic()):
            self.scheduler.acquire_locks(auto_start=True)
            process = self.scheduler._process
            if process is not None and process.is_alive():
                log.warning("worker: scheduling now (pid %s)", process.pid)

    def _scheduler_died(self) -> bool:
        process = self.scheduler._process if self.scheduler is not None else None
        return process is not None and not process.is_alive()


@click.command("worker")
@click.option("--burst", is_flag=True, help="Run the jobs that are due, then exit.")
@with_appcontext
def worker_command(burst):
    """Run the RQ worker (with scheduler) for the timer, default and mail queues."""
    app = current_app._get_current_object()
    use_job_app(app)
    connection = worker_redis()
    queues = [Queue(name, connection=connection) for name in ALL_QUEUES]
    ReflexionWorker(queues, connection=connection).work(with_scheduler=True, burst=burst, logging_level="INFO")

"""``flask worker``: an RQ worker with scheduler for this app's queues.

A plain ``rq worker --with-scheduler timers default mail`` runs our jobs too (they build their
app with :func:`reflexion.jobs.queue.job_app`); ``rq worker -w reflexion.jobs.worker.ReflexionWorker``
adds the start-up catch-up that ``flask worker`` does.
"""
import logging
import os
import socket

import click
from flask import current_app
from flask.cli import with_appcontext
from rq import Worker
from rq.scheduler import SCHEDULER_KEY_TEMPLATE, RQScheduler

from reflexion.extensions import db
from reflexion.jobs import clock_jobs, periodic, timers
from reflexion.jobs.queue import ALL_QUEUES, get_queue, job_app, use_job_app
from reflexion.redis_conn import get_redis

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
        db.engine.dispose()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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
        if host == hostname and pid and not _alive(pid) and connection.get(lock_key) == holder:
            connection.delete(lock_key)
            freed.append(name)
    if freed:
        log.warning("freed scheduler locks of a dead scheduler for %s", ", ".join(freed))
    return freed


class ReflexionWorker(Worker):
    """An RQ worker that catches up on overdue deadlines before it takes jobs."""

    def work(self, *args, **kwargs):
        on_worker_start(job_app())
        return super().work(*args, **kwargs)


@click.command("worker")
@click.option("--burst", is_flag=True, help="Run the jobs that are due, then exit.")
@with_appcontext
def worker_command(burst):
    """Run the RQ worker (with scheduler) for the timer, default and mail queues."""
    app = current_app._get_current_object()
    use_job_app(app)
    queues = [get_queue(name) for name in ALL_QUEUES]
    ReflexionWorker(queues, connection=get_redis()).work(with_scheduler=True, burst=burst, logging_level="INFO")

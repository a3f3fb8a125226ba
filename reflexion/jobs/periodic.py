"""Periodic jobs: each run schedules the next, so a chain keeps going as long as a worker runs.

Every run gets a fresh job id (a job must not replace its own RQ record while it runs);
Redis remembers the id of the pending run under ``reflexion:periodic:<name>``. A run whose
id is not the remembered one belongs to a duplicate chain (two starters raced) and stops
without scheduling a successor, so duplicates die out by themselves.
"""
import logging
import uuid
from datetime import timedelta

from flask import current_app
from rq import get_current_job

from reflexion import clock
from reflexion.db import unit_of_work
from reflexion.jobs.queue import DEFAULT, job_app
from reflexion.jobs.reconcile import reconcile
from reflexion.jobs.scheduling import job_status, schedule_at
from reflexion.mail.tasks import requeue_unsent
from reflexion.payments.stripe_refunds import requeue_pending as requeue_pending_refunds
from reflexion.privacy.retention import purge_expired
from reflexion.redis_conn import get_redis

log = logging.getLogger(__name__)

RECONCILE = "reconcile"
PRIVACY_PURGE = "privacy-purge"
PRIVACY_PURGE_SECONDS = 6 * 3600
#: A run in one of these states will continue the chain. ("started" is not trusted: a worker
#: killed mid-run leaves its job "started" for ever; a duplicate chain dies out anyway.)
_PENDING = ("scheduled", "queued", "deferred")


def _key(name: str) -> str:
    return f"reflexion:periodic:{name}"


def schedule_next(name: str, func, seconds: float, queue: str = DEFAULT):
    """Schedule the next run of the chain ``name`` in ``seconds`` and remember its id."""
    job_id = f"periodic-{name}-{uuid.uuid4().hex[:12]}"
    get_redis().set(_key(name), job_id)
    return schedule_at(clock.now() + timedelta(seconds=seconds), func, job_id=job_id, queue=queue)


def ensure(name: str, func, seconds: float, queue: str = DEFAULT) -> bool:
    """Start the chain ``name`` unless a run of it is pending; return True if one was scheduled."""
    pending = get_redis().get(_key(name))
    if pending and job_status(pending.decode()) in _PENDING:
        return False
    schedule_next(name, func, seconds, queue)
    return True


def is_current_run(name: str) -> bool:
    """Inside a periodic job: tell whether this run is the chain's remembered one."""
    current = get_current_job()
    if current is None:
        return True
    remembered = get_redis().get(_key(name))
    return remembered is None or remembered.decode() == current.id


def ensure_reconcile():
    """Make sure the reconcile chain runs (cheap: one GET and one job lookup)."""
    try:
        ensure(RECONCILE, reconcile_job, current_app.config["RECONCILE_SECONDS"])
    except Exception:  # noqa: BLE001 - Redis away: the worker start-up catches up
        log.warning("could not check the periodic reconcile job", exc_info=True)


def start_chains(app):
    """At worker start: a fresh reconcile and privacy chain (pending runs of an earlier worker
    stop as duplicates)."""
    schedule_next(RECONCILE, reconcile_job, app.config["RECONCILE_SECONDS"])
    schedule_next(PRIVACY_PURGE, privacy_purge_job, 60)


def run_reconcile() -> int:
    """Apply overdue transitions now and commit; return how many were written."""
    with unit_of_work():
        written = reconcile()
    _requeue_lost_jobs()
    return written


def _requeue_lost_jobs():
    """E-mails and online refunds whose job Redis lost are enqueued again (reflexion.mail.tasks,
    reflexion.payments.stripe_refunds)."""
    for sweep, what in ((requeue_unsent, "unsent e-mails"), (requeue_pending_refunds, "pending online refunds")):
        try:
            with unit_of_work():
                sweep()
        except Exception:  # noqa: BLE001 - never let these sweeps stop the deadline sweep
            log.warning("could not re-enqueue %s", what, exc_info=True)


def reconcile_job():
    """Job: apply overdue transitions, then run again after ``RECONCILE_SECONDS``."""
    app = job_app()
    with app.app_context():
        if not is_current_run(RECONCILE):
            return "duplicate chain stopped"
        try:
            return run_reconcile()
        finally:
            schedule_next(RECONCILE, reconcile_job, app.config["RECONCILE_SECONDS"])


def privacy_purge_job():
    """Job: anonymise personal data past its retention period, then run again in six hours."""
    app = job_app()
    with app.app_context():
        if not is_current_run(PRIVACY_PURGE):
            return "duplicate chain stopped"
        try:
            with unit_of_work():
                counts = purge_expired()
            if any(counts.values()):
                log.info("privacy purge anonymised %d booking(s), %d message(s), %d withdrawal declaration(s)",
                         counts["bookings"], counts["messages"], counts["declarations"])
            return counts
        finally:
            schedule_next(PRIVACY_PURGE, privacy_purge_job, PRIVACY_PURGE_SECONDS)

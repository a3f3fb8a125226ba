"""Putting jobs on the queues: now, at an instant, or not at all any more.

Job ids are stable per booking and purpose (letters, digits, ``-``), so scheduling again
just moves the time, and cancelling needs nothing but the id.

Instants given to :func:`schedule_at` are business instants from :func:`reflexion.clock.now`
(system time corrected by the NTP offset); RQ's scheduler compares with the machine's own
clock, so they are shifted back by the offset before they are handed to RQ.
"""
import logging
from datetime import datetime, timezone

from rq import get_current_job
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.registry import ScheduledJobRegistry

from reflexion import clock
from reflexion.jobs.queue import TIMERS, get_queue
from reflexion.redis_conn import get_redis

log = logging.getLogger(__name__)


def is_current_job(job_id: str) -> bool:
    """Tell whether ``job_id`` is the job this process is executing right now."""
    current = get_current_job()
    return current is not None and current.id == job_id


def schedule_at(when: datetime, func, *args, job_id: str, queue: str = TIMERS, **kwargs):
    """Run ``func(*args)`` at business instant ``when`` (aware). Same ``job_id`` again moves the time.

    A job never replaces itself while it runs (RQ would overwrite the running job's record
    and then mark the new one finished); that call is skipped and returns None.
    """
    if when.tzinfo is None:
        raise ValueError("schedule_at needs an aware datetime")
    if is_current_job(job_id):
        log.debug("job %s is running; not rescheduling it from inside itself", job_id)
        return None
    cancel(job_id)
    return get_queue(queue).enqueue_at(clock.to_system_time(when).astimezone(timezone.utc), func, *args, job_id=job_id, **kwargs)


def cancel(job_id: str):
    """Cancel and forget a job, scheduled or queued; no error if it is gone already.

    The job this process is running is left alone (it finishes on its own).
    """
    if is_current_job(job_id):
        return
    connection = get_redis()
    try:
        job = Job.fetch(job_id, connection=connection)
    except NoSuchJobError:
        return
    try:
        # delete() takes the job out of its queue and of every registry (scheduled included).
        job.delete()
    except Exception:  # noqa: BLE001 - a vanished job is as good as a cancelled one
        log.debug("job %s could not be deleted", job_id, exc_info=True)


def job_status(job_id: str) -> str | None:
    """The RQ status of ``job_id`` ("scheduled", "queued", ...), or None if there is no such job."""
    try:
        job = Job.fetch(job_id, connection=get_redis())
    except NoSuchJobError:
        return None
    status = job.get_status(refresh=False)
    return getattr(status, "value", status)


def scheduled_time(job_id: str) -> datetime | None:
    """When the scheduled job ``job_id`` is due (machine clock, aware UTC), or None."""

    try:
        job = Job.fetch(job_id, connection=get_redis())
    except NoSuchJobError:
        return None
    registry = ScheduledJobRegistry(job.origin, connection=get_redis())
    try:
        return registry.get_scheduled_time(job)
    except NoSuchJobError:
        return None

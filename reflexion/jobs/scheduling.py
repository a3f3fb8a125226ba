"""Putting jobs on the queues: now, at an instant, or not at all any more.

Job ids are stable per booking and purpose (letters, digits, ``-``), so scheduling again
just moves the time, and cancelling needs nothing but the id.
"""
import logging
from datetime import datetime, timezone

from rq import Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job

from reflexion.jobs.queue import DEFAULT, TIMERS, get_queue
from reflexion.redis_conn import get_redis

log = logging.getLogger(__name__)


def enqueue(func, *args, queue: str = DEFAULT, job_id: str | None = None, retry: Retry | None = None,
            **kwargs):
    """Run ``func(*args)`` on a worker as soon as possible."""
    return get_queue(queue).enqueue(func, *args, job_id=job_id, retry=retry, **kwargs)


def schedule_at(when: datetime, func, *args, job_id: str, queue: str = TIMERS, **kwargs):
    """Run ``func(*args)`` at ``when`` (aware; RQ wants UTC). Same ``job_id`` again moves the time."""
    if when.tzinfo is None:
        raise ValueError("schedule_at needs an aware datetime")
    cancel(job_id)
    return get_queue(queue).enqueue_at(when.astimezone(timezone.utc), func, *args, job_id=job_id, **kwargs)


def cancel(job_id: str):
    """Cancel and forget a job, scheduled or queued; no error if it is gone already."""
    connection = get_redis()
    try:
        job = Job.fetch(job_id, connection=connection)
    except NoSuchJobError:
        return
    try:
        job.cancel()
    except Exception:  # already finished or running: nothing to cancel
        pass
    try:
        job.delete()
    except Exception:
        log.debug("job %s could not be deleted", job_id)

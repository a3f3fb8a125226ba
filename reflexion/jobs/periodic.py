"""Periodic jobs: they re-schedule themselves under a fixed id, so there is always one."""
import logging
from datetime import timedelta

from reflexion import clock
from reflexion.extensions import db
from reflexion.jobs.queue import DEFAULT, job_app
from reflexion.jobs.scheduling import schedule_at

log = logging.getLogger(__name__)
RECONCILE_JOB_ID = "periodic-reconcile"


def start(app):
    """At worker start: catch up on everything overdue, then start the periodic jobs."""
    with app.app_context():
        reconcile_job()
        from reflexion.jobs import clock_jobs

        clock_jobs.start(app)


def reconcile_job():
    """Job: apply overdue transitions, then run again after ``RECONCILE_SECONDS``."""
    from reflexion.jobs.reconcile import reconcile

    app = job_app()
    with app.app_context():
        try:
            reconcile()
            db.session.commit()
        finally:
            seconds = app.config["RECONCILE_SECONDS"]
            schedule_at(clock.system_utc() + timedelta(seconds=seconds), reconcile_job,
                        job_id=RECONCILE_JOB_ID, queue=DEFAULT)

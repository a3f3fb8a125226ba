"""The periodic NTP check: once at worker start, then every ``CLOCK_CHECK_MINUTES``.

A chain of :mod:`reflexion.jobs.periodic` (one pending run per installation, remembered in
Redis; a duplicate chain stops by itself). Each run schedules its successor *before* it
checks, so a check that hangs or a killed work horse does not end the chain.
"""
import logging

from reflexion.clock import ntp, restore_cached_status
from reflexion.db import unit_of_work
from reflexion.jobs.periodic import is_current_run, schedule_next
from reflexion.jobs.queue import job_app

log = logging.getLogger(__name__)

CLOCK_CHECK = "clock-check"


def start(app):
    """Run a clock check now and schedule the periodic ones."""
    with app.app_context():
        try:
            restore_cached_status(app)
        except Exception:
            log.exception("clock: could not restore the last offset from the history")
        if not app.config.get("NTP_SERVERS"):
            log.warning("clock: no NTP servers configured; business time is the unchecked system time")
            return
        schedule_next_check(app)
        run_check(app)


def clock_check_job():
    """Job: schedule the next check, then check the clock against the NTP servers."""
    app = job_app()
    with app.app_context():
        if not is_current_run(CLOCK_CHECK):
            return "duplicate chain stopped"
        schedule_next_check(app)
        return run_check(app)


def run_check(app) -> dict | None:
    """Run one check and commit it; never raise (a failed check keeps the last offset)."""

    try:
        with unit_of_work():
            result = ntp.check(app)
        return result.status
    except Exception:
        log.exception("clock: the NTP check failed")
        return None


def schedule_next_check(app):
    """Schedule the next run of the chain ``CLOCK_CHECK_MINUTES`` from now."""
    return schedule_next(CLOCK_CHECK, clock_check_job, float(app.config["CLOCK_CHECK_MINUTES"]) * 60)

"""RQ jobs that send e-mails: ids in, re-read from the database, retried with backoff.

Each e-mail is an :class:`~reflexion.mail.models.OutgoingEmail` row written in the same
transaction as the booking change that caused it, and enqueued on the ``mail`` queue only
after that commit (job id ``email-<id>``). A failed attempt records the error (without
addresses) and raises, so RQ retries after ``MAIL_RETRY_INTERVALS``; the row ends ``sent``,
``skipped`` (its moment had passed), or ``failed`` (no retries left, or an unusable address).
If Redis lost the job, :func:`requeue_unsent` (run by the periodic reconcile) enqueues it again.
"""
import logging
from datetime import datetime, timedelta

from flask import current_app
from rq import Retry, get_current_job
from rq.exceptions import NoSuchJobError
from rq.job import Job
from sqlalchemy import select

from reflexion import clock
from reflexion.booking.models import Booking
from reflexion.db import unit_of_work
from reflexion.effects import after_commit
from reflexion.extensions import db
from reflexion.jobs.queue import MAIL, get_queue, job_app
from reflexion.jobs.scheduling import cancel, schedule_at
from reflexion.mail import messages, transport
from reflexion.mail.models import OutgoingEmail
from reflexion.redis_conn import get_redis
from reflexion.conversations.deadlines import needs_reminder

log = logging.getLogger(__name__)

QUEUED, SENDING, RETRYING, SENT, SKIPPED, FAILED = "queued", "sending", "retrying", "sent", "skipped", "failed"
UNFINISHED = (QUEUED, SENDING, RETRYING)


def job_id(email_id: int) -> str:
    return f"email-{email_id}"


def reminder_job_id(booking_id: int) -> str:
    return f"booking-{booking_id}-reminder"


def retry_policy(config) -> Retry | None:
    intervals = list(config.get("MAIL_RETRY_INTERVALS") or [])
    return Retry(max=len(intervals), interval=intervals) if intervals else None


def queue_email(kind: str, *, booking=None, recipient: str | None = None, lang: str | None = None,
                once: bool = True, params: dict | None = None) -> OutgoingEmail:
    """Record an e-mail to send and enqueue its job after the commit; return the row.

    Each kind goes to a booking at most once (a receiver that runs twice for one change
    sends nothing twice): an existing row of that kind is returned instead — unless
    ``once`` is False (an e-mail the client asks for again, such as a new access key, or
    one per change, such as a move). ``params`` keeps what the e-mail must say that the
    booking will no longer know when it is sent (a move's previous start).
    """
    if kind not in messages.KINDS:
        raise ValueError(f"unknown e-mail kind {kind}")
    if once and booking is not None and booking.id is not None:
        existing = db.session.scalar(select(OutgoingEmail).where(
            OutgoingEmail.booking_id == booking.id, OutgoingEmail.kind == kind).limit(1))
        if existing is not None:
            return existing
    email = OutgoingEmail(
        booking_id=booking.id if booking is not None else None,
        kind=kind,
        recipient=recipient or booking.email,
        lang=lang or (booking.lang if booking is not None else "de"),
        status="queued",
        attempts=0,
        created_at=clock.now(),
        params=params,
    )
    db.session.add(email)
    db.session.flush()
    after_commit(enqueue_send, email.id)
    return email


def enqueue_send(email_id: int):
    """Put the send job for one e-mail on the mail queue (after the row was committed)."""
    get_queue(MAIL).enqueue(send_email, email_id, job_id=job_id(email_id),
                            retry=retry_policy(current_app.config), description=f"send e-mail {email_id}")


def send_email(email_id: int) -> str:
    """Job: build and send one e-mail; raise on a transport failure so RQ retries it."""
    app = job_app()
    with app.app_context():
        email = db.session.get(OutgoingEmail, email_id)
        if email is None:
            return "gone"
        if email.status not in UNFINISHED:
            return email.status
        # Two units of work around the one outside effect: the claim ("sending") is saved before
        # the SMTP attempt, so a crash mid-send is seen by the sweep; the outcome after it.
        with unit_of_work():
            email.attempts += 1
            email.status = SENDING
        try:
            message = messages.build(email)
        except messages.NotNeeded as exc:
            return _finish(email, SKIPPED, str(exc))
        except messages.BadRecipient as exc:
            return _finish(email, FAILED, str(exc))
        try:
            transport.send(message, email_id=email.id, kind=email.kind)
        except Exception as exc:
            job = get_current_job()
            final = job is None or not job.retries_left
            with unit_of_work():
                email.status = FAILED if final else RETRYING
                email.last_error = transport.describe_error(exc)[:300]
            log.warning("mail: e-mail %s (%s) attempt %d failed (%s)%s", email.id, email.kind, email.attempts,
                        email.last_error, "; giving up" if final else "; will retry")
            raise
        email.sent_at = clock.now()
        return _finish(email, SENT, None)


def _finish(email, status, note):
    with unit_of_work():
        email.status = status
        email.last_error = note[:300] if note else None
    if status != SENT:
        log.info("mail: e-mail %s (%s) %s: %s", email.id, email.kind, status, note)
    return status


def requeue_unsent(now: datetime | None = None, grace=timedelta(minutes=5), max_age=timedelta(days=2)) -> int:
    """Enqueue unfinished e-mails whose job Redis no longer has; return how many."""
    now = now or clock.now()
    rows = db.session.scalars(
        select(OutgoingEmail.id)
        .where(OutgoingEmail.status.in_(UNFINISHED))
        .where(OutgoingEmail.created_at <= now - grace)
        .where(OutgoingEmail.created_at >= now - max_age)
    ).all()
    connection = get_redis()
    count = 0
    for email_id in rows:
        if _job_is_alive(job_id(email_id), connection):
            continue
        enqueue_send(email_id)
        count += 1
    if count:
        log.info("mail: re-enqueued %d e-mail(s) whose job was lost", count)
    return count


def _job_is_alive(the_id: str, connection) -> bool:
    """True while RQ still holds the job in a state that will run it (queued, scheduled, running).

    A job a dead worker left behind ends in RQ's failed registry while its row still says
    'sending': that one is dropped here so it can be enqueued afresh.
    """
    try:
        job = Job.fetch(the_id, connection=connection)
    except NoSuchJobError:
        return False
    status = job.get_status(refresh=False)
    if status in ("queued", "scheduled", "started", "deferred"):
        return True
    job.delete()
    return False


# -- the reminder ----------------------------------------------------------------------

def schedule_reminder(booking_id: int, when_iso: str):
    """Schedule the reminder job at ``when_iso`` if that is still ahead (after commit)."""
    when = datetime.fromisoformat(when_iso)
    if when > clock.now():
        schedule_at(when, send_reminder, booking_id, job_id=reminder_job_id(booking_id))


def cancel_reminder(booking_id: int):
    cancel(reminder_job_id(booking_id))


def send_reminder(booking_id: int) -> str:
    """Job: queue the reminder e-mail if the session is still confirmed and ahead, once."""
    app = job_app()
    with app.app_context():
        booking = db.session.get(Booking, booking_id)
        if booking is None or not needs_reminder(booking, clock.now()):
            return "not needed"
        start = booking.start_at.isoformat()
        earlier = db.session.scalars(select(OutgoingEmail.params).where(
            OutgoingEmail.booking_id == booking_id, OutgoingEmail.kind == messages.REMINDER)).all()
        # One reminder per booked time: a booking moved after its reminder gets one for the new time.
        if any(params is None or params.get("start") == start for params in earlier):
            return "already queued"
        with unit_of_work():
            queue_email(messages.REMINDER, booking=booking, once=False, params={"start": start})
        return "queued"

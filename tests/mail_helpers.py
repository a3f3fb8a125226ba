"""Helpers for the e-mail tests: run the real worker, read the outbox, a loopback SMTP server."""
import socket
import threading
from email import message_from_bytes, policy
from pathlib import Path

from rq import SimpleWorker

from reflexion.jobs.queue import ALL_QUEUES, get_queue
from reflexion.redis_conn import get_redis


def run_worker(app):
    """A burst worker with scheduler: runs every job due now (retries with interval 0 too)."""
    queues = [get_queue(name, app) for name in ALL_QUEUES]
    SimpleWorker(queues, connection=get_redis(app)).work(burst=True, with_scheduler=True, logging_level="WARNING")


def outbox_messages(app):
    """The .eml files in the outbox, oldest first, parsed with the standard email package."""
    folder = Path(app.config["INSTANCE_DIR"]) / "outbox"
    files = sorted(folder.glob("*.eml")) if folder.exists() else []
    return [message_from_bytes(path.read_bytes(), policy=policy.default) for path in files]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RecordingHandler:
    """aiosmtpd handler: keeps every envelope; can answer the first N DATA commands with an error."""

    def __init__(self, fail_first=0, failure="451 4.3.0 Try again later"):
        self.envelopes = []
        self.fail_first = fail_first
        self.failure = failure
        self.attempts = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.attempts += 1
            if self.attempts <= self.fail_first:
                return self.failure
            self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def messages(self):
        return [message_from_bytes(env.original_content or env.content, policy=policy.default)
                for env in self.envelopes]


def parts_by_type(message):
    """Map content type -> list of leaf parts."""
    found = {}
    for part in message.walk():
        if not part.is_multipart():
            found.setdefault(part.get_content_type(), []).append(part)
    return found


def translated(app, lang, msgid, **values):
    """``msgid`` as the app says it in ``lang`` (tests stay true once the catalogs are filled)."""
    from flask_babel import force_locale, gettext

    with app.test_request_context("/"), force_locale(lang):
        return gettext(msgid, **values)


def message_of(app, email_id):
    """The outbox message of one OutgoingEmail row (its Message-ID carries the row id)."""
    found = [m for m in outbox_messages(app) if f".email{email_id}@" in m["Message-ID"]]
    assert len(found) == 1, [m["Message-ID"] for m in outbox_messages(app)]
    return found[0]


def stored_emails(booking=None, kind=None):
    """The e-mails stored for sending (all, or one booking's, or of one kind), oldest first."""
    from sqlalchemy import select

    from reflexion.extensions import db
    from reflexion.mail.models import OutgoingEmail

    db.session.expire_all()
    query = select(OutgoingEmail).order_by(OutgoingEmail.id)
    if booking is not None:
        query = query.where(OutgoingEmail.booking_id == booking.id)
    if kind:
        query = query.where(OutgoingEmail.kind == kind)
    return db.session.scalars(query).all()

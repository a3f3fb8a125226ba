"""Push notices to the operator through notification URLs (``NOTICE_URLS``), with apprise.

apprise (https://github.com/caronc/apprise) speaks ntfy, Matrix, messengers, e-mail and
many more, each configured by one URL (``ntfys://topic``, ``tgram://token/chat`` …). The
receivers here run inside the transaction that made the change and only take note; after the
commit one RQ job per URL sends the notice, retried like e-mails (``MAIL_RETRY_INTERVALS``).
Nothing here can fail the client's request: a bad URL or an unreachable service ends in the
worker's log.

Jobs carry the notice's text (a reference and times, never personal data) and a fingerprint of
the URL, not the URL itself (it often holds a token): the job looks the URL up in the settings
when it runs, so a URL removed meanwhile gets nothing.
"""
import hashlib
import logging

from flask import current_app

from reflexion import clock, notices, signals
from reflexion.effects import after_commit
from reflexion.jobs.queue import MAIL, get_queue, job_app
from reflexion.mail.tasks import retry_policy
from reflexion.redis_conn import get_redis
from reflexion.settings import setting

log = logging.getLogger(__name__)

#: At most one push about new messages per this many seconds (as for the e-mail notice).
MESSAGE_PUSH_SECONDS = 10 * 60


class PushFailed(Exception):
    """The notification service did not accept the notice (RQ retries the job)."""


def notice_urls() -> list[str]:
    """The configured notification URLs (a list, or one comma- or line-separated string)."""
    value = setting("NOTICE_URLS") or []
    if isinstance(value, str):
        value = value.replace("\n", ",").split(",")
    return [url.strip() for url in value if url and url.strip()]


def fingerprint(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:16]


def queue_push(event: str | None, booking=None):
    """Note a push notice for ``event``; its jobs are enqueued after the commit."""
    if not event:
        return
    try:
        urls = notice_urls()
        if not urls:
            return
        title, body = notices.notice_text(event, at=clock.now(),
                                          ref=booking.ref if booking is not None else None,
                                          start=booking.start_at if booking is not None else None)
        after_commit(enqueue_push, [fingerprint(url) for url in urls], title, body, event)
    except Exception:  # a notice must never break the booking or message it reports
        log.exception("push: notice %s not queued", event)


def enqueue_push(fingerprints: list[str], title: str, body: str, event: str):
    """One send job per URL (after the commit), so a failing service retries alone."""
    queue = get_queue(MAIL)
    for print_ in fingerprints:
        queue.enqueue(send_push, print_, title, body, event, retry=retry_policy(current_app.config),
                      description=f"push notice {event}")


def _throttle_key(event: str, print_: str) -> str:
    return f"reflexion:push-throttle:{event}:{print_}"


def send_push(url_fingerprint: str, title: str, body: str, event: str) -> str:
    """Job: send one notice to one notification URL; raise on failure so RQ retries."""
    app = job_app()
    with app.app_context():
        url = next((u for u in notice_urls() if fingerprint(u) == url_fingerprint), None)
        if url is None:
            return "gone"
        throttled = event == notices.NEW_MESSAGE
        if throttled and get_redis().exists(_throttle_key(event, url_fingerprint)):
            return "throttled"
        # inside: importing apprise takes about half a second; only the job that sends needs it,
        # not every process that builds the app (a plain rq worker builds one per job)
        import apprise

        notifier = apprise.Apprise()
        if not notifier.add(url):
            log.warning("push: notice URL %s is not usable; check NOTICE_URLS", url_fingerprint)
            return "unusable"  # retrying will not help
        if not notifier.notify(title=title, body=body):
            log.warning("push: notice %s to URL %s failed", event, url_fingerprint)
            raise PushFailed(f"{event} to {url_fingerprint}")
        if throttled:
            get_redis().set(_throttle_key(event, url_fingerprint), "1", ex=MESSAGE_PUSH_SECONDS)
        return "sent"


def booking_created(booking, **_):
    queue_push(notices.event_for_new_booking(booking), booking)


def state_changed(booking, entry, **_):
    queue_push(notices.event_for_state_change(booking, entry), booking)


def message_received(message, **_):
    queue_push(notices.NEW_MESSAGE)


def withdrawal_declared(declaration, **_):
    queue_push(notices.WITHDRAWAL_DECLARED)


def connect_signals():
    """Subscribe the push notices to the domain's signals (at app start)."""
    signals.booking_created.connect(booking_created)
    signals.state_changed.connect(state_changed)
    signals.message_received.connect(message_received)
    signals.withdrawal_declared.connect(withdrawal_declared)

"""Which e-mail follows which domain event.

Receivers of :mod:`reflexion.signals`, connected at app start (:func:`connect_signals`), run
inside the transaction that made the change: each e-mail becomes an ``OutgoingEmail`` row at
once and its send job is enqueued after the commit, so a rollback sends nothing and a failed
send never touches the booking or the web request.
"""
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from reflexion import clock, signals
from reflexion.booking.states import FINAL_STATES, State
from reflexion.effects import after_commit
from reflexion.extensions import db
from reflexion.mail import messages, tasks
from reflexion.mail.models import OutgoingEmail
from reflexion.mail.tasks import queue_email
from reflexion.sessions.deadlines import needs_reminder, reminder_time

#: The e-mail the client gets when their booking enters a state.
STATE_EMAILS = {
    State.CONFIRMED: messages.BOOKING_CONFIRMED,
    State.EXPIRED: messages.BOOKING_EXPIRED,
    State.CANCELLED: messages.BOOKING_CANCELLED,
}
#: At most one content-free notice to the operator per this many minutes.
OPERATOR_NOTICE_MINUTES = 10


def booking_created(booking, **_):
    """Queue the 'booking received' e-mail (with payment instructions)."""
    queue_email(messages.BOOKING_RECEIVED, booking=booking)


def state_changed(booking, entry):
    """Queue the e-mail for a state change (confirmed, expired, cancelled), if any.

    Confirmation also schedules the reminder (``booking-<id>-reminder`` at
    :func:`reflexion.sessions.deadlines.reminder_time`, only if still ahead); a final state
    cancels it.
    """
    to = State(entry.to_state)
    kind = STATE_EMAILS.get(to)
    if kind:
        queue_email(kind, booking=booking)
    if to == State.CONFIRMED and needs_reminder(booking, clock.now()):
        when = reminder_time(booking)
        if when > clock.now():
            after_commit(tasks.schedule_reminder, booking.id, when.isoformat())
    elif to in FINAL_STATES:
        after_commit(tasks.cancel_reminder, booking.id)


def booking_moved(booking, old_start, **_):
    """Queue the "updated" e-mail (old time struck, new time) and move the reminder.

    A paid booking's e-mail carries the invite updated in place (same UID, higher SEQUENCE);
    an unpaid one's states the new payment deadline.
    """
    queue_email(messages.BOOKING_UPDATED, booking=booking, once=False,
                params={"old_start": old_start.isoformat()})
    now = clock.now()
    when = reminder_time(booking)
    if needs_reminder(booking, now) and when > now:
        after_commit(tasks.schedule_reminder, booking.id, when.isoformat())
    else:
        after_commit(tasks.cancel_reminder, booking.id)


def message_received(message, **_):
    """Tell the operator that a contact message is waiting: no name, no content, no address.

    Only when ``MAIL_OPERATOR_NOTICE`` is set, and at most once per
    :data:`OPERATOR_NOTICE_MINUTES` so a burst of messages makes one notice.
    """
    address = current_app.config.get("MAIL_OPERATOR_NOTICE")
    if not address:
        return None
    since = clock.now() - timedelta(minutes=OPERATOR_NOTICE_MINUTES)
    recent = db.session.scalar(select(OutgoingEmail.id).where(
        OutgoingEmail.kind == messages.OPERATOR_NOTICE, OutgoingEmail.created_at >= since).limit(1))
    if recent:
        return None
    return queue_email(messages.OPERATOR_NOTICE, recipient=address, lang="de")


#: At most one access-key renewal e-mail per booking per this many minutes.
ACCESS_KEY_MAIL_MINUTES = 10


def access_key_link_requested(booking, lang: str) -> bool:
    """Queue the e-mail with the link to a new access key, unless one went out just now."""
    since = clock.now() - timedelta(minutes=current_app.config.get("ACCESS_KEY_MAIL_MINUTES",
                                                                   ACCESS_KEY_MAIL_MINUTES))
    recent = db.session.scalar(select(OutgoingEmail.id).where(
        OutgoingEmail.booking_id == booking.id, OutgoingEmail.kind == messages.ACCESS_KEY_LINK,
        OutgoingEmail.created_at >= since).limit(1))
    if recent is not None:
        return False
    queue_email(messages.ACCESS_KEY_LINK, booking=booking, lang=lang, once=False)
    return True


def connect_signals():
    """Subscribe the e-mails to the domain's signals (at app start; connecting twice is harmless)."""
    signals.booking_created.connect(booking_created)
    signals.state_changed.connect(state_changed)
    signals.message_received.connect(message_received)
    signals.booking_moved.connect(booking_moved)

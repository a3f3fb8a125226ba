"""Which e-mail follows which domain event.

Receivers of :mod:`reflexion.signals`, connected at app start (:func:`connect_signals`), run
inside the transaction that made the change: each e-mail becomes an ``OutgoingEmail`` row at
once and its send job is enqueued after the commit, so a rollback sends nothing and a failed
send never touches the booking or the web request.
"""
import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from reflexion import clock, notices, signals
from reflexion.booking.states import FINAL_STATES, State
from reflexion.effects import after_commit
from reflexion.extensions import db
from reflexion.mail import messages, tasks
from reflexion.mail.models import OutgoingEmail
from reflexion.mail.tasks import queue_email
from reflexion.conversations.deadlines import needs_reminder, reminder_time
from reflexion.settings import setting

log = logging.getLogger(__name__)

#: The e-mail the client gets when their booking enters a state.
STATE_EMAILS = {
    State.CONFIRMED: messages.BOOKING_CONFIRMED,
    State.EXPIRED: messages.BOOKING_EXPIRED,
    State.CANCELLED: messages.BOOKING_CANCELLED,
}
#: At most one content-free notice to the operator per this many minutes.
OPERATOR_NOTICE_MINUTES = 10


def booking_created(booking, **_):
    """Queue the 'booking received' e-mail (with payment instructions), and the operator's notice."""
    queue_email(messages.BOOKING_RECEIVED, booking=booking)
    queue_operator_notice(notices.event_for_new_booking(booking), booking)


def state_changed(booking, entry):
    """Queue the e-mail for a state change (confirmed, expired, cancelled), if any.

    Confirmation also schedules the reminder (``booking-<id>-reminder`` at
    :func:`reflexion.conversations.deadlines.reminder_time`, only if still ahead); a final state
    cancels it.
    """
    to = State(entry.to_state)
    kind = STATE_EMAILS.get(to)
    if kind:
        queue_email(kind, booking=booking)
    queue_operator_notice(notices.event_for_state_change(booking, entry), booking)
    if to == State.CONFIRMED and needs_reminder(booking, clock.now()):
        when = reminder_time(booking)
        if when > clock.now():
            after_commit(tasks.schedule_reminder, booking.id, when.isoformat())
    elif to in FINAL_STATES:
        after_commit(tasks.cancel_reminder, booking.id)


#: ``MAIL_OPERATOR_NOTICE`` values that switch the e-mail notices off.
NOTICES_OFF = frozenset({"off", "none", "no", "0", "-"})


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


def operator_notice_address() -> str | None:
    """Where the operator's notices go: ``MAIL_OPERATOR_NOTICE``, else the contact e-mail; "off": nowhere."""
    address = (setting("MAIL_OPERATOR_NOTICE") or "").strip()
    if address.lower() in NOTICES_OFF:
        return None
    return address or (setting("CONTACT_EMAIL") or "").strip() or None


def queue_operator_notice(event: str | None, booking=None):
    """Queue the content-free notice e-mail for ``event`` (:mod:`reflexion.notices`), if any.

    A booking's notice goes once per event; message notices at most once per
    :data:`OPERATOR_NOTICE_MINUTES`, so a burst of messages makes one notice. Written in a
    savepoint: whatever goes wrong with a notice, the client's booking or message is saved.
    """
    address = operator_notice_address() if event else None
    if not address:
        return None
    kind = messages.NOTICE_KINDS[event]
    try:
        with db.session.begin_nested():
            if booking is None:
                since = clock.now() - timedelta(minutes=OPERATOR_NOTICE_MINUTES)
                recent = db.session.scalar(select(OutgoingEmail.id).where(
                    OutgoingEmail.kind == kind, OutgoingEmail.created_at >= since).limit(1))
                if recent:
                    return None
            return queue_email(kind, booking=booking, recipient=address, lang=notices.NOTICE_LANG)
    except Exception:
        log.exception("mail: operator notice %s for booking %s not queued", event,
                      booking.id if booking is not None else "-")
        return None


def withdrawal_declared(declaration, **_):
    """The acknowledgment of receipt to the address given (matched or not), and the operator's notice."""
    queue_email(messages.WITHDRAWAL_RECEIVED, recipient=declaration.email, lang=declaration.lang, once=False,
                params={"declaration_id": declaration.id})
    queue_operator_notice(notices.WITHDRAWAL_DECLARED)


def message_received(message, **_):
    """Tell the operator that a contact message is waiting: no name, no content, no address."""
    return queue_operator_notice(notices.NEW_MESSAGE)


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
    signals.withdrawal_declared.connect(withdrawal_declared)

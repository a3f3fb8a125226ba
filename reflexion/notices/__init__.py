"""Notices to the operator: which events they report, and what they say.

Five events tell the operator that something happened without them: a client booked, a fee
was confirmed as paid, a client cancelled, a contact message arrived, a withdrawal was declared. A notice carries the
booking reference and times (with their zone) — never a name, an address, a handle, a message
or confirmation data — so it may travel by plain e-mail (``mail.notify``, to
``MAIL_OPERATOR_NOTICE``) and by push services (``notices.push``, to ``NOTICE_URLS``).
Notices are written in German, the operator panel's language.
"""
from flask_babel import force_locale, gettext as _

from reflexion.booking.states import Actor, State
from reflexion.i18n import format_instant

NEW_BOOKING = "new_booking"
PAYMENT_CONFIRMED = "payment_confirmed"
CLIENT_CANCELLED = "client_cancelled"
NEW_MESSAGE = "new_message"
WITHDRAWAL_DECLARED = "withdrawal_declared"
EVENTS = (NEW_BOOKING, PAYMENT_CONFIRMED, CLIENT_CANCELLED, NEW_MESSAGE, WITHDRAWAL_DECLARED)

#: The language notices are written in.
NOTICE_LANG = "de"


def event_for_new_booking(booking) -> str | None:
    """A client's own booking is news to the operator; one the operator made is not."""
    return NEW_BOOKING if booking.created_by == Actor.CLIENT.value else None


def event_for_state_change(booking, entry) -> str | None:
    """The notice a state change makes: payment confirmed, or a cancellation by the client."""
    to = State(entry.to_state)
    if to == State.CONFIRMED and entry.from_state == State.AWAITING_PAYMENT.value:
        return PAYMENT_CONFIRMED
    if to == State.CANCELLED and entry.actor == Actor.CLIENT.value:
        return CLIENT_CANCELLED
    return None


def notice_text(event: str, *, at, ref: str | None = None, start=None) -> tuple[str, str]:
    """The notice's title and body (German), from a reference and instants only.

    Needs an app context; the times are practice time with their zone (MEZ/MESZ).
    """
    with force_locale(NOTICE_LANG):
        when = format_instant(at, "full", NOTICE_LANG)
        session = format_instant(start, "full", NOTICE_LANG) if start is not None else ""
        if event == NEW_BOOKING:
            return (_("New booking %(ref)s", ref=ref),
                    _("A client booked the session on %(start)s (reference %(ref)s) at %(at)s. "
                      "It awaits payment.", start=session, ref=ref, at=when))
        if event == PAYMENT_CONFIRMED:
            return (_("Payment confirmed: %(ref)s", ref=ref),
                    _("The fee for booking %(ref)s (session on %(start)s) was confirmed as paid at %(at)s.",
                      ref=ref, start=session, at=when))
        if event == CLIENT_CANCELLED:
            return (_("Booking %(ref)s cancelled by the client", ref=ref),
                    _("The client cancelled booking %(ref)s (session on %(start)s) at %(at)s. "
                      "The time is free again.", ref=ref, start=session, at=when))
        if event == NEW_MESSAGE:
            return (_("A new message is waiting in the operator panel"),
                    _("A new message arrived through the contact form at %(at)s. For privacy it is not "
                      "sent here; read it in the operator panel.", at=when))
        if event == WITHDRAWAL_DECLARED:
            return (_("A withdrawal was declared"),
                    _("A withdrawal was declared through the withdrawal function at %(at)s. The declaration "
                      "and what became of it are listed in the operator panel.", at=when))
    raise ValueError(f"unknown notice event {event}")

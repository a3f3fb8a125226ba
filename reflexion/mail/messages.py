"""Building the e-mails: which kinds exist, what each says, and the MIME structure.

E-mails carry links and times only (PRODUCT.md §2.12): never the confirmation data, never
the access key, never the contents of a message. Each is rendered in the client's language
from ``templates/emails/<kind>.txt`` and ``.html`` at send time, from the booking as it is
then; an e-mail whose moment has passed (a confirmation for a booking that was cancelled
meanwhile) raises :class:`NotNeeded` instead of being sent.

Structure (what mail clients expect for invites)::

    multipart/mixed
      multipart/alternative
        text/plain; charset=utf-8
        text/html; charset=utf-8
        text/calendar; charset="UTF-8"; method=REQUEST|CANCEL     (invites only)
      application/ics; name="invite.ics"                            (invites only)
      application/pdf; name="…pdf"                                  (the receipt, with the confirmation)

An e-mail with a picture (the payment QR code in "booking received") carries it inline, so
the HTML part becomes ``multipart/related`` (``text/html`` + ``image/png`` with a
``Content-ID`` the HTML names as ``cid:…``); the text part does without it.

Headers are set through :mod:`email.headerregistry` (``EmailMessage`` with the default
policy), which refuses CR/LF in any header; the recipient is validated before that and no
client-typed text is put into a header at all.
"""
import secrets
from contextlib import contextmanager
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from email_validator import EmailNotValidError, validate_email
from flask import current_app, g, render_template, url_for
from flask_babel import force_locale, gettext as _

from reflexion import clock, notices
from reflexion.booking.models import Booking, WithdrawalDeclaration
from reflexion.booking.states import CONFIRMED_STATES, LIVE_STATES, State
from reflexion.calendar.invite import CANCEL, REQUEST, clean_text, invite_bytes
from reflexion.extensions import db
from reflexion.i18n import format_instant, format_money
from reflexion.platforms import booked_call
from reflexion.conversations.deadlines import needs_reminder
from reflexion.booking.access import new_key_token
from reflexion.booking.payment_qr import payment_qr
from reflexion.receipts import documents as receipts
from reflexion.conversations.deadlines import no_answer_window, session_length
from reflexion.settings import setting

BOOKING_RECEIVED = "booking_received"
BOOKING_CONFIRMED = "booking_confirmed"
REMINDER = "reminder"
BOOKING_EXPIRED = "booking_expired"
BOOKING_CANCELLED = "booking_cancelled"
OPERATOR_NOTICE = "operator_notice"  # a contact message is waiting
OPERATOR_NOTICE_BOOKED = "operator_notice_booked"
OPERATOR_NOTICE_PAID = "operator_notice_paid"
OPERATOR_NOTICE_CANCELLED = "operator_notice_cancelled"
ACCESS_KEY_LINK = "access_key_link"  # a link to a new access key, never the key itself
BOOKING_UPDATED = "booking_updated"  # the booking was moved: old time struck, new time
OPERATOR_NOTICE_WITHDRAWAL = "operator_notice_withdrawal"
#: The acknowledgment of receipt of a withdrawal declaration (to the address given, booking or not)
WITHDRAWAL_RECEIVED = "withdrawal_received"
KINDS = (BOOKING_RECEIVED, BOOKING_CONFIRMED, REMINDER, BOOKING_EXPIRED, BOOKING_CANCELLED, OPERATOR_NOTICE,
         OPERATOR_NOTICE_BOOKED, OPERATOR_NOTICE_PAID, OPERATOR_NOTICE_CANCELLED, ACCESS_KEY_LINK, BOOKING_UPDATED,
         OPERATOR_NOTICE_WITHDRAWAL, WITHDRAWAL_RECEIVED)
#: Operator notices about no booking (their e-mail row has none).
BOOKINGLESS_NOTICES = frozenset({OPERATOR_NOTICE, OPERATOR_NOTICE_WITHDRAWAL})

#: The operator's content-free notices (:mod:`reflexion.notices`), one e-mail kind per event;
#: all share the ``operator_notice`` templates.
NOTICE_KINDS = {
    notices.NEW_MESSAGE: OPERATOR_NOTICE,
    notices.NEW_BOOKING: OPERATOR_NOTICE_BOOKED,
    notices.PAYMENT_CONFIRMED: OPERATOR_NOTICE_PAID,
    notices.CLIENT_CANCELLED: OPERATOR_NOTICE_CANCELLED,
    notices.WITHDRAWAL_DECLARED: OPERATOR_NOTICE_WITHDRAWAL,
}
NOTICE_EVENTS = {kind: event for event, kind in NOTICE_KINDS.items()}
OPERATOR_NOTICE_KINDS = frozenset(NOTICE_KINDS.values())

#: The invite method each kind carries, if any (only to a client who was sent the invite).
INVITE_METHOD = {BOOKING_CONFIRMED: REQUEST, BOOKING_CANCELLED: CANCEL, BOOKING_UPDATED: REQUEST}


def had_invite(booking) -> bool:
    """The client was sent the invite: it goes out with the confirmation of the payment."""
    return booking.confirmed_at is not None


def invite_method_for(kind: str, booking) -> str | None:
    """The invite an e-mail of ``kind`` carries: a CANCEL or an update only for an invite the client has."""
    method = INVITE_METHOD.get(kind)
    if method and kind != BOOKING_CONFIRMED and not had_invite(booking):
        return None
    return method



class NotNeeded(Exception):
    """The e-mail's moment has passed (the booking moved on or is gone): skip it."""


class BadRecipient(Exception):
    """The recipient address cannot be used; retrying will not help."""


@contextmanager
def mail_context(lang: str):
    """Render as for a visitor of ``lang`` on the public site (links from ``PUBLIC_URL``)."""
    app = current_app._get_current_object()
    with app.test_request_context("/", base_url=app.config["PUBLIC_URL"]):
        missing = object()
        before = g.get("lang", missing)
        g.lang = lang
        try:
            with force_locale(lang):
                yield
        finally:
            if before is missing:
                g.pop("lang", None)
            else:
                g.lang = before


def checked_recipient(text: str) -> str:
    """Return the normalised address, or raise :class:`BadRecipient` (CR/LF, spaces, no domain...)."""
    text = text or ""
    if text != clean_text(text, 254) or any(ch.isspace() for ch in text):
        raise BadRecipient("control characters or spaces in the address")
    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise BadRecipient("not a valid address") from exc


def still_needed(kind: str, booking, now) -> None:
    """Raise :class:`NotNeeded` unless an e-mail of ``kind`` still makes sense for ``booking``."""
    if kind in BOOKINGLESS_NOTICES or kind == WITHDRAWAL_RECEIVED:
        return  # a receipt is owed whatever became of the booking
    if kind in OPERATOR_NOTICE_KINDS:
        if booking is None:
            raise NotNeeded("the booking is gone")
        return  # a notice reports what happened, whatever the booking did since
    if booking is None or booking.anonymised_at is not None:
        raise NotNeeded("the booking is gone")
    state = State(booking.state)
    if kind == BOOKING_RECEIVED and state != State.AWAITING_PAYMENT:
        # Paid meanwhile (an operator booking made as paid): the confirmation says it all; a
        # lapsed or cancelled booking has its own e-mail.
        raise NotNeeded("the booking no longer awaits payment")
    if kind == BOOKING_CONFIRMED and (state not in CONFIRMED_STATES or booking.end_at <= now):
        raise NotNeeded("the booking is no longer confirmed and upcoming")
    if kind == REMINDER and not needs_reminder(booking, now):
        raise NotNeeded("nothing to remind of")
    if kind == BOOKING_EXPIRED and state != State.EXPIRED:
        raise NotNeeded("the booking did not lapse")
    if kind == BOOKING_CANCELLED and state != State.CANCELLED:
        raise NotNeeded("the booking is not cancelled")
    if kind == BOOKING_UPDATED and (state not in LIVE_STATES or booking.end_at <= now):
        raise NotNeeded("the booking is no longer upcoming")


def _cancelled_by(booking) -> str | None:
    for entry in reversed(booking.transitions):
        if entry.to_state == State.CANCELLED.value:
            return entry.actor
    return None


def _notice(kind: str, booking, event_at) -> tuple[str, str]:
    """Title and body of an operator notice: reference and times only."""
    return notices.notice_text(NOTICE_EVENTS[kind], at=event_at or clock.now(),
                               ref=booking.ref if booking is not None else None,
                               start=booking.start_at if booking is not None else None)


def _subject(kind: str, booking, lang: str, event_at=None) -> str:
    if kind in OPERATOR_NOTICE_KINDS:
        return _notice(kind, booking, event_at)[0]
    if kind == WITHDRAWAL_RECEIVED:
        return _("We have received your withdrawal")
    start = format_instant(booking.start_at, "short", lang)
    return {
        BOOKING_RECEIVED: lambda: _("Booking %(ref)s received: please pay by %(deadline)s",
                                    ref=booking.ref, deadline=format_instant(booking.payment_deadline, "short", lang)),
        BOOKING_CONFIRMED: lambda: _("Confirmed: your video call on %(start)s", start=start),
        REMINDER: lambda: _("Reminder: your video call on %(start)s", start=start),
        BOOKING_EXPIRED: lambda: _("Your reservation %(ref)s has lapsed", ref=booking.ref),
        BOOKING_CANCELLED: lambda: _("Cancelled: your booking %(ref)s on %(start)s", ref=booking.ref, start=start),
        ACCESS_KEY_LINK: lambda: _("A new access key for your booking %(ref)s", ref=booking.ref),
        BOOKING_UPDATED: lambda: _("Changed: your video call is now on %(start)s", start=start),
    }[kind]()


def _context(kind: str, booking, lang: str, event_at=None, params: dict | None = None) -> dict:
    config = current_app.config
    context = {
        "kind": kind,
        "lang": lang,
        "brand": setting("BRAND"),
        "contact_email": setting("CONTACT_EMAIL"),
        "contact_phone": setting("CONTACT_PHONE"),
        "contact_url": url_for("pages.contact", lang=lang, _external=True),
        "privacy_url": url_for("pages.privacy", lang=lang, _external=True),
        "book_url": url_for("booking.calendar", lang=lang, _external=True),
    }
    if kind == WITHDRAWAL_RECEIVED:
        context.update(_withdrawal_context(params, lang))
        return context
    context.update(
        # A booking's e-mails quote the rules it was booked under
        session_minutes=int(session_length(booking).total_seconds() // 60),
        no_answer_minutes=int(no_answer_window(booking).total_seconds() // 60),
    )
    if kind in OPERATOR_NOTICE_KINDS:
        context["operator_url"] = url_for("operator.dashboard", _external=True)
        context["notice"] = _notice(kind, booking, event_at)[1]
        return context
    call = booked_call(booking)
    context.update(
        booking=booking,
        # The booked platform and who calls from which handle on it (reflexion/platforms)
        call=call,
        platform=call.name,
        operator_handle=call.operator_handle,
        ref=booking.ref,
        start=format_instant(booking.start_at, "full", lang),
        end=format_instant(booking.end_at, "time", lang),
        booking_url=url_for("booking.booking_page", ref=booking.ref, lang=lang, _external=True),
        deadline=format_instant(booking.payment_deadline, "full", lang),
    )
    if kind == BOOKING_RECEIVED:
        context.update(
            awaiting_payment=booking.state == State.AWAITING_PAYMENT.value,
            # A client booked by the operator never saw an access key.
            booked_by_operator=booking.created_by == "operator",
            lost_key_url=url_for("booking.lost_key", ref=booking.ref, lang=lang, _external=True),
            amount=format_money(booking.fee_cents, booking.currency, lang),
            bank_holder=setting("BANK_ACCOUNT_HOLDER"), bank_iban=setting("BANK_IBAN"), bank_bic=setting("BANK_BIC"),
        )
    if kind == ACCESS_KEY_LINK:

        context.update(
            new_key_url=url_for("booking.new_key", ref=booking.ref, token=new_key_token(booking), lang=lang,
                                _external=True),
            link_minutes=int(config.get("ACCESS_KEY_LINK_MINUTES", 60)),
        )
    if kind == BOOKING_CANCELLED:
        context.update(cancelled_by=_cancelled_by(booking), was_paid=bool(booking.payments),
                       had_invite=had_invite(booking),
                       refund=format_money(booking.refund_cents, booking.currency, lang)
                       if booking.refund_cents else None)
    if kind == BOOKING_UPDATED:
        old_start = (params or {}).get("old_start")
        old = datetime.fromisoformat(old_start) if old_start else None
        context.update(
            old_start=format_instant(old, "full", lang) if old else None,
            awaiting_payment=booking.state == State.AWAITING_PAYMENT.value,
            had_invite=had_invite(booking),
        )
    return context


def _withdrawal_context(params, lang) -> dict:
    """What the acknowledgment of a withdrawal repeats: the declaration as given, its date and time
    (with zone), and — only when it named the booking of that address — what became of it."""
    declaration = db.session.get(WithdrawalDeclaration, (params or {}).get("declaration_id"))
    if declaration is None:
        raise NotNeeded("the declaration is gone")
    booking = declaration.booking
    matched = booking is not None and declaration.outcome != "no_match"
    return {
        "declaration": declaration,
        "declared_at": format_instant(declaration.declared_at, "full", lang),
        "outcome": declaration.outcome if matched else None,
        "start": format_instant(booking.start_at, "full", lang) if matched else None,
        "refund": format_money(booking.refund_cents, booking.currency, lang)
        if matched and booking.refund_cents else None,
        "terms_url": url_for("pages.terms", lang=lang, _external=True) + "#withdrawal",
    }


def render(kind: str, booking, lang: str, now=None, event_at=None, params: dict | None = None) -> dict:
    """Subject, text, html and (for invites) the calendar bytes and method, in ``lang``.

    ``event_at``: when what an operator notice reports happened (the row's creation).
    """
    template = OPERATOR_NOTICE if kind in OPERATOR_NOTICE_KINDS else kind
    with mail_context(lang):
        context = _context(kind, booking, lang, event_at, params)
        related, attachments = [], []
        if kind == BOOKING_RECEIVED and context.get("awaiting_payment"):
            qr = payment_qr(booking)
            if qr is not None:
                # Short, so the Content-ID header is never folded (some clients mishandle that).
                cid = f"qr-{booking.ref}.{secrets.token_hex(4)}@{_sender_domain()}"
                context["payment_qr_cid"] = cid
                related.append({"cid": cid, "data": qr.png, "subtype": "png", "filename": "girocode.png"})
        if kind == BOOKING_CONFIRMED:
            receipt = receipts.receipt_for(booking)
            if receipt is not None:
                attachments.append({"data": receipts.pdf_bytes(receipt), "maintype": "application",
                                    "subtype": "pdf", "filename": receipts.filename(receipt)})
        rendered = {
            "subject": clean_text(_subject(kind, booking, lang, event_at), 250),
            "text": render_template(f"emails/{template}.txt", **context),
            "html": render_template(f"emails/{template}.html", **context),
            "method": invite_method_for(kind, booking) if booking is not None else None,
            "calendar": None,
            "related": related,
            "attachments": attachments,
        }
        if rendered["method"]:
            rendered["calendar"] = invite_bytes(booking, rendered["method"], lang=lang, now=now)
    return rendered


def _sender_domain() -> str:
    return parseaddr(setting("MAIL_DEFAULT_SENDER"))[1].rpartition("@")[2] or "localhost"


def compose(*, subject: str, recipient: str, text: str, html: str, lang: str, calendar: bytes | None = None,
            method: str | None = None, message_key: str | None = None, related=(), attachments=()) -> EmailMessage:
    """Assemble the MIME message; ``recipient`` must have passed :func:`checked_recipient`.

    ``related``: inline images of the HTML part (dicts with ``cid``, ``data``, ``subtype``,
    ``filename``); ``attachments``: files (``data``, ``maintype``, ``subtype``, ``filename``).
    """
    sender = setting("MAIL_DEFAULT_SENDER")
    domain = _sender_domain()
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = Address(addr_spec=recipient)
    message["Date"] = format_datetime(clock.now())
    message["Message-ID"] = make_msgid(idstring=message_key, domain=domain)
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    message.set_content(text, cte="quoted-printable")
    message.add_alternative(html, subtype="html", cte="quoted-printable")
    if related:
        html_part = message.get_payload()[-1]
        for image in related:  # turns the HTML part into multipart/related
            html_part.add_related(image["data"], maintype="image", subtype=image["subtype"],
                                  cid=f"<{image['cid']}>", filename=image["filename"], disposition="inline")
    if calendar is not None:
        method = (method or REQUEST).upper()
        message.add_alternative(calendar, maintype="text", subtype="calendar", cte="base64")
        part = message.get_payload()[-1]
        # Written the way Gmail and Outlook write it: method unquoted, charset named.
        part.replace_header("Content-Type", f'text/calendar; charset="UTF-8"; method={method}')
        message.add_attachment(calendar, maintype="application", subtype="ics", filename="invite.ics",
                               params={"name": "invite.ics"})
    for attachment in attachments:
        message.add_attachment(attachment["data"], maintype=attachment["maintype"], subtype=attachment["subtype"],
                               filename=attachment["filename"])
    for part in message.walk():
        if part is not message and "MIME-Version" in part:
            del part["MIME-Version"]
    message["Content-Language"] = lang  # after the body: set_content() clears Content-* headers
    return message


def build(email) -> EmailMessage:
    """The message for an :class:`~reflexion.mail.models.OutgoingEmail` row, as it should go out now.

    Raises :class:`NotNeeded` when its moment has passed and :class:`BadRecipient` when the
    address is unusable.
    """

    booking = db.session.get(Booking, email.booking_id) if email.booking_id else None
    now = clock.now()
    still_needed(email.kind, booking, now)
    recipient = checked_recipient(email.recipient)
    rendered = render(email.kind, booking, email.lang, now=now, event_at=email.created_at, params=email.params)
    return compose(subject=rendered["subject"], recipient=recipient, text=rendered["text"],
                   html=rendered["html"], lang=email.lang, calendar=rendered["calendar"],
                   method=rendered["method"], message_key=f"email{email.id}", related=rendered["related"],
                   attachments=rendered["attachments"])
